import { Code } from '../core/code.js';
import type { Invocation, Interceptor } from '../core/invocation.js';
import { RpcError } from '../core/rpc-error.js';
import { LevelTable, integerAtLeast, type Scope, type Scoped } from './scopes.js';

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

  const interceptor: Interceptor = (next) => (call) => {
    const gates = table.levels(call.service.id, call.method);
    if (gates.length === 0) return next(call);
    for (const gate of gates) {
      if (gate.active >= gate.max) {
        counts.rejected++;
        return Promise.reject(exhausted(gate, call));
      }
    }
    for (const gate of gates) gate.active++;
    counts.active++;
    counts.admitted++;
    let held = true;
    const release = (): void => {
      if (!held) return;
      held = false;
      for (const gate of gates) gate.active--;
      counts.active--;
    };
    let result: Promise<unknown>;
    try {
      result = next(call);
    } catch (error) {
      release();
      return Promise.reject(error);
    }
    const streaming = call.service.methods.get(call.method)?.stream === 'server';
    return result.then(
      (value) => {
        if (streaming && isAsyncIterable(value)) return releasedAtEnd(value, call.signal, release);
        release();
        return value;
      },
      (error: unknown) => {
        release();
        throw error;
      },
    );
  };
  return Object.assign(interceptor, { stats: (): ConcurrencyLimitStats => ({ ...counts }) });
}

function exhausted(gate: Gate, call: Invocation): RpcError {
  return new RpcError(Code.RESOURCE_EXHAUSTED, `too many concurrent calls: ${call.service.id}/${call.method} refused, ${gate.scope.label} allows ${gate.max} at once`, {
    details: { limit: 'concurrency', scope: gate.scope.label, max: gate.max },
    unprocessed: true,
  });
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/** The stream as it is, calling `release` once when it ends, fails, is closed early or the call is aborted. */
function releasedAtEnd(stream: AsyncIterable<unknown>, signal: AbortSignal | undefined, release: () => void): AsyncIterable<unknown> {
  const done = (): void => {
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
