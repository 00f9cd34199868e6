import type { RpcError } from './rpc-error.js';

/** Items a reader lets the other side send ahead of its reading: the bound on a stream's buffered items. */
export const STREAM_WINDOW = 16;

/**
 * The reading side of a stream, for every transport and both directions: a caller reading a
 * server's items, and a handler reading its caller's. The transport pushes what arrives; the
 * reader iterates. It buffers at most the window the other side was granted, and grants more as
 * the reader takes items, so a slow reader slows the producer down. Leaving the loop early
 * (`break`, `return`) calls `cancel`.
 */
export class InboundStream implements AsyncIterable<unknown>, AsyncIterator<unknown> {
  private items: unknown[] = [];
  private head = 0;
  private done = false;
  private error: RpcError | undefined;
  private waiter: { resolve(result: IteratorResult<unknown>): void; reject(error: RpcError): void } | undefined;
  private unacknowledged = 0;

  constructor(
    /** Lets the producer send `count` more items; undefined for a transport with flow control of its own. */
    private readonly grant: ((count: number) => void) | undefined,
    private readonly cancel: () => void,
  ) {}

  /** Items received and not read yet: at most the window, when the producer keeps to its credit. */
  get buffered(): number {
    return this.items.length - this.head;
  }

  /** Whether the stream has ended, failed or been left by its reader. */
  get closed(): boolean {
    return this.done;
  }

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
      const value = this.items[this.head];
      this.items[this.head++] = undefined;
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      } else if (this.head >= STREAM_WINDOW && 2 * this.head >= this.items.length) {
        this.items = this.items.slice(this.head);
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

  /** Grants the producer credit in batches of half a window, as the reader takes items. */
  private consumed(): void {
    if (this.done || this.grant === undefined) return;
    if (++this.unacknowledged >= STREAM_WINDOW / 2) {
      this.grant(this.unacknowledged);
      this.unacknowledged = 0;
    }
  }
}
