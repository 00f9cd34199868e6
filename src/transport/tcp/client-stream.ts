import type { RpcError } from '../../core/rpc-error.js';

/** Items a caller lets a server send ahead of its reading: the bound on a stream's buffered items. */
export const STREAM_WINDOW = 16;

/**
 * The caller's side of a server stream. It buffers at most the window of items the server may
 * send, and grants more credit as the consumer reads, so a slow consumer slows the provider down.
 * Leaving the loop early (`break`, `return`) cancels the call.
 */
export class IncomingStream implements AsyncIterable<unknown>, AsyncIterator<unknown> {
  private items: unknown[] = [];
  private head = 0;
  private done = false;
  private error: RpcError | undefined;
  private waiter: { resolve(result: IteratorResult<unknown>): void; reject(error: RpcError): void } | undefined;
  private unacknowledged = 0;

  constructor(
    private readonly grant: (count: number) => void,
    private readonly cancel: () => void,
  ) {}

  push(value: unknown): void {
    if (this.done) return;
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      this.consumed();
      waiter.resolve({ value, done: false });
    } else {
      this.items.push(value);
    }
  }

  finish(): void {
    if (this.done) return;
    this.done = true;
    this.waiter?.resolve({ value: undefined, done: true });
    this.waiter = undefined;
  }

  fail(error: RpcError): void {
    if (this.done) return;
    this.done = true;
    this.error = error;
    this.waiter?.reject(error);
    this.waiter = undefined;
  }

  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return this;
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.head < this.items.length) {
      const value = this.items[this.head++];
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      }
      this.consumed();
      return Promise.resolve({ value, done: false });
    }
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  async return(value?: unknown): Promise<IteratorResult<unknown>> {
    if (!this.done) {
      this.done = true;
      this.items = [];
      this.cancel();
    }
    return { value, done: true };
  }

  /** Grants the server credit in batches of half a window, as the consumer reads. */
  private consumed(): void {
    if (this.done) return;
    if (++this.unacknowledged >= STREAM_WINDOW / 2) {
      this.grant(this.unacknowledged);
      this.unacknowledged = 0;
    }
  }
}
