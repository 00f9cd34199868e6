import { toBase64 } from '../../../core/base64.js';
import { unfaithful } from '../../../serialization/unfaithful.js';
import { encodeName } from './names.js';
import { checkText } from './tree.js';
import { ANY, type XmlType } from './xml-type.js';

/** Deepest nesting written, as deep as a reader with the default decode limits reads. */
const MAX_DEPTH = 100;

/**
 * A value as the element `name` (a prefixed name is written as given), by the mapping in
 * docs/http.md ("XML"): every value that is not a string says its type with `xsi:type`, so it reads
 * back unchanged. `attributes` go on the element as written (namespace declarations of a root).
 * Throws a TypeError for what XML cannot carry: the values JSON refuses, cycles, functions and
 * symbols (left out as object fields, as JSON does), and characters XML 1.0 has no form for.
 *
 * With `expected` (the type a WSDL declares), a value of that very type goes without `xsi:type`, as
 * other SOAP stacks write and read it; a value of another type keeps its `xsi:type`.
 */
export function encodeElement(name: string, value: unknown, attributes = '', expected: XmlType = ANY): string {
  const out: string[] = [];
  write(out, name, value, attributes, [], '', expected);
  return out.join('');
}

/** `&`, `<`, `>` and CR escaped, for text; double quotes too, for an attribute value. */
export function escapeXml(text: string, attribute = false): string {
  checkText(text);
  const special = attribute ? /[&<>"\r]/g : /[&<>\r]/g;
  return special.test(text) ? text.replace(special, (c) => ESCAPES[c]!) : text;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\r': '&#13;' };

function write(out: string[], name: string, raw: unknown, attributes: string, path: object[], key: string, expected: XmlType): void {
  let value = raw;
  if (typeof value === 'object' && value !== null && !isBuiltin(value) && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(key: string): unknown }).toJSON(key);
  }
  switch (typeof value) {
    case 'string':
      out.push(`<${name}${attributes}>${escapeXml(value)}</${name}>`);
      return;
    case 'number':
      return typed(out, name, attributes, declared(expected, 'number') || (expected.kind === 'integer' && Number.isSafeInteger(value)) ? '' : 'xsd:double', numberText(value));
    case 'boolean':
      return typed(out, name, attributes, declared(expected, 'boolean') ? '' : 'xsd:boolean', String(value));
    case 'bigint':
      return typed(out, name, attributes, declared(expected, 'bigint') ? '' : 'xsd:integer', value.toString());
    case 'undefined':
      out.push(`<${name}${attributes} xsi:type="sy:undefined"/>`);
      return;
    case 'function':
    case 'symbol':
      throw new TypeError(`XML has no form for a ${typeof value}${at(key)}`);
  }
  if (value === null) {
    out.push(`<${name}${attributes} xsi:nil="true"/>`);
    return;
  }
  const object = value as object;
  if (object instanceof Uint8Array) return typed(out, name, attributes, declared(expected, 'bytes') ? '' : 'xsd:base64Binary', toBase64(object));
  if (object instanceof Date) {
    if (Number.isNaN(object.getTime())) throw new TypeError(`XML cannot carry an invalid Date${at(key)}`);
    return typed(out, name, attributes, declared(expected, 'date') ? '' : 'xsd:dateTime', object.toISOString());
  }
  const refused = unfaithful(object);
  if (refused !== undefined) throw new TypeError(`XML cannot carry ${refused.what}${at(key)}: ${refused.instead}`);
  if (path.includes(object)) throw new TypeError(`XML cannot carry a cycle${at(key)}`);
  if (path.length >= MAX_DEPTH) throw new TypeError(`XML is not written deeper than ${MAX_DEPTH} levels`);
  path.push(object);
  if (Array.isArray(object)) {
    const items = expected.kind === 'array' ? expected : undefined;
    out.push(`<${name}${attributes}${items === undefined ? ' xsi:type="sy:array"' : ''}>`);
    for (let i = 0; i < object.length; i++) write(out, 'item', object[i], '', path, String(i), items?.prefix?.[i] ?? items?.item ?? ANY);
  } else if (object instanceof Map) {
    out.push(`<${name}${attributes} xsi:type="sy:map">`);
    for (const [k, v] of object) {
      out.push('<entry>');
      write(out, 'key', k, '', path, 'key', ANY);
      write(out, 'value', v, '', path, String(k), ANY);
      out.push('</entry>');
    }
  } else if (object instanceof Set) {
    out.push(`<${name}${attributes} xsi:type="sy:set">`);
    for (const item of object) write(out, 'item', item, '', path, 'item', ANY);
  } else {
    const fields = expected.kind === 'object' ? expected.fields : undefined;
    out.push(`<${name}${attributes}${fields === undefined ? ' xsi:type="sy:object"' : ''}>`);
    for (const field of Object.keys(object)) {
      const item = (object as Record<string, unknown>)[field];
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
      write(out, encodeName(field), item, '', path, field, fields?.get(field)?.type ?? ANY);
    }
  }
  path.pop();
  out.push(`</${name}>`);
}

function typed(out: string[], name: string, attributes: string, type: string, text: string): void {
  out.push(type === '' ? `<${name}${attributes}>${text}</${name}>` : `<${name}${attributes} xsi:type="${type}">${text}</${name}>`);
}

function declared(expected: XmlType, kind: XmlType['kind']): boolean {
  return expected.kind === kind;
}

/** xsd:double's forms: `INF`, `-INF`, `NaN`, `-0`, and JavaScript's own text for the rest (`1e+21` is valid). */
export function numberText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'INF';
  if (value === -Infinity) return '-INF';
  return Object.is(value, -0) ? '-0' : String(value);
}

/** Objects written by their own rule, whatever their toJSON says. */
function isBuiltin(value: object): boolean {
  return value instanceof Uint8Array || value instanceof Date || value instanceof Map || value instanceof Set;
}

function at(key: string): string {
  return key === '' ? '' : ` (at key ${JSON.stringify(key)})`;
}
