import { Code } from './code.js';
import type { Invocation } from './invocation.js';
import { Metadata } from './metadata.js';
import { RpcError, errorMessage } from './rpc-error.js';
import type { ServiceDefinition } from './service.js';
import { startTimer, stopTimer, type Timer } from './timer.js';

let current: Invocation | undefined;

/**
 * The call being served, for an implementation that needs its metadata, deadline or signal.
 * Read it before the handler's first `await`: afterwards another call may be current.
 *
 * ```ts
 * async add(a: number, b: number) {
 *   const { signal, metadata } = currentCall();
 *   ...
 * }
 * ```
 */
export function currentCall(): Invocation {
  if (current === undefined) {
    throw new RpcError(Code.FAILED_PRECONDITION, 'currentCall() is only available while a handler starts');
  }
  return current;
}

/**
 * A stream whose every step runs with `call` as the current call, so that an async generator
 * (whose body starts only at the first `next()`) can read `currentCall()` too.
 */
export function streamAsCurrent(call: Invocation, stream: AsyncIterable<unknown>): AsyncIterable<unknown> {
  return {
    [Symbol.asyncIterator]() {
      const iterator = stream[Symbol.asyncIterator]();
      const step = (run: () => Promise<IteratorResult<unknown>>) => {
        const previous = current;
        current = call;
        try {
          return run();
        } finally {
          current = previous;
        }
      };
      return {
        next: (value?: unknown) => step(() => iterator.next(value)),
        return: (value?: unknown) => step(() => iterator.return?.(value) ?? Promise.resolve({ value, done: true })),
      };
    },
  };
}

/** Runs an implementation method with `call` as the current call for its synchronous part. */
export function runAsCurrent(call: Invocation, fn: (...args: unknown[]) => unknown, self: unknown): unknown {
  const previous = current;
  current = call;
  try {
    return fn.apply(self, call.args);
  } finally {
    current = previous;
  }
}

/**
 * A call on the server side. Its signal and deadline timer are made only when a handler asks for
 * the signal, since most calls end before anyone would look.
 */
export class ServerCall implements Invocation {
  readonly oneWay: boolean;
  private controller: AbortController | undefined;
  private abortReason: RpcError | undefined;
  private timer: Timer | undefined;
  private response: Metadata | undefined;
  private request: Metadata | undefined;
  private finished = false;
  // One listener in a field of its own: the usual case (a concurrency limit) allocates nothing.
  private listener: (() => void) | undefined;
  private moreListeners: Array<() => void> | undefined;

  constructor(
    readonly service: ServiceDefinition,
    readonly method: string,
    public args: unknown[],
    metadata: Metadata | undefined,
    readonly deadline: number | undefined,
    oneWay: boolean,
  ) {
    this.request = metadata;
    this.oneWay = oneWay;
  }

  get metadata(): Metadata {
    return (this.request ??= new Metadata());
  }

  get responseMetadata(): Metadata {
    return (this.response ??= new Metadata());
  }

  /** Whether a handler set any response metadata, without creating it. */
  get hasResponseMetadata(): boolean {
    return this.response !== undefined && this.response.size > 0;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) {
        this.controller.abort(this.abortReason);
      } else if (this.deadline !== undefined) {
        const left = this.deadline - Date.now();
        if (left <= 0) this.abort(deadlineExceeded());
        else this.timer = startTimer(left, expire, this)?.unref();
      }
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.abortReason !== undefined;
  }

  /** Aborts the handler's signal: the caller cancelled, the deadline passed or the server stops. */
  abort(reason: RpcError): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    this.stopTimer();
    this.controller?.abort(reason);
  }

  /**
   * Runs `listener` once the call is over for the server: its handler chain has settled and any
   * stream it returned has ended (cancelling does not end a call whose handler still runs). An
   * interceptor that holds something for a call's whole life releases it here, without a promise
   * reaction of its own. Listeners must not throw; one that does is reported as a process warning,
   * and the others still run.
   */
  whenFinished(listener: () => void): void {
    if (this.finished) listener();
    else if (this.listener === undefined) this.listener = listener;
    else (this.moreListeners ??= []).push(listener);
  }

  /** Called by the transport when the handler has answered: releases the deadline timer and tells the listeners. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.stopTimer();
    const { listener, moreListeners } = this;
    this.listener = this.moreListeners = undefined;
    if (listener !== undefined) runListener(listener);
    if (moreListeners !== undefined) for (const more of moreListeners) runListener(more);
  }

  private stopTimer(): void {
    stopTimer(this.timer);
    this.timer = undefined;
  }
}

/** Runs a finish listener; its throw must neither skip the others nor reach the transport. */
function runListener(listener: () => void): void {
  try {
    listener();
  } catch (error) {
    process.emitWarning(`a call-finished listener threw: ${errorMessage(error)}`, 'SwitchyardWarning');
  }
}

function expire(call: ServerCall): void {
  call.abort(deadlineExceeded());
}

function deadlineExceeded(): RpcError {
  return new RpcError(Code.DEADLINE_EXCEEDED, 'deadline exceeded');
}
