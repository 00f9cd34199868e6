import { Code } from '../../core/code.js';
import { stableKey } from '../../core/stable-key.js';
import { MAX_BIGINT_DIGITS } from '../../serialization/json.js';

/** A JSON Schema (2020-12, as OpenAPI 3.1 has it), as plain data. */
export type Schema = Record<string, unknown>;

const SCHEMAS = '#/components/schemas/';

/** A `$ref` to the component schema `name`. */
export function refTo(name: string): Schema {
  return { $ref: SCHEMAS + name };
}

/** The component a `$ref` names, if it names one as a whole. */
export function componentOf(schema: Schema): string | undefined {
  const ref = schema.$ref;
  return typeof ref === 'string' && ref.startsWith(SCHEMAS) && !ref.includes('/', SCHEMAS.length) ? ref.slice(SCHEMAS.length) : undefined;
}

/** Whether a `$ref` already points into the document's components (and so needs no rewriting). */
export function isComponentRef(ref: string): boolean {
  return ref.startsWith('#/components/');
}

/** A one-key object: how the transport's JSON carries a value plain JSON has no form for (src/serialization/json.ts). */
function tag(key: string, value: Schema, description: string): Schema {
  return { type: 'object', description, properties: { [key]: value }, required: [key], additionalProperties: false };
}

/**
 * The schemas every document may use: the tagged forms of values JSON has no form for, exactly as
 * the JSON serializer writes and reads them, and the error body (src/transport/http/errors.ts).
 * Named under `switchyard.` so that they cannot meet a schema of the user's.
 */
const BUILTIN = {
  'switchyard.Bytes': tag('$bytes', { type: 'string', contentEncoding: 'base64', pattern: '^[A-Za-z0-9+/_-]*={0,2}$' },
    'Bytes (a Uint8Array): their base64 text (the URL-safe alphabet is read too).'),
  'switchyard.BigInt': tag('$bigint', { type: 'string', pattern: '^-?[0-9]+$', maxLength: MAX_BIGINT_DIGITS + 1 },
    `A bigint: its decimal digits (at most ${MAX_BIGINT_DIGITS}).`),
  'switchyard.Date': tag('$date', { type: 'string', format: 'date-time', pattern: '^(?:[0-9]{4}|[+-][0-9]{6})-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$' },
    'A Date: its time in UTC exactly as toISOString() writes it.'),
  'switchyard.Map': tag('$map', { type: 'array', items: { type: 'array', minItems: 2, maxItems: 2 } },
    'A Map: its [key, value] entries in order.'),
  'switchyard.Set': tag('$set', { type: 'array' }, 'A Set: its members in order.'),
  'switchyard.Number': tag('$number', { enum: ['NaN', 'Infinity', '-Infinity', '-0'] },
    'A number JSON cannot write: NaN, Infinity, -Infinity or -0.'),
  'switchyard.Undefined': tag('$undefined', { const: true }, 'undefined as an item of an array (an argument list included); an object property holding undefined is left out.'),
  'switchyard.Error': {
    type: 'object',
    description: 'A failed call: its code by name, the error\'s name and message, and its details as plain data.',
    required: ['code', 'name', 'message', 'details'],
    properties: {
      code: { type: 'string', enum: Object.keys(Code).filter((name) => name !== 'OK') },
      name: { type: 'string', description: 'The class name of the error the handler threw (RpcError, or its own)' },
      message: { type: 'string' },
      details: { type: 'object', description: 'Plain data; values JSON has no form for are tagged as everywhere' },
    },
  },
} satisfies Record<string, Schema>;

export type BuiltinSchema = keyof typeof BUILTIN;

/** Component names may hold letters, digits, `.`, `-` and `_` only (OpenAPI 3.1). */
export function componentName(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, '_') || '_';
}

/**
 * The named schemas of one document (`components/schemas`). A name is given once: a different
 * schema asking for a taken name gets `<name>.<variant>` (`User.output`, when the output form of a
 * schema differs from its input form), else `<name>_2`, `<name>_3`, … in the order the call table
 * lists its methods, so names are the same for the same services. Equal schemas share one name.
 */
export class SchemaComponents {
  private readonly schemas = new Map<string, Schema>();
  /** The content of each name added by `add`, to tell an equal schema from another. */
  private readonly contents = new Map<string, string>();

  /** `{ $ref }` to a built-in schema, which joins the document the first time it is used. */
  builtin(name: BuiltinSchema): Schema {
    if (!this.schemas.has(name)) this.schemas.set(name, BUILTIN[name]);
    return refTo(name);
  }

  /** The name `schema` gets if added under `name` now; `add` with the same arguments takes it. */
  nameFor(name: string, schema: Schema, variant?: string, taken: ReadonlySet<string> = new Set()): string {
    const content = contentOf(schema);
    for (const candidate of candidates(componentName(name), variant)) {
      if (taken.has(candidate) || candidate in BUILTIN) continue;
      const held = this.contents.get(candidate);
      if (held === content) return candidate;
      if (held === undefined && !this.schemas.has(candidate)) return candidate;
    }
    throw new Error('unreachable');
  }

  /** Adds `schema` under `name` (or the variant of it that `nameFor` gives); returns the name. */
  add(name: string, schema: Schema, variant?: string): string {
    const given = this.nameFor(name, schema, variant);
    this.put(given, schema);
    return given;
  }

  /** Adds `schema` under a name `nameFor` gave. */
  put(name: string, schema: Schema): void {
    this.schemas.set(name, schema);
    this.contents.set(name, contentOf(schema));
  }

  /** Takes a free name for a schema that will refer to itself; `set` gives it its content. */
  reserve(name: string): string {
    for (const candidate of candidates(componentName(name))) {
      if (candidate in BUILTIN || this.schemas.has(candidate)) continue;
      this.schemas.set(candidate, {});
      return candidate;
    }
    throw new Error('unreachable');
  }

  set(name: string, schema: Schema): void {
    this.schemas.set(name, schema);
  }

  /** The schema a `$ref` to a component stands for (following refs), or the schema itself. */
  resolve(schema: Schema): Schema {
    for (let seen = 0, current = schema; ; seen++) {
      const name = componentOf(current);
      const target = name === undefined ? undefined : this.schemas.get(name);
      if (target === undefined || seen > 16) return current;
      current = target;
    }
  }

  /** The components, by name in order, so that the document is the same for the same services. */
  toJSON(): Record<string, Schema> {
    return Object.fromEntries([...this.schemas].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}

function contentOf(schema: Schema): string {
  return stableKey([schema]) ?? JSON.stringify(schema);
}

function* candidates(name: string, variant?: string): Generator<string> {
  yield name;
  if (variant !== undefined) yield `${name}.${variant}`;
  for (let i = 2; ; i++) yield `${name}_${i}`;
}
