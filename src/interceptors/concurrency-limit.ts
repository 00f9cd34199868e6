import { Code } from '../core/code.js';
import type { Invocation, Interceptor } from '../core/invocation.js';
import { RpcError } from '../core/rpc-error.js';
import { ServerCall } from '../core/server-call.js';
import { returnsStream } from '../core/service.js';
import { LevelTable, integerAtLeast, lastMethodMemo, type Scope, type Scoped } from './scopes.js';
import { isAsyncIterable } from '../core/async-iterable.js';

/** The most calls that may execute at once at one level. */
export interface ConcurrencyLimit {
  /** Calls beyond this many executing at once are refused with RESOURCE_EXHAUSTED. 0 refuses every call. */
  max?: number;
}

/**
 * `max` at the top level counts every call through the interceptor; on a service, all calls of that
 * service together; on a method, the calls of that method. A call must fit under every level that
 * sets a `max`. Levels without one do not limit.
 */
export type ConcurrencyLimitOptions = Scoped<ConcurrencyLimit>;

export interface ConcurrencyLimitStats {
  /** Calls executing now that some limit counts. */
  active: number;
  /** Calls admitted since the interceptor was made. */
  admitted: number;
  /** Calls refused since the interceptor was made. */
  rejected: number;
}

/** The interceptor, with its counters. */
export interface ConcurrencyLimitInterceptor extends Interceptor {
  stats(): ConcurrencyLimitStats;
}

interface Gate {
  readonly max: number;
  active: number;
  readonly scope: Scope;
}

/** The gates of one method, outermost first. */
class Gates {
  // The reactions to a call's outcome, shared by every call of the method so that a call makes no closures.
  readonly leaveHere = (): void => this.leave();
  readonly leaveWithValue = (value: unknown): unknown => {
    this.leave();
    return value;
  };
  readonly leaveWithError = (error: unknown): never => {
    this.leave();
    throw error;
  };

  constructor(
    readonly gates: readonly Gate[],
    readonly streaming: boolean,
    /** Counts calls in, across every method of the interceptor. */
    private readonly counts: { active: number },
  ) {}

  /** Takes a place at every gate, or returns the gate that is full and takes none. */
  enter(): Gate | undefined {
    const { gates } = this;
    for (let i = 0; i < gates.length; i++) if (gates[i]!.active >= gates[i]!.max) return gates[i];
    for (let i = 0; i < gates.length; i++) gates[i]!.active++;
    this.counts.active++;
    return undefined;
  }

  leave(): void {
    const { gates } = this;
    for (let i = 0; i < gates.length; i++) gates[i]!.active--;
    this.counts.active--;
  }
}

/**
 * Bounds how many calls execute at once (a bulkhead), per service and per method. A call over a
 * limit is refused at once with RESOURCE_EXHAUSTED, never queued; an admitted call holds its place
 * until its handler settles, whether it succeeds, fails or is cancelled (a server-streaming call
 * until its stream ends). Meant for servers; on a client it bounds the calls in flight.
 *
 * ```ts
 * createServer({
 *   listen: ['tcp://127.0.0.1:20880'],
 *   interceptors: [concurrencyLimit({ services: { 'demo.Calculator:1.0.0': { max: 64, methods: { slow: { max: 4 } } } } })],
 * });
 * ```
 */
export function concurrencyLimit(options: ConcurrencyLimitOptions): ConcurrencyLimitInterceptor {
  const table = new LevelTable<Gate>(options, 'concurrencyLimit', (settings, scope) => {
    if (settings.max === undefined) return undefined;
    return { max: integerAtLeast(settings.max, 0, `concurrencyLimit max of ${scope.label}`), active: 0, scope };
  });
  const counts = { active: 0, admitted: 0, rejected: 0 };
  const plans = new Map<string, Map<string, Gates | null>>();

  function plan(call: Invocation): Gates | null {
    let byMethod = plans.get(call.service.id);
    if (byMethod === undefined) plans.set(call.service.id, (byMethod = new Map()));
    let gates = byMethod.get(call.method);
    if (gates === undefined) {
      const levels = table.levels(call.service.id, call.method);
      gates = levels.length === 0 ? null : new Gates(levels, returnsStream(call.service.methods.get(call.method)), counts);
      byMethod.set(call.method, gates);
    }
    return gates;
  }

  const interceptor: Interceptor = (next) => {
    const gatesOf = lastMethodMemo(plan);
    return (call) => {
      const gates = gatesOf(call);
      if (gates === null) return next(call);
      const full = gates.enter();
      if (full !== undefined) {
        counts.rejected++;
        return Promise.reject(exhausted(full, call));
      }
      counts.admitted++;
      let result: Promise<unknown>;
      try {
        result = next(call);
      } catch (error) {
        gates.leave();
        return Promise.reject(error);
      }
      if (gates.streaming) return releasedWithStream(result, gates, call);
      // On a server the transport says when the call is over, which spares a promise reaction.
      if (call instanceof ServerCall) {
        call.whenFinished(gates.leaveHere);
        return result;
      }
      return result.then(gates.leaveWithValue, gates.leaveWithError);
    };
  };
  return Object.assign(interceptor, { stats: (): ConcurrencyLimitStats => ({ ...counts }) });
}

/** A streaming call holds its places until its stream ends, fails, is closed early or the call is aborted. */
function releasedWithStream(result: Promise<unknown>, gates: Gates, call: Invocation): Promise<unknown> {
  return result.then(
    (value) => (isAsyncIterable(value) ? releasedAtEnd(value, call.signal, gates.leaveHere) : gates.leaveWithValue(value)),
    gates.leaveWithError,
  );
}

function exhausted(gate: Gate, call: Invocation): RpcError {
  return new RpcError(Code.RESOURCE_EXHAUSTED, `too many concurrent calls: ${call.service.id}/${call.method} refused, ${gate.scope.label} allows ${gate.max} at once`, {
    details: { limit: 'concurrency', scope: gate.scope.label, max: gate.max },
    unprocessed: true,
  });
}


/** The stream as it is, calling `release` once when it ends, fails, is closed early or the call is aborted. */
function releasedAtEnd(stream: AsyncIterable<unknown>, signal: AbortSignal | undefined, release: () => void): AsyncIterable<unknown> {
  let held = true;
  const done = (): void => {
    if (!held) return;
    held = false;
    signal?.removeEventListener('abort', done);
    release();
  };
  if (signal?.aborted) done();
  else signal?.addEventListener('abort', done, { once: true });
  return {
    [Symbol.asyncIterator](): AsyncIterator<unknown> {
      const inner = stream[Symbol.asyncIterator]();
      return {
        async next(...args: [] | [unknown]) {
          try {
            const step = await inner.next(...args);
            if (step.done === true) done();
            return step;
          } catch (error) {
            done();
            throw error;
          }
        },
        async return(value?: unknown) {
          done();
          return inner.return === undefined ? { done: true, value } : inner.return(value);
        },
        async throw(error?: unknown) {
          done();
          if (inner.throw === undefined) throw error;
          return inner.throw(error);
        },
      };
    },
  };
}
