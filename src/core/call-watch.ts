/**
 * The deadline and the cancellation of an outgoing call, one implementation for every transport,
 * so that a caller sees the same codes and messages whatever carries the call:
 *
 * | when                       | code              | message                                      | unprocessed |
 * |----------------------------|-------------------|----------------------------------------------|-------------|
 * | deadline passed, not sent  | DEADLINE_EXCEEDED | `deadline exceeded before the call was sent` | yes         |
 * | signal aborted, not sent   | CANCELLED¹        | `cancelled: <reason>`¹                       | yes         |
 * | deadline passed, in flight | DEADLINE_EXCEEDED | `deadline exceeded waiting for <address>`    | no          |
 * | signal aborted, in flight  | CANCELLED¹        | `cancelled: <reason>`¹                       | no          |
 *
 * ¹ as `cancelledBy` reads the abort reason: `controller.abort()` gives `cancelled: This operation
 *   was aborted`; an `RpcError` reason keeps its code, message and details.
 *
 * Built for the hot path. A call with neither deadline nor signal costs two comparisons and
 * allocates nothing. A deadline costs one timer, armed with the watch as its argument; a signal
 * costs one listener, the watch itself (through `handleEvent`): no closure, no AbortController.
 * `AbortSignal.timeout` is not used because it cannot be disarmed (every answered call would leave
 * its timer behind until it fires) and overflows past 24.8 days; `AbortSignal.any` is not used
 * because a long-lived caller signal keeps every signal derived from it (nodejs/node#55351).
 */
import { Code } from './code.js';
import type { Invocation } from './invocation.js';
import { RpcError, cancelledBy } from './rpc-error.js';
import { startTimerAt, stopTimer, type Timer } from './timer.js';

const ONCE = { once: true } as const;
const NOT_SENT = 'deadline exceeded before the call was sent';

/**
 * Why a call must not be sent now, or undefined if it may go: its deadline has passed, or its
 * caller has aborted it. Call it right before the request is written.
 */
export function refusal(invocation: Invocation): RpcError | undefined {
  const { deadline, signal } = invocation;
  // Written so that a NaN deadline (an interceptor's mistake) counts as passed, never as none.
  if (deadline !== undefined && !(deadline > Date.now())) return new RpcError(Code.DEADLINE_EXCEEDED, NOT_SENT, { unprocessed: true });
  if (signal?.aborted === true) return unsent(cancelledBy(signal.reason), signal.reason);
  return undefined;
}

/**
 * The deadline and signal of one call, watched until `unwatch()`. A transport's record of a call in
 * flight extends it and says in `abandon` how to give the call up (fail it, tell the peer).
 */
export abstract class CallWatch {
  private timer: Timer | undefined = undefined;
  private signal: AbortSignal | undefined = undefined;
  /** Where the call went; undefined while it waits to be sent, so that giving up is `unprocessed`. */
  private address: string | undefined = undefined;

  /** The deadline passed or the caller aborted: called once, after the watch has stopped. */
  protected abstract abandon(error: RpcError): void;

  /**
   * Starts watching the call's deadline and signal. `address` names where the request went, or is
   * undefined while it has not been sent. Check `refusal` first: an aborted signal does not fire again.
   */
  protected watch(invocation: Invocation, address: string | undefined): void {
    const { deadline, signal } = invocation;
    if (deadline === undefined && signal === undefined) return;
    this.address = address;
    if (deadline !== undefined) this.timer = startTimerAt(deadline, CallWatch.expire, this);
    if (signal !== undefined) {
      this.signal = signal;
      signal.addEventListener('abort', this, ONCE);
    }
  }

  /** Stops watching; safe to call more than once. */
  protected unwatch(): void {
    if (this.timer !== undefined) {
      stopTimer(this.timer);
      this.timer = undefined;
    }
    if (this.signal !== undefined) {
      this.signal.removeEventListener('abort', this);
      this.signal = undefined;
    }
  }

  /** The caller's signal fired (this watch is its listener): not to be called otherwise. */
  handleEvent(): void {
    const reason: unknown = this.signal?.reason;
    this.unwatch();
    const error = cancelledBy(reason);
    this.abandon(this.address === undefined ? unsent(error, reason) : error);
  }

  private static expire(watch: CallWatch): void {
    watch.timer = undefined;
    watch.unwatch();
    const address = watch.address;
    watch.abandon(address === undefined
      ? new RpcError(Code.DEADLINE_EXCEEDED, NOT_SENT, { unprocessed: true })
      : new RpcError(Code.DEADLINE_EXCEEDED, `deadline exceeded waiting for ${address}`));
  }
}

/**
 * Waits for what a call needs before it can be sent (a connection, a module) no longer than the
 * call's deadline and signal allow. Nothing has been sent meanwhile, so a call given up while it
 * waits fails `unprocessed`; `pending` itself keeps going for the calls after it.
 */
export function beforeSending<T>(pending: Promise<T>, invocation: Invocation): Promise<T> {
  if (invocation.deadline === undefined && invocation.signal === undefined) return pending;
  const refused = refusal(invocation);
  if (refused !== undefined) {
    pending.catch(() => undefined); // the call's answer is `refused`; what comes of `pending` is not its concern
    return Promise.reject(refused);
  }
  return new Promise<T>((resolve, reject) => {
    new Wait(pending, invocation, resolve, reject);
  });
}

/** A call waiting for what it needs before it can be sent; it settles once, whichever comes first. */
class Wait<T> extends CallWatch {
  private done = false;

  constructor(
    pending: Promise<T>,
    invocation: Invocation,
    resolve: (value: T) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    super();
    this.watch(invocation, undefined);
    pending.then(
      (value) => {
        if (this.end()) resolve(value);
      },
      (error: unknown) => {
        if (this.end()) reject(error);
      },
    );
  }

  protected override abandon(error: RpcError): void {
    if (this.end()) this.reject(error);
  }

  /** True the first time: the wait is over. */
  private end(): boolean {
    if (this.done) return false;
    this.done = true;
    this.unwatch();
    return true;
  }
}

/** The error of a cancelled call, marked as one that no server can have seen; `reason` is why. */
function unsent(error: RpcError, reason: unknown): RpcError {
  if (error.unprocessed) return error;
  return new RpcError(error.code, error.message, { name: error.name, details: error.details, cause: reason, unprocessed: true });
}
