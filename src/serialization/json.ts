import { fromBase64, toBase64 } from '../core/base64.js';
import type { Serializer } from './serializer.js';

/**
 * JSON. Values JSON has no form for travel as one-key tags: bytes as `{"$bytes": "<base64>"}`,
 * bigints as `{"$bigint": "<digits>"}`, maps as `{"$map": [[key, value], …]}` and sets as
 * `{"$set": [item, …]}`; dates as ISO strings (they decode as strings). A tag whose value is a
 * string or array of the wrong form is refused rather than decoded to something else. An `Error`
 * value cannot be encoded: its fields would be lost without a word. `JSON.parse` defines
 * `__proto__` as an own key, so payloads cannot reach a prototype.
 */
export function jsonSerializer(): Serializer {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  return {
    id: 1,
    name: 'json',
    encode: (value) => encoder.encode(JSON.stringify(value, replacer)),
    decode: (bytes) => (bytes.length === 0 ? undefined : JSON.parse(decoder.decode(bytes), reviver)),
  };
}

/**
 * The most digits a `$bigint` may have. Turning decimal digits into a bigint takes time quadratic
 * in their number (16 MiB of digits blocked the event loop for 5 s); 4,300 is Python's limit for
 * the same reason, and covers any 14,000-bit number.
 */
export const MAX_BIGINT_DIGITS = 4300;

const bigintDigits = /^-?\d+$/;
// Node's decoder takes both alphabets; anything else in the text is not base64 and must not vanish.
const base64Text = /^[A-Za-z0-9+/_-]*={0,2}$/;

function replacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Uint8Array) return { $bytes: toBase64(raw) };
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (raw instanceof Map) return { $map: [...raw] };
  if (raw instanceof Set) return { $set: [...raw] };
  if (raw instanceof Error) throw new TypeError(`JSON cannot carry an Error value${key === '' ? '' : ` (at key ${JSON.stringify(key)})`}: send its name and message as plain data`);
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (keys.length !== 1) return value;
  const tag = keys[0]!;
  const content = (value as Record<string, unknown>)[tag];
  switch (tag) {
    case '$bytes':
      return typeof content === 'string' ? bytesFrom(content) : value;
    case '$bigint':
      return typeof content === 'string' ? bigintFrom(content) : value;
    case '$map':
      return Array.isArray(content) ? mapFrom(content) : value;
    case '$set':
      return Array.isArray(content) ? new Set(content) : value;
    default:
      return value;
  }
}

function bytesFrom(text: string): Uint8Array {
  if (!base64Text.test(text) || text.replace(/=+$/, '').length % 4 === 1) {
    throw new SyntaxError(`$bytes holds text that is not base64 (${text.length} characters)`);
  }
  return fromBase64(text);
}

function bigintFrom(text: string): bigint {
  const digits = text.length - (text.startsWith('-') ? 1 : 0);
  if (digits > MAX_BIGINT_DIGITS) throw new RangeError(`$bigint has ${digits} digits; at most ${MAX_BIGINT_DIGITS} are accepted`);
  if (!bigintDigits.test(text)) throw new SyntaxError(`$bigint holds ${JSON.stringify(text.slice(0, 40))}, which is not an integer`);
  return BigInt(text);
}

function mapFrom(entries: unknown[]): Map<unknown, unknown> {
  for (const entry of entries) {
    if (!Array.isArray(entry) || entry.length !== 2) throw new SyntaxError('$map holds an entry that is not a [key, value] pair');
  }
  return new Map(entries as Array<[unknown, unknown]>);
}
