import { Code } from '../core/code.js';
import type { Invocation, Interceptor } from '../core/invocation.js';
import { RpcError, cancelledBy } from '../core/rpc-error.js';
import type { ServiceDefinition } from '../core/service.js';
import { startTimerAt, stopTimer, type Timer } from '../core/timer.js';
import { ArgKeyWriter } from './arg-key.js';
import { KeyTable } from './key-table.js';
import { MethodCache, NONE } from './method-cache.js';
import { entriesOf, integerAtLeast, invalidOptions, lastMethodMemo, positiveNumber } from './scopes.js';

/** How one method's results are kept. */
export interface CacheSettings {
  /** How long a result is served from the cache. Default 60000 ms; `Infinity` keeps it until it is evicted. */
  ttlMs?: number;
  /** Most results kept for the method; the least recently used go first. Default 1000. */
  max?: number;
}

/**
 * Which methods to cache, and how. Only the services listed are cached: those methods of a service
 * that its `methods` names, or every method if it names none (streaming and one-way methods never
 * are). Settings fall back method → service → top level → defaults.
 */
export interface ResultCacheOptions extends CacheSettings {
  services: Record<string, CacheSettings & { methods?: Record<string, CacheSettings> }>;
}

export interface ResultCacheStats {
  /** Calls answered from the cache. */
  hits: number;
  /** Calls that went to a provider. */
  misses: number;
  /** Calls that joined an identical call in flight instead of making their own. */
  coalesced: number;
  /** Results held now, over all methods. */
  size: number;
}

/** The interceptor, with the means to drop what it holds. */
export interface ResultCache extends Interceptor {
  /**
   * Drops cached results: every one of a service, of one method, or of one argument list. Calls in
   * flight that match will not store their results. Returns how many results were dropped.
   */
  invalidate(service: ServiceDefinition | string, method?: string, args?: unknown[]): number;
  /** Drops every cached result. */
  clear(): void;
  stats(): ResultCacheStats;
}

const defaultSettings: Required<CacheSettings> = { ttlMs: 60_000, max: 1000 };

/**
 * Caches successful results on the client, keyed by service, method and a stable key of the
 * arguments (see `stableKey`). Identical calls made while one is in flight share its outcome
 * (single flight): one remote call, and if it fails every one of them fails and nothing is kept.
 * Cached values are shared by every caller that gets them: treat them as read-only.
 *
 * ```ts
 * const cache = resultCache({ services: { 'demo.Calculator:1.0.0': { methods: { add: { ttlMs: 1000, max: 500 } } } } });
 * const client = createClient({ url, interceptors: [cache] });
 * cache.invalidate(CalculatorService, 'add');
 * ```
 */
export function resultCache(options: ResultCacheOptions): ResultCache {
  if (options === null || typeof options !== 'object') throw invalidOptions('resultCache options must be an object');
  const configured = configure(options);
  const caches = new Map<string, Map<string, MethodCache | null>>();
  const counts = { hits: 0, misses: 0, coalesced: 0 };

  function cacheOf(call: Invocation): MethodCache | null {
    let byMethod = caches.get(call.service.id);
    if (byMethod === undefined) {
      byMethod = new Map();
      caches.set(call.service.id, byMethod);
    }
    let cache = byMethod.get(call.method);
    if (cache === undefined) {
      const settings = configured(call.service.id, call.method);
      const options = call.service.methods.get(call.method);
      const cacheable = settings !== undefined && options !== undefined && options.stream === undefined && options.oneWay !== true;
      cache = cacheable ? new MethodCache(settings.ttlMs, settings.max) : null;
      byMethod.set(call.method, cache);
    }
    return cache;
  }

  const key = new ArgKeyWriter();
  // Set while a miss goes on down a chain: a call made from there (by a later interceptor, or through
  // another client sharing this cache) bypasses the cache, so the key written for the miss is intact,
  // and still absent from the cache, when the miss takes its place.
  let sending = false;

  const interceptor: Interceptor = (next) => {
    const methodCacheOf = lastMethodMemo(cacheOf);
    return (call) => {
      const cache = methodCacheOf(call);
      // Transport options may steer a call (to one named server, say) whose answer is not everyone's.
      if (cache === null || sending || call.oneWay || call.transportOptions !== undefined || call.signal?.aborted === true) return next(call);
      if (!key.write(call.args)) return next(call);
      const hash = KeyTable.hash(key);
      const slot = cache.find(key, hash);
      if (slot !== NONE) {
        const pending = cache.pendingAt(slot);
        if (pending !== undefined) {
          counts.coalesced++;
          return follow(pending, cache.deadlineAt(slot), call);
        }
        counts.hits++;
        return Promise.resolve(cache.valueAt(slot));
      }
      counts.misses++;
      let promise: Promise<unknown>;
      sending = true;
      try {
        promise = next(call);
      } catch (error) {
        return Promise.reject(error);
      } finally {
        sending = false;
      }
      cache.start(key, promise, call.deadline, hash);
      return promise;
    };
  };

  function methodCaches(serviceId: string, method: string | undefined): MethodCache[] {
    const byMethod = caches.get(serviceId);
    if (byMethod === undefined) return [];
    const found = method === undefined ? [...byMethod.values()] : [byMethod.get(method)];
    return found.filter((cache): cache is MethodCache => cache !== undefined && cache !== null);
  }

  return Object.assign(interceptor, {
    invalidate(service: ServiceDefinition | string, method?: string, args?: unknown[]): number {
      const serviceId = typeof service === 'string' ? service : service.id;
      const key = args === undefined ? undefined : new ArgKeyWriter();
      if (args !== undefined && !key!.write(args)) return 0;
      let dropped = 0;
      for (const cache of methodCaches(serviceId, method)) dropped += key === undefined ? cache.clear() : cache.delete(key);
      return dropped;
    },
    clear(): void {
      for (const byMethod of caches.values()) for (const cache of byMethod.values()) cache?.clear();
    },
    stats(): ResultCacheStats {
      let size = 0;
      for (const byMethod of caches.values()) for (const cache of byMethod.values()) size += cache?.size ?? 0;
      return { ...counts, size };
    },
  });
}

/** Checks the options and returns the settings of a method, or undefined if it is not cached. */
function configure(options: ResultCacheOptions): (serviceId: string, method: string) => Required<CacheSettings> | undefined {
  if (options.services === undefined) throw invalidOptions('resultCache needs `services`: the services whose methods it caches');
  const top = checked(options, 'resultCache');
  const services = new Map<string, { own: CacheSettings; methods: Map<string, CacheSettings> | undefined }>();
  for (const [service, settings] of entriesOf(options.services, 'resultCache services')) {
    const listed = (settings as { methods?: unknown }).methods;
    const methods = listed === undefined ? undefined : new Map(entriesOf(listed, `resultCache methods of ${service}`).map(([method, own]) => [method, checked(own, `resultCache ${service}/${method}`)]));
    services.set(service, { own: checked(settings, `resultCache ${service}`), methods });
  }
  return (serviceId, method) => {
    const service = services.get(serviceId);
    if (service === undefined) return undefined;
    const own = service.methods === undefined ? {} : service.methods.get(method);
    if (own === undefined) return undefined;
    return { ...defaultSettings, ...top, ...service.own, ...own };
  };
}

function checked(settings: CacheSettings, what: string): CacheSettings {
  const out: CacheSettings = {};
  if (settings.ttlMs !== undefined) out.ttlMs = positiveNumber(settings.ttlMs, `${what} ttlMs`, true);
  if (settings.max !== undefined) out.max = integerAtLeast(settings.max, 1, `${what} max`);
  return out;
}

/**
 * A joined call's own view of the shared outcome: it still ends early when its own signal fires or
 * its own deadline, if sooner than the leader's, passes.
 */
function follow(shared: Promise<unknown>, leaderDeadline: number | undefined, call: Invocation): Promise<unknown> {
  const { signal, deadline } = call;
  const sooner = deadline !== undefined && (leaderDeadline === undefined || deadline < leaderDeadline);
  if (signal === undefined && !sooner) return shared;
  if (signal?.aborted) return Promise.reject(cancelledBy(signal.reason));
  return new Promise((resolve, reject) => {
    let timer: Timer | undefined;
    const onAbort = (): void => {
      settle();
      reject(cancelledBy(signal?.reason));
    };
    const settle = (): void => {
      stopTimer(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (sooner) {
      const expire = (): void => {
        settle();
        reject(new RpcError(Code.DEADLINE_EXCEEDED, 'deadline exceeded'));
      };
      timer = startTimerAt(deadline, expire, undefined);
    }
    shared.then(
      (value) => {
        settle();
        resolve(value);
      },
      (error: unknown) => {
        settle();
        reject(error);
      },
    );
  });
}

