/**
 * Values for the serializer targets: what each serializer claims to carry unchanged (docs/calls.md,
 * "Values: what arrives"), equality as that table defines it, and the checks every decoded value
 * must pass whatever bytes it came from.
 */
import fc from 'fast-check';
import { ensure } from './runner.js';

export interface ValueOptions {
  /** MessagePack also carries invalid dates and bigints of any size. */
  invalidDates: boolean;
}

/** Argument lists that use every kind of value the values table lists: the serializers' seeds. */
export const sampleValues: readonly unknown[] = [
  [1, 2],
  ['text', -1.5, true, null, undefined],
  [{ a: 1, b: [1, 2, 3], c: { d: 'e' } }],
  [new Date(0), new Date(8.64e15), 2n ** 64n, -(2n ** 70n), 12345678901234567890n],
  [new Map<unknown, unknown>([[1, 'one'], ['k', new Map([[{ x: 1 }, [2]]])]]), new Set([1, 'a', [2]])],
  [new Uint8Array([0, 1, 255]), Buffer.alloc(300, 7), NaN, -0, Infinity, -Infinity],
  [0xffffffff, 0x100000000, -(2 ** 31), 2 ** 53, 1e-300, 'ü€😀', 'x'.repeat(40)],
  [Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]))],
  // eslint-disable-next-line no-sparse-arrays
  [[1, , 3], [undefined, { u: undefined }]],
];

const key = fc.string({ unit: 'binary', maxLength: 8 }).filter((text) => text !== '__proto__');

/** A value the serializer must carry unchanged (or as the values table says). */
export function faithfulValue(options: ValueOptions): fc.Arbitrary<unknown> {
  const leaf = fc.oneof(
    fc.constant(null),
    fc.constant(undefined),
    fc.boolean(),
    fc.double(),
    fc.integer(),
    fc.constantFrom(2 ** 53, -(2 ** 53), 2 ** 60, 2 ** 64, -(2 ** 63), 0xffffffff, 0x100000000, 1e300, 5e-324),
    fc.string({ unit: 'binary', maxLength: 16 }),
    fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }),
    fc.date({ noInvalidDate: !options.invalidDates }),
    fc.uint8Array({ maxLength: 24 }),
  );
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.array(tie('value'), { maxLength: 5 }),
      fc.sparseArray(tie('value'), { maxLength: 6 }),
      fc.dictionary(key, tie('value'), { maxKeys: 5 }),
      fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 4 }).map((entries) => new Map(entries)),
      fc.array(tie('value'), { maxLength: 4 }).map((items) => new Set(items)),
    ),
  }));
  return value;
}

/**
 * Equality as the values table defines it: bytes by content (a `Uint8Array` arrives as a `Buffer`),
 * numbers by `Object.is`, dates by time, maps and sets in order, holes as `undefined`. With
 * `dropUndefinedFields`, an object field holding `undefined` may be missing (JSON leaves it out).
 */
export function sameValue(sent: unknown, got: unknown, dropUndefinedFields = false): boolean {
  if (typeof sent !== 'object' || sent === null) return Object.is(sent, got);
  if (typeof got !== 'object' || got === null) return false;
  const same = (a: unknown, b: unknown) => sameValue(a, b, dropUndefinedFields);
  if (sent instanceof Uint8Array) return got instanceof Uint8Array && Buffer.from(sent).equals(Buffer.from(got));
  if (sent instanceof Date) return got instanceof Date && Object.is(sent.getTime(), got.getTime());
  if (sent instanceof Map) return got instanceof Map && sent.size === got.size && sameList([...sent].flat(), [...got].flat(), same);
  if (sent instanceof Set) return got instanceof Set && sent.size === got.size && sameList([...sent], [...got], same);
  if (Array.isArray(sent)) return Array.isArray(got) && sameList(Array.from(sent), got, same);
  if (Array.isArray(got) || Object.getPrototypeOf(got) !== Object.prototype) return false;
  const sentKeys = Object.keys(sent).filter((k) => !dropUndefinedFields || (sent as Record<string, unknown>)[k] !== undefined);
  const gotKeys = Object.keys(got);
  return sentKeys.length === gotKeys.length && sentKeys.every((k) => Object.hasOwn(got, k) && same((sent as Record<string, unknown>)[k], (got as Record<string, unknown>)[k]));
}

function sameList(a: unknown[], b: unknown[], same: (x: unknown, y: unknown) => boolean): boolean {
  return a.length === b.length && a.every((item, i) => same(item, b[i]));
}

/** A stable text of a decoded value, to compare two decodings of the same bytes. */
export function fingerprint(value: unknown): string {
  const seen = new Set<object>();
  const walk = (v: unknown): string => {
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
    if (typeof v !== 'object' || v === null) return typeof v === 'string' ? JSON.stringify(v) : String(v);
    if (seen.has(v)) return '<cycle>';
    seen.add(v);
    let out: string;
    if (v instanceof Uint8Array) out = `bytes:${Buffer.from(v).toString('hex')}`;
    else if (v instanceof Date) out = `date:${v.getTime()}`;
    else if (v instanceof Map) out = `map{${[...v].map(([k, item]) => `${walk(k)}=>${walk(item)}`).join(',')}}`;
    else if (v instanceof Set) out = `set{${[...v].map(walk).join(',')}}`;
    else if (Array.isArray(v)) out = `[${Array.from(v, walk).join(',')}]`;
    else out = `{${Object.keys(v).map((k) => `${JSON.stringify(k)}:${walk((v as Record<string, unknown>)[k])}`).join(',')}}`;
    seen.delete(v);
    return out;
  };
  return walk(value);
}

const allowedPrototypes = new Set<unknown>([Object.prototype, Array.prototype, Map.prototype, Set.prototype, Date.prototype, Buffer.prototype, Uint8Array.prototype]);
const noneMore = new Set<unknown>();
const baseline = new Map<object, number>([Object.prototype, Array.prototype, Function.prototype].map((proto) => [proto, Reflect.ownKeys(proto).length]));

/**
 * Checks a value decoded from untrusted bytes: no cycles (nothing a handler walking it could loop
 * on), no prototype but those of the kinds the serializer makes (or `alsoAllowed`), and no
 * prototype written to. Says whether the value holds one of `alsoAllowed`, and how deep it nests.
 */
export function checkDecoded(value: unknown, alsoAllowed: ReadonlySet<unknown> = noneMore): { extra: boolean; depth: number } {
  const path = new Set<object>();
  let extra = false;
  let deepest = 0;
  const walk = (v: unknown, depth: number): void => {
    deepest = Math.max(deepest, depth);
    if (typeof v !== 'object' || v === null) {
      ensure(typeof v !== 'function' && typeof v !== 'symbol', `decoded a ${typeof v}`);
      return;
    }
    ensure(!path.has(v), 'decoded a cyclic value');
    const proto: unknown = Object.getPrototypeOf(v);
    ensure(allowedPrototypes.has(proto) || alsoAllowed.has(proto), `decoded an object whose prototype is ${Object.getPrototypeOf(v)?.constructor?.name}`);
    if (!allowedPrototypes.has(proto)) extra = true;
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Date || v instanceof RegExp || depth > 10_000) return;
    path.add(v);
    if (v instanceof Map) {
      for (const [k, item] of v) {
        walk(k, depth + 1);
        walk(item, depth + 1);
      }
    } else if (v instanceof Set) for (const item of v) walk(item, depth + 1);
    else for (const k of Object.keys(v)) walk((v as Record<string, unknown>)[k], depth + 1);
    path.delete(v);
  };
  walk(value, 0);
  for (const [proto, keys] of baseline) ensure(Reflect.ownKeys(proto).length === keys, 'a prototype was written to');
  return { extra, depth: deepest };
}
