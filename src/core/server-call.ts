import { AsyncLocalStorage } from 'node:async_hooks';
import { Code } from './code.js';
import type { Invocation } from './invocation.js';
import { Metadata } from './metadata.js';
import type { CallProbe } from './observer.js';
import type { Principal } from './principal.js';
import { RpcError, errorMessage } from './rpc-error.js';
import type { ServiceDefinition } from './service.js';
import { startTimer, stopTimer, type Timer } from './timer.js';

/*
 * How a handler's call stays current. On Node 20 an AsyncLocalStorage costs every promise of the
 * process a hook once it is on: measured, a third more server CPU per small call. So a process
 * starts without it: the call is current in a variable while a handler's synchronous part runs.
 * The first `currentCall()` (or `trackCallsAcrossAwaits()`) turns the storage on for good; from
 * then on every handler runs inside its call's store, which Node carries across awaits, timers and
 * callbacks. The call that turns it on keeps it too: the storage is entered before the handler's
 * first await creates the promise that carries it.
 */
const storage = new AsyncLocalStorage<Invocation>();
let tracking = false;
let syncCurrent: Invocation | undefined;

/** Makes every handler from now on run in its call's async context, before any reads `currentCall()`. */
export function trackCallsAcrossAwaits(): void {
  tracking = true;
}

/**
 * The call being served, for an implementation that needs its metadata, deadline or signal.
 * Valid anywhere in the handler's async flow: after `await`s, in timers and callbacks it starts,
 * and in the body of an async generator it returns. (Until some handler of the process has read
 * it once, a read that comes only after an `await` finds no call: see docs/calls.md.)
 *
 * ```ts
 * async add(a: number, b: number) {
 *   const { metadata } = currentCall();
 *   await audit(a, b);
 *   const { signal } = currentCall();
 *   ...
 * }
 * ```
 */
export function currentCall(): Invocation {
  const call = syncCurrent ?? storage.getStore();
  if (call === undefined) {
    // A read after an await, before tracking was on: this call is lost, the following ones are not.
    const wasTracking = tracking;
    tracking = true;
    throw new RpcError(Code.FAILED_PRECONDITION, wasTracking
      ? 'currentCall() is only available inside a handler and what it starts'
      : 'currentCall() is only available inside a handler; to read it first after an await, create the server with asyncContext: true');
  }
  if (!tracking) {
    tracking = true;
    storage.enterWith(call);
  }
  return call;
}

/** The current call if there is one, for the framework's own code: unlike `currentCall()`, it turns nothing on. */
export function peekCurrentCall(): Invocation | undefined {
  return syncCurrent ?? storage.getStore();
}

/**
 * A stream whose every step runs with `call` as the current call: an async generator's body runs
 * in whoever calls `next()`, which is the transport, not the handler.
 */
export function streamAsCurrent(call: Invocation, stream: AsyncIterable<unknown>): AsyncIterable<unknown> {
  return {
    [Symbol.asyncIterator]() {
      const iterator = runAsCurrent(call, openIterator, stream, []) as AsyncIterator<unknown>;
      return {
        next: (value?: unknown) => runAsCurrent(call, nextOf, iterator, [value]) as Promise<IteratorResult<unknown>>,
        return: (value?: unknown) => runAsCurrent(call, returnOf, iterator, [value]) as Promise<IteratorResult<unknown>>,
      };
    },
  };
}

function openIterator(this: AsyncIterable<unknown>): AsyncIterator<unknown> {
  return this[Symbol.asyncIterator]();
}

function nextOf(this: AsyncIterator<unknown>, value: unknown): Promise<IteratorResult<unknown>> {
  return this.next(value);
}

function returnOf(this: AsyncIterator<unknown>, value: unknown): Promise<IteratorResult<unknown>> {
  return this.return?.(value) ?? Promise.resolve({ value, done: true });
}

/** Runs `fn` on `self` with `call` as the current call, for all it does (and, once tracking, starts). */
export function runAsCurrent(call: Invocation, fn: (...args: never[]) => unknown, self: unknown, args: unknown[]): unknown {
  if (tracking) return storage.run(call, apply, fn, self, args);
  const previous = syncCurrent;
  syncCurrent = call;
  try {
    return fn.apply(self, args as never[]);
  } finally {
    syncCurrent = previous;
    // A currentCall() inside turned tracking on and entered the storage here: leave it again.
    if (tracking) storage.enterWith(previous as Invocation);
  }
}

function apply(fn: (...args: never[]) => unknown, self: unknown, args: unknown[]): unknown {
  return fn.apply(self, args as never[]);
}

/**
 * A call on the server side. Its signal and deadline timer are made only when a handler asks for
 * the signal, since most calls end before anyone would look.
 */
export class ServerCall implements Invocation {
  readonly oneWay: boolean;
  /** Set by the transport from what the server's gate (or the client's certificate) established. */
  principal: Principal | undefined;
  /** Size of the request's encoded arguments, set by the transport that decoded them (0: not known). */
  requestBytes = 0;
  /** Size of the encoded answer (the sum of a stream's items), set by the transport as it encodes it. */
  responseBytes = 0;
  /** What the server's observers (tracing, metrics) watch of this call until it ends; the dispatcher's. */
  probe: CallProbe | undefined;
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
