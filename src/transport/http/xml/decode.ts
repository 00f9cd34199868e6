import { fromBase64 } from '../../../core/base64.js';
import { Code } from '../../../core/code.js';
import { RpcError } from '../../../core/rpc-error.js';
import { MAX_BIGINT_DIGITS } from '../../../serialization/json.js';
import { SY, XSD, XSI } from './namespaces.js';
import { decodeName } from './names.js';
import { resolveQName, textOf, type XmlElement } from './tree.js';
import { ANY, type XmlField, type XmlType } from './xml-type.js';

const NIL = `{${XSI}}nil`;
const TYPE = `{${XSI}}type`;

/**
 * The value an element holds, by the mapping in docs/http.md ("XML"): its `xsi:type` (or
 * `xsi:nil`) when it has one, else what `expected` says (a method's schema), else text is a string
 * and children make an object. Anything that does not fit is refused with INVALID_ARGUMENT. The
 * depth is the parser's (tree.ts), so this recursion is bounded.
 */
export function decodeElement(element: XmlElement, expected: XmlType = ANY): unknown {
  const nil = element.attributes.get(NIL);
  if (nil !== undefined && (nil.trim() === 'true' || nil.trim() === '1')) return null;
  const type = element.attributes.get(TYPE);
  if (type !== undefined) {
    const { ns, local } = resolveQName(element, type.trim());
    if (ns === XSD) return decodeXsd(element, local);
    if (ns === SY) return decodeOwn(element, local, expected);
    throw invalid(element, `has the unknown type ${JSON.stringify(type)}`);
  }
  switch (expected.kind) {
    case 'any':
    case 'null':
      return element.children.length > 0 ? decodeObject(element, undefined) : textOf(element);
    case 'string':
      return leafText(element);
    case 'number':
      return decodeXsd(element, 'double');
    case 'integer':
      return decodeXsd(element, 'long');
    case 'bigint':
      return decodeXsd(element, 'integer');
    case 'boolean':
      return decodeXsd(element, 'boolean');
    case 'date':
      return decodeXsd(element, 'dateTime');
    case 'bytes':
      return decodeXsd(element, 'base64Binary');
    case 'array':
      return element.children.map((child, i) => decodeElement(child, expected.prefix?.[i] ?? expected.item));
    case 'object':
      return decodeObject(element, expected.fields);
  }
}

function decodeOwn(element: XmlElement, type: string, expected: XmlType): unknown {
  switch (type) {
    case 'undefined':
      return undefined;
    case 'array': {
      const items = expected.kind === 'array' ? expected : undefined;
      return element.children.map((child, i) => decodeElement(child, items?.prefix?.[i] ?? items?.item));
    }
    case 'set':
      return new Set(element.children.map((child) => decodeElement(child, expected.kind === 'array' ? expected.item : ANY)));
    case 'map':
      return new Map(element.children.map((entry) => {
        const key = entry.children.find((child) => child.local === 'key');
        const value = entry.children.find((child) => child.local === 'value');
        if (key === undefined || value === undefined || entry.children.length !== 2) throw invalid(element, 'has an entry without one key and one value');
        return [decodeElement(key), decodeElement(value)];
      }));
    case 'object':
      return decodeObject(element, expected.kind === 'object' ? expected.fields : undefined, true);
    default:
      throw invalid(element, `has the unknown type sy:${type}`);
  }
}

/**
 * An object of the element's children, by their decoded names. Without declared fields, a name
 * that repeats makes its field an array; declared fields say which repeat, and any other name may
 * appear once.
 */
function decodeObject(element: XmlElement, fields: ReadonlyMap<string, XmlField> | undefined, typed = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const repeatedByChance = new Set<string>();
  for (const child of element.children) {
    const key = decodeName(child.local);
    const field = fields?.get(key);
    const value = decodeElement(child, field?.type ?? ANY);
    const seen = Object.hasOwn(out, key);
    if (field?.repeated === true) {
      if (seen) (out[key] as unknown[]).push(value);
      else define(out, key, [value]);
    } else if (!seen) {
      define(out, key, value);
    } else if (fields === undefined && !typed) {
      if (!repeatedByChance.has(key)) define(out, key, [out[key]]);
      repeatedByChance.add(key);
      (out[key] as unknown[]).push(value);
    } else {
      throw invalid(element, `holds the field ${JSON.stringify(key)} twice`);
    }
  }
  return out;
}

/** Sets a field as an own property, so that `__proto__` is data, as JSON.parse has it. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

const doubleText = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?INF|NaN)$/;
const integerText = /^[+-]?\d+$/;
const dateTimeText = /^(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const SAFE_INTEGER_TYPES = new Set(['long', 'int', 'short', 'byte', 'unsignedLong', 'unsignedInt', 'unsignedShort', 'unsignedByte']);
const BIG_INTEGER_TYPES = new Set(['integer', 'nonNegativeInteger', 'positiveInteger', 'nonPositiveInteger', 'negativeInteger']);
const STRING_TYPES = new Set(['string', 'normalizedString', 'token', 'anyURI', 'language', 'Name', 'NCName', 'NMTOKEN', 'ID', 'IDREF', 'ENTITY']);

/** A value of a built-in XML Schema type. */
function decodeXsd(element: XmlElement, type: string): unknown {
  if (STRING_TYPES.has(type)) return leafText(element);
  if (type === 'anyType') return decodeElement(element, ANY);
  const text = leafText(element).trim();
  if (type === 'double' || type === 'float' || type === 'decimal') {
    if (!doubleText.test(text)) throw invalid(element, `holds ${quote(text)}, which is not an xsd:${type}`);
    return text.endsWith('INF') ? (text.startsWith('-') ? -Infinity : Infinity) : Number(text);
  }
  if (SAFE_INTEGER_TYPES.has(type)) {
    const number = integerText.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(number)) throw invalid(element, `holds ${quote(text)}, which is not an integer a JavaScript number holds exactly`);
    return number;
  }
  if (BIG_INTEGER_TYPES.has(type)) {
    if (!integerText.test(text)) throw invalid(element, `holds ${quote(text)}, which is not an xsd:integer`);
    if (text.replace(/^[+-]/, '').length > MAX_BIGINT_DIGITS) throw invalid(element, `holds an integer of more than ${MAX_BIGINT_DIGITS} digits`);
    return BigInt(text.startsWith('+') ? text.slice(1) : text);
  }
  if (type === 'boolean') {
    if (text === 'true' || text === '1') return true;
    if (text === 'false' || text === '0') return false;
    throw invalid(element, `holds ${quote(text)}, which is not an xsd:boolean`);
  }
  if (type === 'dateTime') return dateOf(element, text);
  if (type === 'base64Binary') {
    const compact = text.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) throw invalid(element, 'holds text that is not base64');
    return fromBase64(compact);
  }
  throw invalid(element, `has the type xsd:${type}, which Switchyard does not read`);
}

/** An xsd:dateTime with a time zone; a day the month does not have is refused rather than rolled over. */
function dateOf(element: XmlElement, text: string): Date {
  const match = dateTimeText.exec(text);
  if (match === null) throw invalid(element, `holds ${quote(text)}, which is not an xsd:dateTime with a time zone`);
  const [, year, month, day, hour, minute, second, fraction, zone] = match;
  const utc = new Date(0);
  utc.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  utc.setUTCHours(Number(hour), Number(minute), Number(second), Math.floor(Number(fraction ?? 0) * 1000));
  if (utc.getUTCDate() !== Number(day) || utc.getUTCHours() !== Number(hour) || utc.getUTCMinutes() !== Number(minute) || Number(second) > 59) {
    throw invalid(element, `holds ${quote(text)}, which is not a time that exists`);
  }
  const offset = zone === 'Z' ? 0 : (zone!.startsWith('-') ? -1 : 1) * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(4, 6)));
  const date = new Date(utc.getTime() - offset * 60_000);
  if (Number.isNaN(date.getTime())) throw invalid(element, `holds ${quote(text)}, which is out of a Date's range`);
  return date;
}

function leafText(element: XmlElement): string {
  if (element.children.length > 0) throw invalid(element, 'holds elements where text was expected');
  return textOf(element);
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

function invalid(element: XmlElement, why: string): RpcError {
  return new RpcError(Code.INVALID_ARGUMENT, `element <${element.local}> ${why}`);
}
