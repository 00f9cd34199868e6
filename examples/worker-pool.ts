/**
 * A CPU-heavy service in a pool of worker threads next to a fast one on the main thread.
 *
 *   npx tsx examples/worker-pool.ts
 *
 * The file is both the program and the module its workers load: in a worker thread it only
 * defines `PrimeImpl`. Most services keep the implementation in a module of its own instead.
 */
import { isMainThread } from 'node:worker_threads';
import { Code, RpcError, createClient, createServer, defineService, inWorkers, workerCall } from '../src/index.js';

export interface Primes {
  countPrimes(limit: number): Promise<number>;
}

export const PrimeService = defineService<Primes>('example.Primes', { methods: { countPrimes: { timeoutMs: 30_000 } } });

interface Clock {
  now(): Promise<number>;
}

const ClockService = defineService<Clock>('example.Clock', { methods: { now: {} } });

/** Runs in the workers: one instance per worker thread. */
export class PrimeImpl implements Primes {
  async countPrimes(limit: number): Promise<number> {
    const call = workerCall();
    let found = 0;
    for (let n = 2; n < limit; n++) {
      // a loop never yields to the worker's event loop: ask whether the caller still waits
      if ((n & 0xfff) === 0) call.throwIfCancelled();
      let prime = true;
      for (let d = 2; d * d <= n; d++) {
        if (n % d === 0) {
          prime = false;
          break;
        }
      }
      if (prime) found++;
    }
    return found;
  }
}

async function main(): Promise<void> {
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false });
  server.provide(PrimeService, inWorkers<Primes>(new URL(import.meta.url), { export: 'PrimeImpl', size: 2 }));
  server.provide(ClockService, { now: async () => Date.now() });
  const [address] = await server.listen();

  const client = createClient({ url: address! });
  const primes = client.proxy(PrimeService);
  const clock = client.proxy(ClockService);

  const started = Date.now();
  const heavy = [2_000_000, 2_000_000, 2_000_000, 2_000_000].map((limit) => primes.countPrimes(limit));
  for (let i = 0; i < 5; i++) {
    const sent = performance.now();
    await clock.now();
    console.log(`clock answered in ${(performance.now() - sent).toFixed(1)} ms while the pool counts primes`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  console.log(`primes below 2,000,000: ${(await Promise.all(heavy)).join(', ')} (${Date.now() - started} ms for 4 calls on 2 workers)`);

  try {
    await primes.countPrimes.with({ timeoutMs: 50 })(50_000_000);
  } catch (error) {
    if (!(error instanceof RpcError) || error.code !== Code.DEADLINE_EXCEEDED) throw error;
    console.log('a call past its deadline:', error.toString());
  }

  await client.close();
  await server.close(); // terminates the pool's workers too
}

if (isMainThread) await main();
