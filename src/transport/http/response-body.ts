import { Code } from '../../core/code.js';
import { RpcError } from '../../core/rpc-error.js';
import type { Serializer } from '../../serialization/serializer.js';
import { errorFromBody } from './errors.js';
import type { ChunkReader } from './sender.js';

/** Reads a whole `fetch` response body of at most `limit` bytes; never holds more than that. */
export async function readLimited(response: Response, limit: number): Promise<Uint8Array> {
  const declared = response.headers.get('content-length');
  if (declared !== null) {
    if (Number(declared) > limit) {
      await response.body?.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    return new Uint8Array(await response.arrayBuffer());
  }
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader();
  return collect({ read: () => reader.read() as Promise<IteratorResult<Uint8Array, unknown>>, cancel: () => reader.cancel().catch(() => {}) }, limit);
}

/** Reads a body to its end, failing (and dropping the rest) past `limit` bytes. */
export async function collect(reader: ChunkReader, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done === true) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return join(chunks, size);
}

/**
 * The items of a JSON-lines stream (`{"value": …}` per line, a last `{"error": …}` if it failed).
 * A line longer than `limit` fails the stream. `release` runs once, when the stream ends however.
 */
export async function* readLines(reader: ChunkReader, serializer: Serializer, limit: number, release: () => void): AsyncGenerator<unknown> {
  let pending: Uint8Array[] = [];
  let pendingSize = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done === true) break;
      let start = 0;
      for (let at = value.indexOf(0x0a); at >= 0; at = value.indexOf(0x0a, start)) {
        pending.push(value.subarray(start, at));
        const line = join(pending, pendingSize + at - start);
        pending = [];
        pendingSize = 0;
        start = at + 1;
        if (line.byteLength > limit) throw tooLarge(limit);
        if (line.byteLength > 0) yield itemOf(serializer.decode(line));
      }
      if (start < value.byteLength) {
        pending.push(value.subarray(start));
        pendingSize += value.byteLength - start;
        if (pendingSize > limit) throw tooLarge(limit);
      }
    }
    if (pendingSize > 0) throw new RpcError(Code.INTERNAL, 'stream ended inside a line');
  } finally {
    release();
    await reader.cancel();
  }
}

function itemOf(line: unknown): unknown {
  if (typeof line === 'object' && line !== null && !Array.isArray(line)) {
    const record = line as Record<string, unknown>;
    if (Object.hasOwn(record, 'value')) return record.value;
    if (Object.hasOwn(record, 'error')) throw errorFromBody(record.error) ?? new RpcError(Code.INTERNAL, 'malformed error in stream');
    if (Object.keys(record).length === 0) return undefined; // {"value": undefined} as JSON
  }
  throw new RpcError(Code.INTERNAL, 'malformed stream line');
}

function join(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 0) return new Uint8Array(0);
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

export function tooLarge(limit: number): RpcError {
  return new RpcError(Code.RESOURCE_EXHAUSTED, `response exceeds the limit of ${limit} bytes`);
}
