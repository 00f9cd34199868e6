import { performance } from 'node:perf_hooks';
import { Code } from '../core/code.js';
import type { Invocation, Interceptor } from '../core/invocation.js';
import { RpcError } from '../core/rpc-error.js';
import { LevelTable, integerAtLeast, invalidOptions, lastMethodMemo, positiveNumber, type Scope, type Scoped } from './scopes.js';

/** A token bucket: `burst` tokens at most, refilled at `ratePerSec`; each call takes one. */
export interface RateLimit {
  /** Tokens added per second: the sustained rate of calls. */
  ratePerSec?: number;
  /** The bucket's size: calls that may pass at once after a quiet spell. Default: one second's worth (`ceil(ratePerSec)`). */
  burst?: number;
}

/**
 * A bucket at the top level is shared by every call through the interceptor; on a service, by all
 * calls of that service; on a method, by the calls of that method. A call takes a token from every
 * level that sets `ratePerSec`, and is refused unless each has one.
 */
export type RateLimitOptions = Scoped<RateLimit>;

export interface RateLimitStats {
  admitted: number;
  rejected: number;
}

/** The interceptor, with its counters. */
export interface RateLimitInterceptor extends Interceptor {
  stats(): RateLimitStats;
}

class TokenBucket {
  private tokens: number;
  private refilledAt = performance.now();

  constructor(
    readonly ratePerSec: number,
    readonly burst: number,
    readonly scope: Scope,
  ) {
    this.tokens = burst;
  }

  /** Brings the tokens up to date; true if at least one is there. */
  refill(now: number): boolean {
    const elapsed = now - this.refilledAt;
    if (elapsed > 0) {
      this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSec) / 1000);
      this.refilledAt = now;
    }
    return this.tokens >= 1;
  }

  take(): void {
    this.tokens -= 1;
  }

  /** How long until the next token, in whole milliseconds. */
  get waitMs(): number {
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSec));
  }
}

/**
 * Refuses calls beyond a rate with RESOURCE_EXHAUSTED, per service and per method, on a client (the
 * call never leaves) or on a server (the implementation never runs). Refused calls take no token.
 *
 * ```ts
 * createServer({ listen: ['tcp://127.0.0.1:20880'], interceptors: [rateLimit({ ratePerSec: 1000, burst: 100 })] });
 * createClient({ url, interceptors: [rateLimit({ services: { 'demo.Calculator:1.0.0': { methods: { add: { ratePerSec: 50 } } } } })] });
 * ```
 */
export function rateLimit(options: RateLimitOptions): RateLimitInterceptor {
  const table = new LevelTable<TokenBucket>(options, 'rateLimit', (settings, scope) => {
    if (settings.ratePerSec === undefined) {
      if (settings.burst !== undefined) throw invalidOptions(`rateLimit burst of ${scope.label} needs a ratePerSec`);
      return undefined;
    }
    const rate = positiveNumber(settings.ratePerSec, `rateLimit ratePerSec of ${scope.label}`);
    const burst = settings.burst === undefined ? Math.max(1, Math.ceil(rate)) : integerAtLeast(settings.burst, 1, `rateLimit burst of ${scope.label}`);
    return new TokenBucket(rate, burst, scope);
  });
  const counts = { admitted: 0, rejected: 0 };

  const interceptor: Interceptor = (next) => {
    const bucketsOf = lastMethodMemo((call) => table.levels(call.service.id, call.method));
    return (call) => {
      const buckets = bucketsOf(call);
      if (buckets.length === 0) return next(call);
      const now = performance.now();
      for (let i = 0; i < buckets.length; i++) {
        if (!buckets[i]!.refill(now)) {
          counts.rejected++;
          return Promise.reject(exhausted(buckets[i]!, call));
        }
      }
      for (let i = 0; i < buckets.length; i++) buckets[i]!.take();
      counts.admitted++;
      return next(call);
    };
  };
  return Object.assign(interceptor, { stats: (): RateLimitStats => ({ ...counts }) });
}

function exhausted(bucket: TokenBucket, call: Invocation): RpcError {
  const { ratePerSec, burst, scope } = bucket;
  return new RpcError(Code.RESOURCE_EXHAUSTED, `rate limit exceeded: ${call.service.id}/${call.method} refused, ${scope.label} allows ${ratePerSec} calls/s`, {
    details: { limit: 'rate', scope: scope.label, ratePerSec, burst, retryAfterMs: bucket.waitMs },
    unprocessed: true,
  });
}
