import { Code } from '../core/code.js';
import type { Metadata } from '../core/metadata.js';
import { RpcError } from '../core/rpc-error.js';
import type { ServiceDefinition } from '../core/service.js';
import { startTimerAt, stopTimer, type Timer } from '../core/timer.js';
import type { PoolWorker } from './pool-worker.js';

/** The call context of `WorkerPool.run`. A server `Invocation` is one. */
export interface PoolRunOptions {
  /** Cancels the call: a queued call is dropped, a running one sees its signal fire in the worker. */
  signal?: AbortSignal | undefined;
  /** Absolute epoch ms; the call fails with DEADLINE_EXCEEDED when it passes. */
  deadline?: number | undefined;
  /** Request metadata the worker's call sees. */
  metadata?: Metadata | undefined;
  /** Receives the metadata the worker's implementation sets on its call. */
  responseMetadata?: Metadata | undefined;
  /** The service the worker's `currentCall().service` reports. */
  service?: ServiceDefinition | undefined;
  oneWay?: boolean | undefined;
}

/** One call through the pool, from the caller's side: queued, then run by a worker. */
export class Task {
  /** The caller has its answer (a result, a stream, or an error). */
  answered = false;
  worker: PoolWorker | undefined;
  stream: WorkerStream | undefined;
  /** Set once the running call is cancelled: when it fires, a worker still running it is replaced. */
  graceTimer: NodeJS.Timeout | undefined;
  readonly promise: Promise<unknown>;
  private resolveFn!: (value: unknown) => void;
  private rejectFn!: (error: RpcError) => void;
  private timer: Timer | undefined;
  private readonly abortListener: (() => void) | undefined;

  constructor(
    readonly id: number,
    readonly method: string,
    readonly args: unknown[],
    readonly options: PoolRunOptions,
    onAbort: (task: Task, reason: RpcError) => void,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    const { signal, deadline } = options;
    if (signal !== undefined) {
      this.abortListener = () => onAbort(this, RpcError.from(signal.reason, Code.CANCELLED));
      signal.addEventListener('abort', this.abortListener, { once: true });
    }
    if (deadline !== undefined) {
      const expire = () => onAbort(this, new RpcError(Code.DEADLINE_EXCEEDED, 'deadline exceeded'));
      this.timer = startTimerAt(deadline, expire, undefined)?.unref();
    }
  }

  /** Why the call cannot start at all, if its signal or deadline has already fired. */
  get refusal(): RpcError | undefined {
    const { signal, deadline } = this.options;
    if (signal?.aborted === true) return RpcError.from(signal.reason, Code.CANCELLED);
    if (deadline !== undefined && deadline <= Date.now()) return new RpcError(Code.DEADLINE_EXCEEDED, 'deadline exceeded');
    return undefined;
  }

  resolve(value: unknown): void {
    if (this.answered) return;
    this.answered = true;
    this.resolveFn(value);
  }

  /** Answers the caller with `error` if it has no answer yet; a stream it holds fails too. */
  fail(error: RpcError): void {
    this.stream?.fail(error);
    if (this.answered) return;
    this.answered = true;
    this.rejectFn(error);
  }

  /** The worker is done with the call: no more cancelling it. */
  release(): void {
    stopTimer(this.timer);
    clearTimeout(this.graceTimer);
    if (this.abortListener !== undefined) this.options.signal?.removeEventListener('abort', this.abortListener);
  }
}

/**
 * A streaming result seen by the caller: each `next()` asks the worker for one item, so a slow
 * consumer holds at most one item in flight and the worker's generator waits for it.
 */
export class WorkerStream implements AsyncIterableIterator<unknown> {
  private waiting: { resolve: (step: IteratorResult<unknown>) => void; reject: (error: RpcError) => void } | undefined;
  private done = false;
  private failure: RpcError | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly request: (what: 'next' | 'return') => void) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<unknown>> {
    const step = this.tail.then(() => this.pull());
    this.tail = step.catch(() => undefined);
    return step;
  }

  async return(): Promise<IteratorResult<unknown>> {
    if (!this.done && this.failure === undefined) this.request('return');
    this.end();
    return { done: true, value: undefined };
  }

  /** From the pool: the item asked for. */
  item(value: unknown): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve({ done: false, value });
  }

  /** From the pool: the stream has ended. */
  end(): void {
    this.done = true;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve({ done: true, value: undefined });
  }

  /** From the pool: the stream failed; the next `next()` (or the pending one) rejects. */
  fail(error: RpcError): void {
    if (this.done || this.failure !== undefined) return;
    this.failure = error;
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting !== undefined) {
      this.done = true;
      waiting.reject(error);
    }
  }

  private pull(): Promise<IteratorResult<unknown>> {
    if (this.done) return Promise.resolve({ done: true, value: undefined });
    if (this.failure !== undefined) {
      this.done = true;
      return Promise.reject(this.failure);
    }
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.request('next');
    });
  }
}
