/**
 * A string that is the same for equal argument lists however they were built: object keys are
 * sorted, Map entries and Set members are ordered by their own keys, and every type is tagged, so
 * `1`, `1n`, `'1'` and `new Date(1)` differ. Handles undefined, null, booleans, numbers (NaN, -0,
 * Infinity), bigints, strings, Dates, RegExps, Uint8Array and the other typed arrays, ArrayBuffer,
 * DataView, arrays, Maps, Sets, plain objects and class instances (by their own enumerable
 * properties, the way serializers send them).
 *
 * Returns `undefined` for what has no stable key: functions, symbols, errors, promises, weak
 * collections and cyclic structures.
 *
 * ```ts
 * stableKey([{ b: 2, a: 1 }]) === stableKey([{ a: 1, b: 2 }]);   // true
 * ```
 */
export function stableKey(args: readonly unknown[]): string | undefined {
  try {
    // The usual arguments are a few scalars: key them without the general walk.
    let key = '[';
    for (let i = 0; i < args.length; i++) {
      if (i > 0) key += ',';
      const arg = args[i];
      key += typeof arg === 'object' && arg !== null ? encodeObject(arg, new Set([args])) : encode(arg, undefined);
    }
    return `${key}]`;
  } catch (error) {
    if (error === unkeyable || error instanceof RangeError) return undefined;
    throw error;
  }
}

/** The stable key of one value (what `stableKey` writes for it in a list), or undefined if it has none. */
export function valueKey(value: unknown): string | undefined {
  try {
    return encode(value, undefined);
  } catch (error) {
    if (error === unkeyable || error instanceof RangeError) return undefined;
    throw error;
  }
}

/** Thrown inside to give up on a value that has no stable key. */
const unkeyable = Symbol('unkeyable');

const opaque = [Error, Promise, WeakMap, WeakSet, WeakRef];

function encode(value: unknown, ancestors: Set<object> | undefined): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Object.is(value, -0) ? '#-0' : `#${value}`;
    case 'boolean':
      return value ? 't' : 'f';
    case 'undefined':
      return 'u';
    case 'bigint':
      return `n${value}`;
    case 'object':
      return value === null ? 'z' : encodeObject(value, ancestors ?? new Set());
    default:
      throw unkeyable; // function, symbol
  }
}

function encodeObject(value: object, ancestors: Set<object>): string {
  if (value instanceof Date) return `D${value.getTime()}`;
  if (value instanceof RegExp) return `R${JSON.stringify(String(value))}`;
  if (ArrayBuffer.isView(value)) return encodeView(value);
  if (value instanceof ArrayBuffer) return `A${Buffer.from(value).toString('base64')}`;
  if (opaque.some((type) => value instanceof type)) throw unkeyable;
  if (ancestors.has(value)) throw unkeyable;
  ancestors.add(value);
  let key: string;
  if (Array.isArray(value)) key = encodeArray(value, ancestors);
  else if (value instanceof Map) key = encodeMap(value, ancestors);
  else if (value instanceof Set) key = encodeSet(value, ancestors);
  else key = encodeRecord(value, ancestors);
  ancestors.delete(value);
  return key;
}

function encodeView(view: ArrayBufferView): string {
  const base64 = Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');
  // A Buffer is a Uint8Array, and serializers send both as the same bytes.
  if (view instanceof Uint8Array) return `B${base64}`;
  return `V${JSON.stringify(view.constructor.name)}${base64}`;
}

function encodeArray(array: readonly unknown[], ancestors: Set<object>): string {
  let key = '[';
  for (let i = 0; i < array.length; i++) {
    if (i > 0) key += ',';
    key += encode(array[i], ancestors);
  }
  return `${key}]`;
}

function encodeMap(map: Map<unknown, unknown>, ancestors: Set<object>): string {
  const entries: Array<[string, string]> = [];
  for (const [k, v] of map) entries.push([encode(k, ancestors), encode(v, ancestors)]);
  entries.sort((x, y) => compare(x[0], y[0]) || compare(x[1], y[1]));
  return `M{${entries.map(([k, v]) => `${k}=>${v}`).join(',')}}`;
}

function encodeSet(set: Set<unknown>, ancestors: Set<object>): string {
  const members: string[] = [];
  for (const member of set) members.push(encode(member, ancestors));
  members.sort(compare);
  return `S[${members.join(',')}]`;
}

function encodeRecord(record: object, ancestors: Set<object>): string {
  const proto = Object.getPrototypeOf(record) as object | null;
  const plain = proto === null || proto === Object.prototype;
  const names = Object.keys(record).sort(compare);
  let key = plain ? '{' : `C${JSON.stringify((record.constructor as { name?: unknown } | undefined)?.name ?? '')}{`;
  for (let i = 0; i < names.length; i++) {
    if (i > 0) key += ',';
    const name = names[i]!;
    key += `${JSON.stringify(name)}:${encode((record as Record<string, unknown>)[name], ancestors)}`;
  }
  return `${key}}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
