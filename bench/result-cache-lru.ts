/**
 * The result cache built on `lru-cache` plus a map of calls in flight, keyed by `stableKey`: the
 * design that `npm run bench:cache` measures against the hand-tuned tables of
 * src/interceptors/method-cache.ts, and lost to (see the opening comment there). It is kept here, and
 * lru-cache as a dev dependency, so that the comparison can be run again when either side changes.
 *
 * It has the hot path of `resultCache` (which calls bypass the cache, lookup, single flight, the
 * reaction that stores a result) but not its options checking, invalidation or per-caller deadlines:
 * what the benchmark needs, one `max` and `ttlMs` for every method of the services listed.
 */
import { LRUCache } from 'lru-cache';
import type { Interceptor } from '../src/index.js';
import { lastMethodMemo } from '../src/interceptors/scopes.js';
import { stableKey } from '../src/core/stable-key.js';

type Stored = NonNullable<unknown>;

// lru-cache treats storing `undefined` as a deletion and keeps no nullish values, yet both are
// results a method can return: they are held as these stand-ins.
const UNDEFINED = { result: 'undefined' };
const NULL = { result: 'null' };

// Passed on every lookup and store: left out, lru-cache makes an empty options object per call.
const GET_OPTIONS: LRUCache.GetOptions<string, Stored, unknown> = {};
const SET_OPTIONS: LRUCache.SetOptions<string, Stored, unknown> = {};

interface InFlight {
  readonly promise: Promise<unknown>;
}

/** One method's results (lru-cache: LRU beyond `max`, TTL) and its calls in flight. */
class LruMethodCache {
  readonly results: LRUCache<string, Stored>;
  readonly inFlight = new Map<string, InFlight>();

  constructor(ttlMs: number, max: number) {
    // lru-cache takes whole milliseconds and 0 for no expiry.
    this.results = new LRUCache({ max, ttl: Number.isFinite(ttlMs) ? Math.ceil(ttlMs) : 0 });
  }

  start(key: string, promise: Promise<unknown>): void {
    const call: InFlight = { promise };
    this.inFlight.set(key, call);
    promise.then(
      (value) => {
        if (this.inFlight.get(key) !== call) return;
        this.inFlight.delete(key);
        this.results.set(key, value === undefined ? UNDEFINED : value === null ? NULL : value, SET_OPTIONS);
      },
      () => {
        if (this.inFlight.get(key) === call) this.inFlight.delete(key);
      },
    );
  }
}

export interface LruResultCacheOptions {
  /** Service ids whose methods are cached. */
  services: readonly string[];
  ttlMs: number;
  max: number;
}

/** `resultCache` on lru-cache, with the same `stats()` counts. */
export function lruResultCache(options: LruResultCacheOptions): Interceptor & { stats(): { hits: number; misses: number; coalesced: number } } {
  const caches = new Map<string, LruMethodCache>();
  const counts = { hits: 0, misses: 0, coalesced: 0 };
  let sending = false;
  const cacheOf = (serviceId: string, method: string): LruMethodCache | null => {
    if (!options.services.includes(serviceId)) return null;
    const id = `${serviceId}/${method}`;
    let cache = caches.get(id);
    if (cache === undefined) caches.set(id, (cache = new LruMethodCache(options.ttlMs, options.max)));
    return cache;
  };
  const interceptor: Interceptor = (next) => {
    const methodCacheOf = lastMethodMemo((call) => cacheOf(call.service.id, call.method));
    return (call) => {
      const cache = methodCacheOf(call);
      if (cache === null || sending || call.oneWay || call.transportOptions !== undefined || call.signal?.aborted === true) return next(call);
      const key = stableKey(call.args);
      if (key === undefined) return next(call);
      const stored = cache.results.get(key, GET_OPTIONS);
      if (stored !== undefined) {
        counts.hits++;
        return Promise.resolve(stored === UNDEFINED ? undefined : stored === NULL ? null : stored);
      }
      const inFlight = cache.inFlight.size === 0 ? undefined : cache.inFlight.get(key);
      if (inFlight !== undefined) {
        counts.coalesced++;
        return inFlight.promise;
      }
      counts.misses++;
      let promise: Promise<unknown>;
      sending = true;
      try {
        promise = next(call);
      } finally {
        sending = false;
      }
      cache.start(key, promise);
      return promise;
    };
  };
  return Object.assign(interceptor, { stats: () => ({ ...counts }) });
}
