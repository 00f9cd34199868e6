import type * as Protobuf from 'protobufjs';
import { protobufjs } from './protobufjs.js';

/**
 * 64-bit integer fields of `.proto` messages as `bigint`, whichever transport carried them.
 * protobufjs reads them as `Long` objects (written out here as decimal strings) and a JavaScript
 * number cannot hold them exactly, so the codec turns them into bigints on the way in and back into
 * their bits on the way out. What it accepts on the way out is wider, for callers written before
 * int64 was bigint: numbers that are integers, decimal strings and `Long`-like `{ low, high }`.
 */

/** The 64-bit scalar types, and whether each is unsigned. */
const LONG_TYPES: Readonly<Record<string, boolean>> = { int64: false, sint64: false, sfixed64: false, uint64: true, fixed64: true };

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
// Enough for any 64-bit value with a sign and leading zeros; longer text is refused before BigInt
// parses it, whose time grows with the square of the length.
const decimal = /^[+-]?\d{1,24}$/;

/** Whether `type` is one of the 64-bit integer scalar types. */
export function isLongType(type: string): boolean {
  return LONG_TYPES[type] !== undefined;
}

/** What to do with one field of a message: convert its 64-bit values, or walk into its messages. */
interface Step {
  readonly name: string;
  readonly repeated: boolean;
  readonly map: boolean;
  /** Set for 64-bit values: whether they are unsigned. */
  readonly unsigned?: boolean;
  /** Set for maps keyed by a 64-bit type: whether the keys are unsigned. */
  readonly unsignedKeys?: boolean;
  /** Set for message values that hold 64-bit integers somewhere. */
  readonly message?: Protobuf.Type;
}

const plans = new WeakMap<Protobuf.Type, readonly Step[]>();

/** The fields of `type` that hold 64-bit integers, directly or in nested messages. */
function planOf(type: Protobuf.Type): readonly Step[] {
  let plan = plans.get(type);
  if (plan !== undefined) return plan;
  const steps: Step[] = [];
  for (const field of type.fieldsArray) {
    field.resolve();
    const keyType = mapKeyType(field);
    const unsignedKeys = keyType === undefined ? undefined : LONG_TYPES[keyType];
    const unsigned = LONG_TYPES[field.type];
    const message = field.resolvedType instanceof protobufjs().Type && holdsLongs(field.resolvedType, new Set()) ? field.resolvedType : undefined;
    if (unsigned === undefined && unsignedKeys === undefined && message === undefined) continue;
    steps.push({ name: field.name, repeated: field.repeated, map: field.map, unsigned, unsignedKeys, message });
  }
  plan = steps;
  plans.set(type, plan);
  return plan;
}

/** Whether a message of `type` can hold a 64-bit integer anywhere (recursive types included). */
function holdsLongs(type: Protobuf.Type, seen: Set<Protobuf.Type>): boolean {
  if (seen.has(type)) return false;
  seen.add(type);
  for (const field of type.fieldsArray) {
    field.resolve();
    if (isLongType(field.type) || isLongType(mapKeyType(field) ?? '')) return true;
    if (field.resolvedType instanceof protobufjs().Type && holdsLongs(field.resolvedType, seen)) return true;
  }
  return false;
}

/** The key type of a map field (`map<int64, V>` → `int64`), or undefined for other fields. */
export function mapKeyType(field: Protobuf.FieldBase): string | undefined {
  return field.map ? (field as unknown as Protobuf.MapField).keyType : undefined;
}

/** Whether messages of `type` need any 64-bit conversion; the codec skips the walk when not. */
export function hasLongs(type: Protobuf.Type): boolean {
  return planOf(type).length > 0;
}

type Convert = (value: unknown, unsigned: boolean) => unknown;
type ConvertKey = (key: string, unsigned: boolean) => string;
interface Conversion {
  readonly value: Convert;
  readonly key: ConvertKey;
  /** Change the message where it stands (it was just decoded and is nobody else's), or copy. */
  readonly inPlace: boolean;
}

/**
 * A value that cannot be converted, and where it sits in the message. The path is filled in as
 * the error passes up through the walk, so that calls that succeed build no path strings.
 */
class FieldError extends Error {
  readonly path: string[] = [];
  constructor(readonly problem: TypeError | RangeError) {
    super(problem.message);
  }
}

/** Records `segment` as the next step up of the path of a conversion failure, and rethrows it. */
function rethrowAt(error: unknown, segment: string): never {
  if (error instanceof FieldError) {
    error.path.unshift(segment);
    throw error;
  }
  if (error instanceof TypeError || error instanceof RangeError) {
    const located = new FieldError(error);
    located.path.push(segment);
    throw located;
  }
  throw error;
}

/**
 * Walks `message` by `type`'s plan, converting each 64-bit value and each 64-bit map key. Unless
 * the conversion is in place, every object on the way to a change is copied and the caller's
 * message is left as it was.
 */
function walk(type: Protobuf.Type, message: unknown, convert: Conversion): unknown {
  if (typeof message !== 'object' || message === null) return message;
  let target = message as Record<string, unknown>;
  let copied = convert.inPlace;
  for (const step of planOf(type)) {
    const before = target[step.name];
    if (before === undefined || before === null) continue;
    let after: unknown;
    try {
      after = step.map ? walkMap(step, before, convert) : step.repeated ? walkList(step, before, convert) : walkOne(step, before, convert);
    } catch (error) {
      rethrowAt(error, `.${step.name}`);
    }
    if (after === before) continue;
    if (!copied) {
      target = { ...target };
      copied = true;
    }
    target[step.name] = after;
  }
  return target;
}

function walkOne(step: Step, value: unknown, convert: Conversion): unknown {
  if (step.unsigned !== undefined) return convert.value(value, step.unsigned);
  return step.message === undefined ? value : walk(step.message, value, convert);
}

function walkList(step: Step, list: unknown, convert: Conversion): unknown {
  if (!Array.isArray(list)) return list;
  let target = list;
  for (let i = 0; i < list.length; i++) {
    const item: unknown = list[i];
    let after: unknown;
    try {
      after = walkOne(step, item, convert);
    } catch (error) {
      rethrowAt(error, `[${i}]`);
    }
    if (after === item) continue;
    if (target === list && !convert.inPlace) target = list.slice();
    target[i] = after;
  }
  return target;
}

function walkMap(step: Step, map: unknown, convert: Conversion): unknown {
  if (typeof map !== 'object' || map === null) return map;
  const entries = map as Record<string, unknown>;
  let target = entries;
  for (const key of Object.keys(entries)) {
    const item = entries[key];
    let newKey = key;
    let after = item;
    try {
      if (step.unsignedKeys !== undefined) newKey = convert.key(key, step.unsignedKeys);
      if (item !== undefined && item !== null) after = walkOne(step, item, convert);
    } catch (error) {
      rethrowAt(error, `[${JSON.stringify(key)}]`);
    }
    if (newKey === key && after === item) continue;
    if (target === entries && !convert.inPlace) target = copyEntries(entries);
    if (newKey !== key) delete target[key];
    // A key read from the wire may be "__proto__": define it, never assign through the prototype.
    Object.defineProperty(target, newKey, { value: after, enumerable: true, writable: true, configurable: true });
  }
  return target;
}

function copyEntries(entries: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(entries)) Object.defineProperty(copy, key, { value: entries[key], enumerable: true, writable: true, configurable: true });
  return copy;
}

/** Runs a walk; a value that cannot be converted becomes a TypeError or RangeError naming its field. */
function convertMessage(type: Protobuf.Type, message: unknown, convert: Conversion): unknown {
  try {
    return walk(type, message, convert);
  } catch (error) {
    if (!(error instanceof FieldError)) throw error;
    const Problem = error.problem instanceof RangeError ? RangeError : TypeError;
    throw new Problem(`${type.name}${error.path.join('')}: ${error.problem.message}`);
  }
}

/**
 * A 64-bit field's value as a bigint, from anything the codec accepts for it; throws a TypeError or
 * RangeError for anything else, and for integers outside the field's range.
 */
export function toBigInt(value: unknown, unsigned: boolean): bigint {
  let result: bigint;
  if (typeof value === 'bigint') {
    result = value;
  } else if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new TypeError(`must be an integer, not ${value}`);
    result = BigInt(value);
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (!decimal.test(text)) throw new TypeError(`must be a decimal integer, not ${JSON.stringify(value.slice(0, 40))}`);
    result = BigInt(text);
  } else if (isLongLike(value)) {
    const bits = (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
    result = unsigned ? bits : BigInt.asIntN(64, bits);
  } else {
    throw new TypeError(`must be a bigint (or a number or decimal string), not ${value === null ? 'null' : typeof value}`);
  }
  const [min, max] = unsigned ? [0n, UINT64_MAX] : [INT64_MIN, INT64_MAX];
  if (result < min || result > max) throw new RangeError(`${result} is outside the ${unsigned ? 'uint64' : 'int64'} range ${min} .. ${max}`);
  return result;
}

function isLongLike(value: unknown): value is { low: number; high: number } {
  return typeof value === 'object' && value !== null && typeof (value as { low?: unknown }).low === 'number' && typeof (value as { high?: unknown }).high === 'number';
}

/** The bits of a 64-bit value as protobufjs writes them (it takes `{ low, high }` without parsing). */
function toLongBits(value: unknown, unsigned: boolean): { low: number; high: number; unsigned: boolean } {
  const big = toBigInt(value, unsigned);
  return { low: Number(BigInt.asIntN(32, big)), high: Number(BigInt.asIntN(32, big >> 32n)), unsigned };
}

/** A 64-bit map key as its canonical decimal text (`"+07"` → `"7"`), checked against its range. */
function decimalKey(key: string, unsigned: boolean): string {
  return toBigInt(key, unsigned).toString();
}

/**
 * protobufjs keys a decoded map with 64-bit keys by the key's eight bytes, little-endian, as a
 * string of char codes (its "long hash"); this turns that back into the decimal text.
 */
function keyFromHash(key: string, unsigned: boolean): string {
  if (!protobufjs().util.Long || key.length !== 8) return key;
  let bits = 0n;
  for (let i = 7; i >= 0; i--) bits = (bits << 8n) | BigInt(key.charCodeAt(i) & 0xff);
  return (unsigned ? bits : BigInt.asIntN(64, bits)).toString();
}

const fromDecimal: Convert = (value) => BigInt(value as string);

/** A message just decoded (64-bit values as decimal strings) with those values as bigints, changed in place. */
export function decodedWithBigInts(type: Protobuf.Type, message: unknown): unknown {
  return convertMessage(type, message, { value: fromDecimal, key: keyFromHash, inPlace: true });
}

/** A copy of a caller's message with 64-bit values as protobufjs writes them; throws on values out of range. */
export function encodableLongs(type: Protobuf.Type, message: unknown): unknown {
  return convertMessage(type, message, { value: toLongBits, key: decimalKey, inPlace: false });
}

/**
 * A message as a handler should see it on any transport: 64-bit values as bigints, whatever form
 * the caller sent (over MessagePack or JSON a number stays a number). Copies only what changes.
 */
export function withBigInts(type: Protobuf.Type, message: unknown): unknown {
  return convertMessage(type, message, { value: toBigInt, key: decimalKey, inPlace: false });
}
