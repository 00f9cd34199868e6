import { Code } from '../core/code.js';
import type { Invocation } from '../core/invocation.js';
import { Metadata } from '../core/metadata.js';
import { RpcError } from '../core/rpc-error.js';
import type { ServiceDefinition } from '../core/service.js';
import { CANCEL_CODE, CANCEL_ID, cancelReason } from './messages.js';

let active: WorkerCall | undefined;

/**
 * The call a pool worker is running, for implementation code inside a worker. A worker runs one
 * call at a time, so unlike `currentCall()` this stays valid after `await`s, until the call ends.
 * A CPU loop never yields to the worker's event loop, where the `abort` event would be delivered:
 * let it check `cancelled` (an atomic read of memory the pool writes) or call `throwIfCancelled()`.
 *
 * ```ts
 * countPrimes(limit: number) {
 *   const call = workerCall();
 *   for (let n = 2; n < limit; n++) {
 *     if ((n & 0xffff) === 0) call.throwIfCancelled();
 *     ...
 *   }
 * }
 * ```
 */
export function workerCall(): WorkerCall {
  if (active === undefined) {
    throw new RpcError(Code.FAILED_PRECONDITION, 'workerCall() is only available in a worker pool while it runs a call');
  }
  return active;
}

/** Makes `call` the one `workerCall()` returns (undefined between calls). */
export function setWorkerCall(call: WorkerCall | undefined): void {
  active = call;
}

/** A call as a pool worker sees it: the invocation, plus a cancellation check for CPU loops. */
export class WorkerCall implements Invocation {
  readonly responseMetadata = new Metadata();
  private readonly controller = new AbortController();

  constructor(
    /** Pool-wide number of the call. */
    readonly id: number,
    readonly service: ServiceDefinition,
    readonly method: string,
    public args: unknown[],
    readonly metadata: Metadata,
    readonly deadline: number | undefined,
    readonly oneWay: boolean,
    private readonly cancelFlag: Int32Array,
  ) {}

  /** Fires when the caller cancels, the deadline passes or the pool gives up on the call. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Whether the call has been cancelled; cheap enough to read in a hot loop. */
  get cancelled(): boolean {
    if (this.controller.signal.aborted) return true;
    if (Atomics.load(this.cancelFlag, CANCEL_ID) !== this.id) return false;
    this.abort(cancelReason(Atomics.load(this.cancelFlag, CANCEL_CODE)));
    return true;
  }

  /** Throws the reason (`CANCELLED`, `DEADLINE_EXCEEDED`, …) if the call has been cancelled. */
  throwIfCancelled(): void {
    if (this.cancelled) throw this.controller.signal.reason;
  }

  /** Aborts the signal; the first reason wins. */
  abort(reason: RpcError): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }
}
