/**
 * The setups that the governance benchmarks compare: which interceptors a client and its server
 * run, on `add(a, b)`, with limits far above any load (nothing is refused) and a cache that every
 * call misses (its arguments never repeat).
 */
import { concurrencyLimit, defineService, rateLimit, resultCache, type Interceptor } from '../src/index.js';

export interface Bench {
  add(a: number, b: number): Promise<number>;
  echo(data: Uint8Array): Promise<Uint8Array>;
}
export const BenchService = defineService<Bench>('bench.Bench', { version: '1.0.0', methods: { add: {}, echo: {} } });
const id = BenchService.id;
const HIGH = 1_000_000_000;

const limit = () => concurrencyLimit({ max: HIGH, services: { [id]: { max: HIGH, methods: { add: { max: HIGH } } } } });
const rate = () => rateLimit({ services: { [id]: { ratePerSec: HIGH, burst: HIGH, methods: { add: { ratePerSec: HIGH, burst: HIGH } } } } });
export const cache = () => resultCache({ services: { [id]: { methods: { add: { ttlMs: 60_000, max: 1000 } } } } });

/** Server interceptor setups. */
export const servers: Record<string, () => Interceptor[]> = { plain: () => [], concurrency: () => [limit()], rate: () => [rate()], limits: () => [limit(), rate()] };

export interface Setup {
  describe: string;
  /** The client runs `resultCache` on add. */
  cache: boolean;
  /** The client runs a circuit breaker per provider and method. */
  breaker?: boolean;
  server: keyof typeof servers;
}

/** What is compared: client interceptors and which server they call; `none` is the baseline. */
export const setups: Record<string, Setup> = {
  none: { describe: 'no interceptors (baseline)', cache: false, server: 'plain' },
  'none-again': { describe: 'no interceptors: a second baseline client, whose ratio shows the noise of the measurement', cache: false, server: 'plain' },
  cache: { describe: 'client: resultCache on add, every call a miss', cache: true, server: 'plain' },
  breaker: { describe: 'client: circuit breaker per provider and method', cache: false, breaker: true, server: 'plain' },
  'concurrency-limit': { describe: 'server: concurrencyLimit at all three levels', cache: false, server: 'concurrency' },
  'rate-limit': { describe: 'server: rateLimit at service and method level', cache: false, server: 'rate' },
  'limits+breaker': { describe: 'client: circuit breaker; server: concurrencyLimit + rateLimit', cache: false, breaker: true, server: 'limits' },
  all: { describe: 'client: resultCache + circuit breaker; server: concurrencyLimit + rateLimit', cache: true, breaker: true, server: 'limits' },
};
