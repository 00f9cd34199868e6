import { Code } from '../../core/code.js';
import { RpcError } from '../../core/rpc-error.js';
import { COMPRESS_FROM, compress, type Encoding } from './compression.js';

/** What writing a server stream needs from the call it answers. */
export interface StreamOut {
  /** The call's status is decided (sent, or the stream is gone): nothing more is written. */
  readonly finished: boolean;
  readonly responseEncoding: Encoding;
  /** The item as a message; throws an `RpcError` when it cannot be encoded or is too large. */
  encode(value: unknown): Uint8Array;
  /** Writes one message (the response headers first); a promise when the client must read first. */
  writeItem(bytes: Uint8Array, compressed: boolean): Promise<void> | undefined;
  /** Ends the stream with status OK. */
  endStream(): void;
  failStream(error: RpcError): void;
}

/**
 * Writes the items of `result`, an `AsyncIterable`, as they come, waiting whenever the client
 * reads slowly. An error the iterable throws ends the stream with its status after the items
 * before it. Rejects only if `result` itself cannot be read (a getter or Proxy trap that throws).
 */
export async function writeStream(out: StreamOut, result: unknown, method: string): Promise<void> {
  if (out.finished) return;
  if (typeof result !== 'object' || result === null || typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function') {
    return out.failStream(new RpcError(Code.INTERNAL, `server-streaming method ${method} returned no AsyncIterable`));
  }
  const zip = out.responseEncoding;
  const iterator = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  let exhausted = false;
  try {
    for (;;) {
      let next: IteratorResult<unknown>;
      try {
        next = await iterator.next();
      } catch (error) {
        exhausted = true;
        throw error;
      }
      if (next.done === true) exhausted = true;
      if (out.finished || exhausted) break;
      let bytes = out.encode(next.value);
      const compressed = zip !== 'identity' && bytes.length >= COMPRESS_FROM;
      if (compressed) {
        bytes = await compress(zip, bytes);
        if (out.finished) break;
      }
      const drained = out.writeItem(bytes, compressed);
      if (drained !== undefined) await drained;
    }
    if (!out.finished) out.endStream();
  } catch (error) {
    out.failStream(RpcError.from(error));
  } finally {
    if (!exhausted) await closeIterator(iterator);
  }
}

/** Ends an iterator left early (its generator's `finally` runs); whatever `return` does, it settles. */
async function closeIterator(iterator: AsyncIterator<unknown>): Promise<void> {
  try {
    await iterator.return?.();
  } catch {
    // the stream's status is decided already; a failing return() cannot change it
  }
}
