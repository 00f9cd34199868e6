import { decodeLimitError, type DecodeLimits } from './serializer.js';

/**
 * Extension types whose value is the MessagePack value written after them (msgpackr reads it with
 * a nested `read()`): its built-in Error (0x65), Set (0x73) and RegExp (0x78) in any extension form,
 * and this project's Map (0x4d) and Set (0x53) boxes, written as a fixext 1 followed by their entries.
 */
const WRAPS_NEXT_BUILTIN = new Set([0x65, 0x73, 0x78]);
const WRAPS_NEXT_FIXEXT1 = new Set([0x4d, 0x53, 0x65, 0x73, 0x78]);
/** msgpackr's record definitions (0x72) and string bundles (0x62): never written here, refused when read. */
const RECORDS = 0x72;
const BUNDLE = 0x62;
/**
 * msgpackr's built-in extensions for values that never travel (docs/calls.md, "Values: what
 * arrives"): this serializer refuses to write them, so only a foreign or hostile peer sends them.
 * Refused when read too, so that no handler is handed a RegExp the caller chose (a pattern that
 * takes the event loop hostage), an Error, or a typed array, DataView or ArrayBuffer it never expects.
 */
const FOREIGN: Record<number, string> = { 0x65: 'Error', 0x74: 'typed array, DataView or ArrayBuffer', 0x78: 'RegExp' };

/** Bytes after the type byte of the fixed-size tokens 0xc0..0xdf, or -1 where the token needs reading. */
const FIXED_SIZE = new Int8Array(32).fill(-1);
for (const [token, size] of [[0xc0, 0], [0xc2, 0], [0xc3, 0], [0xca, 4], [0xcb, 8], [0xcc, 1], [0xcd, 2], [0xce, 4], [0xcf, 8], [0xd0, 1], [0xd1, 2], [0xd2, 4], [0xd3, 8]] as const) {
  FIXED_SIZE[token - 0xc0] = size;
}

/**
 * Walks one MessagePack value without building it, and throws a `RangeError` if it nests deeper
 * or holds more array items and map entries than `limits` allow, uses msgpackr's records or
 * string bundles, or holds a value that never travels (`FOREIGN`). The walk keeps its own stack, so no depth of input can overflow the call stack.
 * Malformed or truncated input is left for the decoder to refuse: the walk stops where it ends.
 */
export function checkMessagePack(bytes: Uint8Array, limits: DecodeLimits): void {
  const end = bytes.length;
  // Values still to read at each open level; `left` is the innermost's.
  const outer: number[] = [];
  let left = 1;
  let items = 0;
  let at = 0;
  while (at < end) {
    while (left === 0) {
      if (outer.length === 0) return;
      left = outer.pop()!;
    }
    left--;
    const token = bytes[at++]!;
    if (token < 0x80 || token >= 0xe0) continue; // fixint
    // An array's items, or a map's entries (whose keys and values are read: twice as many values).
    let entries: number;
    let perEntry = 1;
    if (token < 0x90) {
      entries = token & 0x0f; // fixmap
      perEntry = 2;
    } else if (token < 0xa0) entries = token & 0x0f; // fixarray
    else if (token < 0xc0) {
      at += token & 0x1f; // fixstr
      continue;
    } else {
      const fixed = FIXED_SIZE[token - 0xc0]!;
      if (fixed >= 0) {
        at += fixed;
        continue;
      }
      // msgpackr reads the unused byte 0xc1 as a marker object of its own.
      if (token === 0xc1) throw new RangeError('MessagePack byte 0xc1 is never used');
      if (at >= end) return;
      switch (token) {
        case 0xc4: case 0xd9: at += 1 + bytes[at]!; continue; // bin 8, str 8
        case 0xc5: case 0xda: at += 2 + u16(bytes, at); continue; // bin 16, str 16
        case 0xc6: case 0xdb: at += 4 + u32(bytes, at); continue; // bin 32, str 32
        case 0xc7: case 0xc8: case 0xc9: { // ext 8, 16, 32: length, type, data
          const width = token === 0xc7 ? 1 : token === 0xc8 ? 2 : 4;
          const length = width === 1 ? bytes[at]! : width === 2 ? u16(bytes, at) : u32(bytes, at);
          const type = bytes[at + width];
          checkExtension(type);
          if (type !== undefined && WRAPS_NEXT_BUILTIN.has(type)) left++;
          at += width + 1 + length;
          continue;
        }
        case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: { // fixext 1, 2, 4, 8, 16: type, data
          const type = bytes[at]!;
          if (type === RECORDS) throw new RangeError('MessagePack records (extension 0x72) are not accepted');
          checkExtension(type);
          if (token === 0xd4 ? WRAPS_NEXT_FIXEXT1.has(type) : WRAPS_NEXT_BUILTIN.has(type)) left++;
          at += 1 + (1 << (token - 0xd4));
          continue;
        }
        case 0xdc: entries = u16(bytes, at); at += 2; break; // array 16
        case 0xdd: entries = u32(bytes, at); at += 4; break; // array 32
        case 0xde: entries = u16(bytes, at); perEntry = 2; at += 2; break; // map 16
        case 0xdf: entries = u32(bytes, at); perEntry = 2; at += 4; break; // map 32
        default: return;
      }
    }
    // An array or a map opens a level, empty or not.
    if (outer.length >= limits.maxDepth) throw decodeLimitError(limits, 'maxDecodeDepth', 'MessagePack value');
    items += entries;
    if (items > limits.maxItems) throw decodeLimitError(limits, 'maxDecodeItems', 'MessagePack value');
    if (entries > 0) {
      outer.push(left);
      left = entries * perEntry;
    }
  }
}

function checkExtension(type: number | undefined): void {
  if (type === BUNDLE) throw new RangeError('MessagePack string bundles (extension 0x62) are not accepted');
  const foreign = type === undefined ? undefined : FOREIGN[type];
  if (foreign !== undefined) throw new RangeError(`MessagePack ${foreign} values (extension 0x${type!.toString(16)}) are not accepted`);
}

function u16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | (bytes[at + 1] ?? 0);
}

function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! * 0x1000000) + ((bytes[at + 1] ?? 0) << 16) + ((bytes[at + 2] ?? 0) << 8) + (bytes[at + 3] ?? 0);
}
