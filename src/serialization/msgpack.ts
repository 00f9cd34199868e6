import { Packr, addExtension } from 'msgpackr';
import { checkMessagePack } from './msgpack-scan.js';
import { DEFAULT_DECODE_LIMITS, type DecodeLimits, type Serializer } from './serializer.js';
import { unfaithful } from './unfaithful.js';

// msgpackr writes every Map as a plain msgpack map, which reads back as an object. To keep Maps as
// Maps, encode() swaps each one for a MapEntries box first, and the box has an extension of its own.
class MapEntries {
  constructor(readonly entries: Array<[unknown, unknown]>) {}
}

addExtension({
  Class: MapEntries,
  type: 0x4d,
  write: (box: MapEntries) => box.entries,
  read: (entries: Array<[unknown, unknown]>) => new Map(entries),
});
addExtension({
  Class: Set,
  type: 0x53,
  write: (set: Set<unknown>) => [...set].map((item) => boxMaps(item, 0)),
  read: (items: unknown[]) => new Set(items),
});

// msgpackr writes -0 as the integer 0. encode() swaps -0 for this box, written as the float64 -0
// that every MessagePack reader decodes as -0 (the extension type is only registered, never sent).
class NegativeZero {}
const negativeZero = new NegativeZero();
type Allocate = (size: number) => { target: Uint8Array; targetView: DataView; position: number };
// msgpackr calls a pack hook with an allocator; a hook that writes its bytes itself returns nothing.
const writeNegativeZero = (_box: NegativeZero, allocate: Allocate): undefined => {
  const { target, targetView, position } = allocate(9);
  target[position] = 0xcb;
  targetView.setFloat64(position + 1, -0);
  return undefined;
};
addExtension({
  Class: NegativeZero,
  type: 0x2d,
  pack: writeNegativeZero as unknown as (value: unknown) => Uint8Array,
  unpack: () => -0,
});

// Maps are boxed as deep as a decoder with the default limits reads, so what it reads can go back out as it came.
const MAX_DEPTH = DEFAULT_DECODE_LIMITS.maxDepth;
/** `String.prototype.isWellFormed`, in Node 20 and ES2024, past this project's ES2023 lib. */
type WellFormed = string & { isWellFormed(): boolean };
// Binary values at least this large are written by reference rather than copied into the encoding.
const LARGE_BINARY = 16 * 1024;

const isLargeBinary = (value: unknown): value is Uint8Array => value instanceof Uint8Array && value.byteLength >= LARGE_BINARY;

/** A msgpack bin 32 header for `length` bytes. */
function binHeader(length: number): Buffer {
  const header = Buffer.allocUnsafe(5);
  header[0] = 0xc6;
  header.writeUInt32BE(length, 1);
  return header;
}

/**
 * Returns `value` itself when it holds no Map and no -0 (the common case, found without copying),
 * else a copy in which each is boxed. Throws for a value MessagePack would change without a word
 * (see `refuseUnfaithful`). Arrays, plain objects and the fields of class instances are searched;
 * msgpackr writes a class instance as its own fields, or as what its `toJSON()` returns.
 */
function boxMaps(value: unknown, depth: number): unknown {
  if (value === 0 && 1 / value < 0) return negativeZero;
  if (typeof value === 'string') {
    // UTF-8 has no form for half a surrogate pair: msgpackr would write U+FFFD instead, without a word.
    if (!(value as WellFormed).isWellFormed()) throw new TypeError('MessagePack cannot carry a string with a lone surrogate (UTF-8 has no form for it); JSON can');
    return value;
  }
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return value;
  if (value instanceof Map) {
    return new MapEntries([...value].map(([key, item]) => [boxMaps(key, depth + 1), boxMaps(item, depth + 1)]));
  }
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const boxed = boxMaps(value[i], depth + 1);
      if (boxed !== value[i]) (copy ??= value.slice())[i] = boxed;
    }
    return copy ?? value;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    // Bytes, dates and sets have extensions of their own (the Set one boxes its items).
    if (value instanceof Uint8Array || value instanceof Date || value instanceof Set) return value;
    refuseUnfaithful(value);
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  }
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    const boxed = boxMaps(item, depth + 1);
    if (boxed !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = boxed;
  }
  return copy ?? value;
}

/** Throws for values msgpackr would turn into something else (see `unfaithful`). */
function refuseUnfaithful(value: object): void {
  const refused = unfaithful(value);
  if (refused !== undefined) throw new TypeError(`MessagePack cannot carry ${refused.what}: ${refused.instead}`);
}

/**
 * MessagePack (the default). `Date`, `bigint`, `Map`, `Set`, `undefined`, `NaN`, `±Infinity` and
 * `-0` round-trip. `Uint8Array` and `Buffer` values travel as msgpack bin and decode as `Buffer`
 * views of the received frame, not copies. `Error` and `RegExp` values, other typed arrays,
 * `DataView`s and `ArrayBuffer`s are refused when encoded (docs/calls.md, "Values: what arrives",
 * lists every case). A `__proto__` key decodes as the plain key `__proto_`, so no payload reaches a prototype.
 * msgpackr's structured-clone extensions (object ids and pointers to them) are refused when read:
 * they would let a peer send a cyclic graph, which a handler walking its arguments never expects;
 * so are its extensions for the values refused when encoded (a foreign peer's RegExp, say).
 * A message is walked before it is decoded and refused past `limits` (nesting, items); a message
 * long enough to break them may not use msgpackr's records or string bundles, which could hide its
 * nesting from that walk and which this serializer never writes.
 */
export function msgpackSerializer(limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Serializer {
  const options = { useRecords: false, int64AsType: 'bigint', useBigIntExtension: true, structuredClone: false } as const;
  const packr = new Packr(options);
  // The fast writer gives every object a 16-bit map header; the rare object with more than 65,535
  // keys is written again by one that sizes headers to fit, which is slower on every object.
  const widePackr = new Packr({ ...options, variableMapSize: true });
  const pack = (value: unknown): Buffer => {
    const boxed = boxMaps(value, 0);
    try {
      return packr.pack(boxed);
    } catch (error) {
      if (error instanceof Error && error.message.includes('variableMapSize')) return widePackr.pack(boxed);
      throw error;
    }
  };
  return {
    id: 0,
    name: 'msgpack',
    encode: pack,
    decode(bytes) {
      // Every message: a short one cannot break the limits, but can carry a value that never travels.
      checkMessagePack(bytes, limits);
      return packr.unpack(bytes as Buffer);
    },
    // A large binary value, alone or among the arguments of a call, is passed through by reference:
    // the encoding is the msgpack framing around it, written back to back with it.
    encodeChunks(value) {
      if (isLargeBinary(value)) return [binHeader(value.byteLength), value];
      if (!Array.isArray(value) || value.length > 15 || !value.some(isLargeBinary)) return undefined;
      const chunks: Uint8Array[] = [Buffer.of(0x90 | value.length)];
      for (const item of value) {
        if (isLargeBinary(item)) chunks.push(binHeader(item.byteLength), item);
        else chunks.push(pack(item));
      }
      return chunks;
    },
  };
}
