/**
 * Observables, Nest's way to answer, as Switchyard answers: the last value of a unary call, or the
 * items of a server stream as an `AsyncIterable`. An abandoned call unsubscribes.
 */
import type { Observable, Subscription } from 'rxjs';
import { isAsyncIterable } from '../core/async-iterable.js';
import { cancelledBy } from '../core/rpc-error.js';
import { toRpcError } from './errors.js';

/**
 * The last value `source` emits (undefined if it completes empty), as Nest's clients read a reply.
 * When `signal` fires first, unsubscribes and rejects with its reason.
 */
export function lastValueOf(source: Observable<unknown>, signal: AbortSignal | undefined): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(cancelledBy(signal.reason));
      return;
    }
    let last: unknown;
    let settled = false;
    const onAbort = () => {
      settled = true;
      subscription?.unsubscribe();
      reject(cancelledBy(signal?.reason));
    };
    const subscription: Subscription | undefined = source.subscribe({
      next: (value) => {
        last = value;
      },
      error: (error: unknown) => {
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        reject(toRpcError(error));
      },
      complete: () => {
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        resolve(last);
      },
    });
    if (!settled) signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The items of `source` as a stream the dispatcher pulls. It subscribes on the first `next()` and
 * unsubscribes when the caller stops (`return()`) or `signal` fires. An Observable pushes: what it
 * emits faster than the caller takes waits here, so an endless fast source should be throttled by
 * its handler (or written as an async generator, which is pulled). An item that is itself an
 * `AsyncIterable` (what a Nest interceptor makes of a handler that returned an async generator) is
 * pulled in its place.
 */
export function streamOfObservable(source: Observable<unknown>, signal: AbortSignal | undefined): AsyncIterable<unknown> {
  return { [Symbol.asyncIterator]: () => new ObservableIterator(source, signal) };
}

class ObservableIterator implements AsyncIterator<unknown> {
  private readonly items: unknown[] = [];
  private head = 0;
  private subscription: Subscription | undefined;
  private subscribed = false;
  /** No item will come any more: the source ended, or the caller or the signal stopped it. */
  private finished = false;
  /** Why the source ended, thrown once its items before it are delivered. */
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;
  private inner: AsyncIterator<unknown> | undefined;
  private readonly onAbort = () => this.stop({ error: cancelledBy(this.signal?.reason) });

  constructor(
    private readonly source: Observable<unknown>,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async next(): Promise<IteratorResult<unknown>> {
    if (!this.subscribed) this.subscribe();
    for (;;) {
      if (this.inner !== undefined) {
        const step = await this.pullInner(this.inner);
        if (step.done !== true) return step;
        this.inner = undefined;
      }
      if (this.head < this.items.length) {
        const value = this.take();
        if (isAsyncIterable(value)) {
          this.inner = value[Symbol.asyncIterator]();
          continue;
        }
        return { value, done: false };
      }
      if (this.failure !== undefined) {
        const { error } = this.failure;
        this.failure = undefined;
        throw toRpcError(error);
      }
      if (this.finished) return { value: undefined, done: true };
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  async return(value?: unknown): Promise<IteratorResult<unknown>> {
    const inner = this.inner;
    this.inner = undefined;
    this.stop(undefined);
    await inner?.return?.();
    return { value, done: true };
  }

  private subscribe(): void {
    this.subscribed = true;
    if (this.signal?.aborted) {
      this.onAbort();
      return;
    }
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    // An Observable may emit and end inside subscribe(): `finished` is then already set.
    const subscription = this.source.subscribe({
      next: (value) => {
        if (this.finished) return;
        this.items.push(value);
        this.wakeUp();
      },
      error: (error: unknown) => this.end({ error }),
      complete: () => this.end(undefined),
    });
    if (this.finished) subscription.unsubscribe();
    else this.subscription = subscription;
  }

  private async pullInner(inner: AsyncIterator<unknown>): Promise<IteratorResult<unknown>> {
    try {
      return await inner.next();
    } catch (error) {
      this.inner = undefined;
      this.stop(undefined);
      throw toRpcError(error);
    }
  }

  private take(): unknown {
    const value = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    }
    return value;
  }

  /** The source ended by itself: what it emitted before is still delivered. */
  private end(failure: { error: unknown } | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.failure = failure;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.wakeUp();
  }

  /** The caller stopped or the call was aborted: nothing more is delivered but `failure`. */
  private stop(failure: { error: unknown } | undefined): void {
    this.finished = true;
    this.failure = failure;
    this.items.length = 0;
    this.head = 0;
    this.signal?.removeEventListener('abort', this.onAbort);
    const subscription = this.subscription;
    this.subscription = undefined;
    subscription?.unsubscribe();
    this.wakeUp();
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
