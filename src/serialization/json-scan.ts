import { decodeLimitError, type DecodeLimits } from './serializer.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * Walks JSON text (UTF-8 bytes) without parsing it, and throws a `RangeError` if it nests deeper
 * or holds more items than `limits` allow. Items are counted as commas and opening brackets: the
 * array items and object members, give or take one per container. Strings are skipped (long ones
 * with `indexOf`), so a large base64 value costs next to nothing. Malformed text is left for `JSON.parse`.
 */
export function checkJson(text: Uint8Array, limits: DecodeLimits): void {
  const bytes = searchable(text);
  const end = bytes.length;
  let depth = 0;
  let items = 0;
  for (let at = 0; at < end; at++) {
    const byte = bytes[at]!;
    if (byte === QUOTE) {
      at = closingQuote(bytes, at + 1);
    } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > limits.maxDepth) throw decodeLimitError(limits, 'maxDecodeDepth', 'JSON value');
      if (++items > limits.maxItems) throw decodeLimitError(limits, 'maxDecodeItems', 'JSON value');
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
      depth--;
    } else if (byte === COMMA) {
      if (++items > limits.maxItems) throw decodeLimitError(limits, 'maxDecodeItems', 'JSON value');
    }
  }
}

/** Node's `Buffer`, where the global exists: its indexOf searches natively, some thirty times faster than a Uint8Array's. */
const NodeBuffer = (globalThis as { Buffer?: { isBuffer(value: unknown): boolean; from(data: ArrayBufferLike, offset: number, length: number): Uint8Array } }).Buffer;

/** The bytes as a Node `Buffer` view where there is one (in a browser, as they are). */
function searchable(bytes: Uint8Array): Uint8Array {
  return NodeBuffer === undefined || NodeBuffer.isBuffer(bytes) ? bytes : NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Strings up to about this long are stepped through; longer ones are searched with `indexOf`. */
const SHORT_STRING = 32;

/** The index of the quote that ends the string starting at `from` (past the end if there is none). */
function closingQuote(bytes: Uint8Array, from: number): number {
  // Most strings are keys and short values: a plain loop beats a call into `indexOf` for those.
  const stop = Math.min(bytes.length, from + SHORT_STRING);
  let at = from;
  for (; at < stop; at++) {
    const byte = bytes[at];
    if (byte === QUOTE) return at;
    if (byte === BACKSLASH) at++;
  }
  while (at < bytes.length) {
    const quote = bytes.indexOf(QUOTE, at);
    if (quote < 0) return bytes.length;
    // The quote is escaped if an odd number of backslashes precede it.
    let backslashes = 0;
    while (bytes[quote - backslashes - 1] === BACKSLASH && quote - backslashes - 1 >= at) backslashes++;
    if (backslashes % 2 === 0) return quote;
    at = quote + 1;
  }
  return bytes.length;
}
