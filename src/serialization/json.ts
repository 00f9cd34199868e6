import { fromBase64, toBase64 } from '../core/base64.js';
import type { Serializer } from './serializer.js';

/**
 * JSON. Bytes travel as `{"$bytes": "<base64>"}`, bigints as `{"$bigint": "<digits>"}` and dates as
 * ISO strings (they decode as strings). `JSON.parse` defines `__proto__` as an own key, so payloads
 * cannot reach a prototype.
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

function replacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Uint8Array) return { $bytes: toBase64(raw) };
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const tagged = value as { $bytes?: unknown; $bigint?: unknown };
      if (typeof tagged.$bytes === 'string') return fromBase64(tagged.$bytes);
      if (typeof tagged.$bigint === 'string' && /^-?\d+$/.test(tagged.$bigint)) return BigInt(tagged.$bigint);
    }
  }
  return value;
}
