import { Code } from '../../core/code.js';
import { RpcError } from '../../core/rpc-error.js';
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
    void this.iterator?.return?.().catch(() => {});
  }

  async run(result: unknown): Promise<void> {
    const iterable = result as AsyncIterable<unknown> | undefined;
    if (iterable === null || typeof iterable !== 'object' || typeof iterable[Symbol.asyncIterator] !== 'function') {
      this.sink.end(new RpcError(Code.INTERNAL, `streaming method ${this.call.method} did not return an AsyncIterable`));
      return;
    }
    this.iterator = iterable[Symbol.asyncIterator]();
    try {
      while (true) {
        while (this.credit === 0 && !this.call.aborted) await new Promise<void>((resolve) => (this.wake = resolve));
        if (this.call.aborted) return;
        const next = await this.iterator.next();
        if (this.call.aborted) return;
        if (next.done === true) break;
        let body: Uint8Array;
        try {
          body = this.serializer.encode(next.value);
        } catch (error) {
          throw new RpcError(Code.INTERNAL, `cannot encode a stream item: ${(error as Error).message}`);
        }
        this.credit--;
        this.sink.item(body);
      }
      this.sink.end();
    } catch (error) {
      if (!this.call.aborted) this.sink.end(RpcError.from(error));
    } finally {
      if (this.call.aborted) void this.iterator.return?.().catch(() => {});
    }
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
