import type { CheckedBuffer } from './checked-buffer.js';
import { BaseType, type FbsEnum, type FbsField, type FbsSchema } from './schema.js';

/**
 * Scalars as JavaScript holds them: integers up to 32 bits and floats as numbers, 64-bit integers
 * as bigints, bools as booleans, and enum values by name.
 */

/** Reads the scalar of base type `base` at `pos` (checked by the caller to lie in the message). */
export function readScalar(buf: CheckedBuffer, base: number, pos: number): number | bigint | boolean {
  switch (base) {
    case BaseType.Bool:
      return buf.u8(pos) !== 0;
    case BaseType.Byte:
      return buf.i8(pos);
    case BaseType.UType:
    case BaseType.UByte:
      return buf.u8(pos);
    case BaseType.Short:
      return buf.i16(pos);
    case BaseType.UShort:
      return buf.u16(pos);
    case BaseType.Int:
      return buf.i32(pos);
    case BaseType.UInt:
      return buf.u32(pos);
    case BaseType.Long:
      return buf.i64(pos);
    case BaseType.ULong:
      return buf.u64(pos);
    case BaseType.Float:
      return buf.f32(pos);
    default:
      return buf.f64(pos);
  }
}

/** The value a field has when a table leaves it out: its schema default (`null` for an optional scalar). */
export function defaultOf(field: FbsField, names: EnumNames | undefined): unknown {
  if (field.optional) return null;
  const base = field.type.base;
  if (base === BaseType.Bool) return field.defaultInteger !== 0n;
  if (base === BaseType.Float || base === BaseType.Double) return field.defaultReal;
  const value = base === BaseType.Long || base === BaseType.ULong ? field.defaultInteger : Number(field.defaultInteger);
  return names === undefined ? value : names.nameOf(value);
}

/** The names of an enum's values, both ways, with keys of the type its values are read as. */
export class EnumNames {
  private readonly names = new Map<number | bigint, string>();
  private readonly values = new Map<string, number | bigint>();
  readonly wide: boolean;

  constructor(readonly definition: FbsEnum) {
    this.wide = definition.underlying === BaseType.Long || definition.underlying === BaseType.ULong;
    for (const value of definition.values) {
      const key = this.wide ? value.value : Number(value.value);
      this.names.set(key, value.name);
      this.values.set(value.name, key);
    }
  }

  /** The name of a value read from a message; a bit-flags value, or a value this schema does not know, stays a number. */
  nameOf(value: number | bigint): string | number | bigint {
    if (this.definition.bitFlags) return value;
    return this.names.get(value) ?? value;
  }

  /** The value of a name given by a caller, or undefined when the enum has no such name. */
  valueOf(name: string): number | bigint | undefined {
    return this.values.get(name);
  }
}

/** One `EnumNames` per enum of a schema, made once. */
export function enumNamesOf(schema: FbsSchema): EnumNames[] {
  return schema.enums.map((definition) => new EnumNames(definition));
}

/** The range of each integer base type, for writing. */
const INTEGER_RANGES: Record<number, readonly [bigint, bigint]> = {
  [BaseType.UType]: [0n, 255n],
  [BaseType.Byte]: [-128n, 127n],
  [BaseType.UByte]: [0n, 255n],
  [BaseType.Short]: [-32768n, 32767n],
  [BaseType.UShort]: [0n, 65535n],
  [BaseType.Int]: [-(2n ** 31n), 2n ** 31n - 1n],
  [BaseType.UInt]: [0n, 2n ** 32n - 1n],
  [BaseType.Long]: [-(2n ** 63n), 2n ** 63n - 1n],
  [BaseType.ULong]: [0n, 2n ** 64n - 1n],
};

const TYPE_NAMES: Record<number, string> = {
  [BaseType.Byte]: 'byte', [BaseType.UByte]: 'ubyte', [BaseType.Short]: 'short', [BaseType.UShort]: 'ushort',
  [BaseType.Int]: 'int', [BaseType.UInt]: 'uint', [BaseType.Long]: 'long', [BaseType.ULong]: 'ulong', [BaseType.UType]: 'ubyte',
};

/**
 * A caller's value for an integer field of base type `base`, as the writer takes it: a number for
 * up to 32 bits, a bigint for 64. 64-bit fields also take safe-integer numbers and decimal
 * strings; enum fields take the names of their values. Anything else, or a value out of range, is
 * a `TypeError` that says so.
 */
export function toInteger(value: unknown, base: number, names: EnumNames | undefined, where: string, key: string | number): number | bigint {
  let given: unknown = value;
  if (names !== undefined && typeof value === 'string') {
    given = names.valueOf(value);
    if (given === undefined) throw new TypeError(`${path(where, key)}: ${names.definition.name} has no value named ${JSON.stringify(value)}`);
  }
  const wide = base === BaseType.Long || base === BaseType.ULong;
  let integer: bigint;
  if (typeof given === 'bigint') integer = given;
  else if (typeof given === 'number' && Number.isInteger(given) && (!wide || Number.isSafeInteger(given))) integer = BigInt(given);
  else if (wide && typeof given === 'string' && /^-?\d{1,20}$/.test(given)) integer = BigInt(given);
  else throw new TypeError(`${path(where, key)}: FlatBuffers cannot carry ${describe(value)} in a ${TYPE_NAMES[base]} field${wide ? ' (it takes a bigint, a safe integer or a decimal string)' : ''}`);
  const [low, high] = INTEGER_RANGES[base]!;
  if (integer < low || integer > high) throw new TypeError(`${path(where, key)}: FlatBuffers cannot carry ${integer} in a ${TYPE_NAMES[base]} field (${low}..${high})`);
  return wide ? integer : Number(integer);
}

export function toBool(value: unknown, where: string, key: string | number): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${path(where, key)}: FlatBuffers cannot carry ${describe(value)} in a bool field`);
  return value;
}

export function toFloat(value: unknown, where: string, key: string | number): number {
  if (typeof value !== 'number') throw new TypeError(`${path(where, key)}: FlatBuffers cannot carry ${describe(value)} in a float field`);
  return value;
}

/** A value as an error message names it. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return value.length > 40 ? `the string ${JSON.stringify(value.slice(0, 40))}…` : `the string ${JSON.stringify(value)}`;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') {
    const type = (value as object).constructor?.name;
    return type === undefined || type === 'Object' ? 'an object' : `${/^[AEIOU]/.test(type) ? 'an' : 'a'} ${type}`;
  }
  return `a ${typeof value}`;
}

/** Where a value is, for an error message: `Order.lines[3].sku`. Made only when an error is, not for every field written. */
export function path(where: string, key: string | number): string {
  return typeof key === 'number' ? `${where}[${key}]` : `${where}.${key}`;
}
