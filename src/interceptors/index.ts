/**
 * Governance interceptors: pass them to `createClient({ interceptors })` or
 * `createServer({ interceptors })`. Each is opt-in and configured per service and per method.
 */
export { resultCache, type ResultCache, type ResultCacheOptions, type ResultCacheStats, type CacheSettings } from './result-cache.js';
export { concurrencyLimit, type ConcurrencyLimit, type ConcurrencyLimitOptions, type ConcurrencyLimitInterceptor, type ConcurrencyLimitStats } from './concurrency-limit.js';
export { rateLimit, type RateLimit, type RateLimitOptions, type RateLimitInterceptor, type RateLimitStats } from './rate-limit.js';
export { stableKey } from '../core/stable-key.js';
export type { Scoped, ServiceScoped } from './scopes.js';
