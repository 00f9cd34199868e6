import { Code } from '../core/code.js';
import type { Interceptor, Invocation } from '../core/invocation.js';
import type { Logger } from '../core/logger.js';
import { RpcError } from '../core/rpc-error.js';
import { returnsStream } from '../core/service.js';
import { ADAPTIVE_LIMIT_DETAIL } from '../cluster/adaptive-refusal.js';
import { AdaptiveLimit, adaptiveLimitOptions, type AdaptiveLimitOptions, type AdaptiveLimitState } from '../cluster/adaptive-limit.js';

/** Options of the server's adaptive concurrency limit (`adaptiveConcurrency` of `createServer`). */
export interface AdaptiveConcurrencyOptions extends AdaptiveLimitOptions {
  /** Milliseconds on a monotonic clock; `performance.now()` unless a test brings its own. */
  now?: () => number;
  /** Told of each change of the limit (also logged at debug). */
  onLimitChange?: (limit: number) => void;
  logger?: Logger;
}

export interface AdaptiveConcurrencyStats extends AdaptiveLimitState {
  /** Calls running now under the limit. */
  inFlight: number;
  /** Calls admitted since the interceptor was made. */
  admitted: number;
  /** Calls refused since the interceptor was made. */
  rejected: number;
}

/** The interceptor, with its counters. */
export interface AdaptiveConcurrencyInterceptor extends Interceptor {
  stats(): AdaptiveConcurrencyStats;
}

/**
 * A concurrency limit that finds itself from latency (`src/cluster/adaptive-limit.ts`, a variant of
 * Netflix's Gradient2): while the calls it admits answer as fast as they have on average, the limit
 * grows; when they slow down past a tolerance, it shrinks toward what the server gets through. A
 * call over the limit is refused at once with RESOURCE_EXHAUSTED, and its details say so
 * (`{ limit: 'adaptiveConcurrency', max }`), which tells a Switchyard client that the call never ran,
 * so its failover tries another provider (within the client's retry budget).
 *
 * One limit counts every call through the interceptor: give each service its own interceptor to
 * limit them apart. Streaming calls pass without being counted (a stream's length says nothing of
 * the server's load). Latency is measured from admission to the handler's answer, so it sees load
 * that makes handlers slower (a shared database, a worker pool's queue, a busy event loop between
 * awaits), not requests waiting in socket buffers.
 *
 * ```ts
 * createServer({ listen: ['tcp://0.0.0.0:20880'], adaptiveConcurrency: { minLimit: 10, maxLimit: 500 } });
 * // or, around some services only:
 * server.provide(Orders, impl); // with interceptors: [adaptiveConcurrency({ initialLimit: 50 })]
 * ```
 */
export function adaptiveConcurrency(options: AdaptiveConcurrencyOptions = {}): AdaptiveConcurrencyInterceptor {
  const now = options.now ?? (() => performance.now());
  const logger = options.logger;
  const limiter = new AdaptiveLimit(adaptiveLimitOptions(options, 'server'), (limit) => {
    logger?.debug({ limit }, 'adaptive concurrency limit changed');
    options.onLimitChange?.(limit);
  });
  const counts = { inFlight: 0, admitted: 0, rejected: 0 };

  /** Counts a call out; its outcome is a latency sample, a drop, or neither (a cancellation). */
  function settle(started: number, error: unknown): void {
    const ended = now();
    const inflight = counts.inFlight--;
    if (error === undefined) {
      limiter.onSample(ended - started, inflight, ended);
      return;
    }
    const code = error instanceof RpcError ? error.code : Code.UNKNOWN;
    if (code === Code.DEADLINE_EXCEEDED) limiter.onDrop(inflight, ended);
    // A handler's own error is an answer like any other: its time counts. A cancellation says nothing.
    else if (code !== Code.CANCELLED) limiter.onSample(ended - started, inflight, ended);
  }

  const interceptor: Interceptor = (next) => (call: Invocation) => {
    if (returnsStream(call.service.methods.get(call.method))) return next(call);
    if (counts.inFlight >= limiter.limit) {
      counts.rejected++;
      return Promise.reject(refusal(call, limiter.limit));
    }
    counts.inFlight++;
    counts.admitted++;
    const started = now();
    let result: Promise<unknown>;
    try {
      result = next(call);
    } catch (error) {
      settle(started, error);
      return Promise.reject(error);
    }
    return result.then(
      (value) => {
        settle(started, undefined);
        return value;
      },
      (error: unknown) => {
        settle(started, error);
        throw error;
      },
    );
  };
  return Object.assign(interceptor, { stats: (): AdaptiveConcurrencyStats => ({ ...limiter.state(), ...counts }) });
}

function refusal(call: Invocation, max: number): RpcError {
  return new RpcError(Code.RESOURCE_EXHAUSTED, `server overloaded: ${call.service.id}/${call.method} refused, the adaptive limit allows ${max} calls at once`, {
    details: { limit: ADAPTIVE_LIMIT_DETAIL, max },
    unprocessed: true,
  });
}
