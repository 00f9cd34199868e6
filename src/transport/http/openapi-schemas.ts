import type { StandardJSONSchemaV1, StandardSchemaV1 } from '@standard-schema/spec';
import { isComponentRef, refTo, type Schema, type SchemaComponents } from './openapi-components.js';

/** `input`: what a schema accepts (arguments); `output`: what it gives (results). */
export type SchemaSide = 'input' | 'output';

/**
 * A Standard Schema as the JSON Schema of what the transport's JSON carries for it, its
 * definitions moved into the document's components. The library must implement Standard JSON
 * Schema (zod 4 does; valibot only through @valibot/to-json-schema, so a valibot schema is not
 * converted here): otherwise, or when the conversion throws, the value is described as any JSON
 * (`{}`), which is true if not precise, and the document is still served.
 *
 * `name` is the component name the schema gets if it refers to itself (`demo.Shop.order.arg0`).
 */
export function jsonSchemaOf(schema: StandardSchemaV1, side: SchemaSide, name: string, components: SchemaComponents): Schema {
  const standard: StandardSchemaV1.Props & Partial<Pick<StandardJSONSchemaV1.Props, 'jsonSchema'>> = schema['~standard'];
  const convert = standard.jsonSchema?.[side];
  if (typeof convert !== 'function') return {};
  try {
    const converted = convert({ target: 'draft-2020-12', libraryOptions: standard.vendor === 'zod' ? zodOptions(components) : undefined });
    // Plain JSON only: what a library may leave in its result (functions, cycles, an infinite bound) is no schema.
    return hoist(JSON.parse(JSON.stringify(converted, finiteOnly)) as Schema, name, side, components);
  } catch {
    return {};
  }
}

function finiteOnly(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? undefined : value;
}

/**
 * Whether a schema accepts `undefined` (an optional parameter, a result that may be nothing). Asked
 * of the schema itself, so it holds for every library; an asynchronous check counts as no.
 */
export function acceptsUndefined(schema: StandardSchemaV1): boolean {
  try {
    const result = schema['~standard'].validate(undefined);
    return !(result instanceof Promise) && result.issues === undefined;
  } catch {
    return false;
  }
}

/**
 * zod's own option for what plain JSON Schema has no form for: the forms the JSON serializer gives
 * those values (`{"$bigint": "…"}` for a bigint, and so on); anything else (a transform's output, a
 * function) is any JSON. zod documents `unrepresentable` with `_zod.def.type` and `_zod.bag`.
 */
function zodOptions(components: SchemaComponents): Record<string, unknown> {
  return {
    unrepresentable: (site: { zodSchema: unknown; message: string }) => zodWireForm(site.zodSchema, site.message, components) ?? 'any',
  };
}

interface ZodInternals {
  _zod?: { def?: { type?: string }; bag?: { Class?: unknown } };
}

function zodWireForm(zodSchema: unknown, message: string, components: SchemaComponents): Schema | undefined {
  const internals = (zodSchema as ZodInternals)._zod;
  switch (internals?.def?.type) {
    case 'bigint':
      return components.builtin('switchyard.BigInt');
    case 'date':
      return components.builtin('switchyard.Date');
    case 'map':
      return components.builtin('switchyard.Map');
    case 'set':
      return components.builtin('switchyard.Set');
    case 'nan':
      return components.builtin('switchyard.Number');
    case 'undefined':
    case 'void':
      return components.builtin('switchyard.Undefined');
    case 'literal':
      if (message.startsWith('BigInt')) return components.builtin('switchyard.BigInt');
      return message.includes('undefined') ? components.builtin('switchyard.Undefined') : undefined;
    case 'custom':
      return classWireForm(internals.bag?.Class, components);
    default:
      return undefined;
  }
}

/** `z.instanceof(Class)`: the tagged form of the classes the JSON serializer carries. */
function classWireForm(Class: unknown, components: SchemaComponents): Schema | undefined {
  if (typeof Class !== 'function') return undefined;
  const is = (base: abstract new (...args: never[]) => unknown) => Class === base || Class.prototype instanceof base;
  if (is(Uint8Array)) return components.builtin('switchyard.Bytes');
  if (is(Date)) return components.builtin('switchyard.Date');
  if (is(Map)) return components.builtin('switchyard.Map');
  if (is(Set)) return components.builtin('switchyard.Set');
  return undefined;
}

/**
 * Moves a converted schema's `$defs` into the components, under their own names (a zod `.meta({ id })`
 * is the def's name), and points its `$ref`s there: they were written for a document of their own,
 * where `#` is the schema itself. A schema that refers to itself becomes the component `name`.
 * Names are settled before anything is added, since a def's content holds the names of the defs it
 * refers to: one that must be renamed changes those of the defs that point at it.
 */
function hoist(converted: Schema, name: string, side: SchemaSide, components: SchemaComponents): Schema {
  const { $schema: _dialect, $defs, definitions, ...root } = converted;
  const defs = new Map<string, Schema>(Object.entries({ ...asRecord(definitions), ...asRecord($defs) }));
  const selfReferring = refersToRoot(root);
  // A def the library named itself (zod's `__schema0`, for a cycle) is named after the schema that holds it.
  const wanted = new Map<string, string>([...defs.keys()].map((key) => [key, /^__schema\d+$/.test(key) ? `${name}.${key.slice(2)}` : key]));
  if (selfReferring) wanted.set(ROOT, name);
  const names = new Map(wanted);
  const all = selfReferring ? new Map([...defs, [ROOT, root]]) : defs;
  for (let attempt = 0; attempt < 64; attempt++) {
    const rewritten = new Map([...all].map(([key, def]) => [key, rewriteRefs(def, names) as Schema]));
    const taken = new Set<string>();
    let settled = true;
    for (const [key, def] of rewritten) {
      const given = components.nameFor(wanted.get(key)!, def, side, taken);
      taken.add(given);
      if (given !== names.get(key)) {
        names.set(key, given);
        settled = false;
      }
    }
    if (!settled) continue;
    for (const [key, def] of rewritten) components.put(names.get(key)!, def);
    return selfReferring ? refTo(names.get(ROOT)!) : (rewriteRefs(root, names) as Schema);
  }
  return {};
}

/** The key of the root schema among the defs being named (no def can be named so). */
const ROOT = '';

function asRecord(value: unknown): Record<string, Schema> {
  return typeof value === 'object' && value !== null ? (value as Record<string, Schema>) : {};
}

// Keywords whose values are data, not schemas: a "$ref" in them is not a reference.
const DATA_KEYWORDS = new Set(['const', 'enum', 'default', 'examples', 'example']);

function refersToRoot(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(refersToRoot);
  if (typeof value !== 'object' || value === null) return false;
  for (const [key, item] of Object.entries(value)) {
    if (DATA_KEYWORDS.has(key)) continue;
    if (key === '$ref' && typeof item === 'string' && pointsAtRoot(item)) return true;
    if (refersToRoot(item)) return true;
  }
  return false;
}

function pointsAtRoot(ref: string): boolean {
  return ref === '#' || (ref.startsWith('#/') && !isComponentRef(ref) && !/^#\/(\$defs|definitions)\//.test(ref));
}

/** A copy of `value` with its local `$ref`s pointing into the components, by `names` (def key → component). */
function rewriteRefs(value: unknown, names: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((item) => rewriteRefs(item, names));
  if (typeof value !== 'object' || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = key === '$ref' && typeof item === 'string' ? rewriteRef(item, names) : DATA_KEYWORDS.has(key) ? item : rewriteRefs(item, names);
  }
  return copy;
}

function rewriteRef(ref: string, names: ReadonlyMap<string, string>): string {
  if (!ref.startsWith('#') || isComponentRef(ref)) return ref;
  const def = /^#\/(?:\$defs|definitions)\/([^/]*)(.*)$/.exec(ref);
  if (def !== null) {
    const name = names.get(def[1]!.replaceAll('~1', '/').replaceAll('~0', '~'));
    return name === undefined ? ref : `#/components/schemas/${name}${def[2]}`;
  }
  const root = names.get(ROOT);
  return root === undefined ? ref : `#/components/schemas/${root}${ref.slice(1)}`;
}
