import type { ClientHttp2Stream } from 'node:http2';
import type { RpcError } from '../../core/rpc-error.js';

/** Messages queued before the stream is paused; HTTP/2 flow control then holds the server back. */
const HIGH_WATER = 16;
const LOW_WATER = 4;

/**
 * The `AsyncIterable` a server-streaming call resolves to. Messages wait here until the caller
 * asks for them; past a few, the HTTP/2 stream stops reading, so a slow consumer bounds what the
 * server can send. Leaving the loop early (`break`, `return()`) cancels the call.
 */
export class ResponseStream implements AsyncIterable<unknown> {
  private readonly queue: Array<() => Promise<unknown>> = [];
  private waiting: { resolve(result: IteratorResult<unknown>): void; reject(error: unknown): void } | undefined;
  private end: { error: RpcError | undefined } | undefined;
  private taken = false;

  constructor(
    private readonly stream: ClientHttp2Stream,
    private readonly cancel: () => void,
  ) {}

  /** A message arrived; `read` decodes it (and decompresses it first if needed) when asked for. */
  push(read: () => Promise<unknown>): void {
    this.queue.push(read);
    if (this.waiting !== undefined) this.deliver();
    else if (this.queue.length >= HIGH_WATER) this.stream.pause();
  }

  /** The call ended: with `undefined` after the last message, or with the error that ended it. */
  close(error: RpcError | undefined): void {
    if (this.end !== undefined) return;
    this.end = { error };
    if (this.waiting !== undefined) this.deliver();
  }

  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    if (this.taken) throw new TypeError('a response stream can be iterated once');
    this.taken = true;
    return {
      next: () => new Promise<IteratorResult<unknown>>((resolve, reject) => {
        this.waiting = { resolve, reject };
        this.deliver();
      }),
      return: async (value?: unknown) => {
        if (this.end === undefined) this.cancel();
        this.queue.length = 0;
        return { done: true, value };
      },
    };
  }

  private deliver(): void {
    const waiting = this.waiting;
    if (waiting === undefined) return;
    const read = this.queue.shift();
    if (read !== undefined) {
      this.waiting = undefined;
      if (this.queue.length <= LOW_WATER && this.stream.isPaused()) this.stream.resume();
      read().then((value) => waiting.resolve({ done: false, value }), (error: unknown) => {
        this.cancel();
        waiting.reject(error);
      });
      return;
    }
    const end = this.end;
    if (end === undefined) return;
    this.waiting = undefined;
    if (end.error !== undefined) waiting.reject(end.error);
    else waiting.resolve({ done: true, value: undefined });
  }
}
