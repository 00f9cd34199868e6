import { Code } from '../../core/code.js';
import { RpcError, errorMessage } from '../../core/rpc-error.js';
import type { ServerCall } from '../../core/server-call.js';
import type { Serializer } from '../../serialization/serializer.js';

/** Items a server may send before the caller grants more, when the request names no credit. */
export const DEFAULT_STREAM_CREDIT = 16;

export interface StreamSink {
  item(body: Uint8Array): void;
  /** The stream ended; `error` if it failed. */
  end(error?: RpcError): void;
}

/**
 * Sends a server stream: pulls the implementation's iterator only while the caller has granted
 * credit, so a slow consumer holds the provider back instead of filling its memory.
 */
export class OutgoingStream {
  private credit: number;
  private wake: (() => void) | undefined;
  private iterator: AsyncIterator<unknown> | undefined;

  constructor(
    private readonly call: ServerCall,
    private readonly serializer: Serializer,
    readonly sink: StreamSink,
    credit: number,
    /** The largest item the caller accepts (its frame limit). */
    private readonly maxItemSize: number,
  ) {
    this.credit = credit;
  }

  /** More items may be sent. */
  grant(count: number): void {
    this.credit += count;
    this.wakeUp();
  }

  /** The caller cancelled or the connection went: stop pulling and let the implementation finish. */
  stop(): void {
    this.wakeUp();
    if (this.iterator !== undefined) closeQuietly(this.iterator);
  }

  /**
   * Sends what the handler returned until it ends, fails or the call is aborted. Never rejects:
   * whatever the implementation's iterable does ends in `sink.end` or in silence after an abort.
   */
  async run(result: unknown): Promise<void> {
    let iterator: AsyncIterator<unknown>;
    try {
      iterator = iteratorOf(result, this.call.method);
    } catch (error) {
      this.sink.end(RpcError.from(error, Code.INTERNAL));
      return;
    }
    this.iterator = iterator;
    // Like for-await: an iterator that ended or threw is not asked to return.
    let open = true;
    try {
      while (true) {
        while (this.credit === 0 && !this.call.aborted) await new Promise<void>((resolve) => (this.wake = resolve));
        if (this.call.aborted) return;
        let next: IteratorResult<unknown>;
        try {
          next = await iterator.next();
          if (typeof next !== 'object' || next === null) throw new RpcError(Code.INTERNAL, `the stream of ${this.call.method} yielded a non-object from next()`);
          if (next.done === true) {
            open = false;
            break;
          }
        } catch (error) {
          open = false;
          throw error;
        }
        if (this.call.aborted) return;
        const body = this.encode(next.value);
        this.credit--;
        this.sink.item(body);
      }
      this.sink.end();
    } catch (error) {
      if (!this.call.aborted) this.sink.end(RpcError.from(error));
    } finally {
      if (open) closeQuietly(iterator);
    }
  }

  private encode(value: unknown): Uint8Array {
    let body: Uint8Array;
    try {
      body = this.serializer.encode(value);
    } catch (error) {
      throw new RpcError(Code.INTERNAL, `cannot encode a stream item: ${errorMessage(error)}`);
    }
    if (body.byteLength > this.maxItemSize) {
      throw new RpcError(Code.RESOURCE_EXHAUSTED, `stream item of ${body.byteLength} bytes exceeds the frame limit of ${this.maxItemSize}`);
    }
    return body;
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** The iterator of a handler's result, read without trusting it (its getters may throw). */
function iteratorOf(result: unknown, method: string): AsyncIterator<unknown> {
  const factory: unknown = typeof result === 'object' && result !== null ? (result as AsyncIterable<unknown>)[Symbol.asyncIterator] : undefined;
  if (typeof factory !== 'function') throw new RpcError(Code.INTERNAL, `streaming method ${method} did not return an AsyncIterable`);
  const iterator: unknown = factory.call(result);
  if (typeof iterator !== 'object' || iterator === null || typeof (iterator as AsyncIterator<unknown>).next !== 'function') {
    throw new RpcError(Code.INTERNAL, `the AsyncIterable of streaming method ${method} returned no iterator`);
  }
  return iterator as AsyncIterator<unknown>;
}

/** Lets an iterator clean up; whatever its `return` does, throws or rejects with is ignored. */
function closeQuietly(iterator: AsyncIterator<unknown>): void {
  try {
    const done: unknown = iterator.return?.();
    if (done instanceof Promise) done.catch(() => {});
  } catch {
    // the stream is over for the caller either way
  }
}
