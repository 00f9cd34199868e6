/**
 * Makes a given number of `add` calls through one governance setup, client and server in this one
 * process, 128 in flight; `governance-instructions.ts` runs it under valgrind to count instructions.
 *
 * usage: node governance-calls.js <setup> <calls> [ballast]
 *
 * `ballast` small objects (default 0) are kept alive for the whole run. A process as small as this
 * one stays under V8's first old-space limit and never runs a major collection in the run; an
 * application's heap is larger, and then the same calls cost more (measured: 5,000 objects, about
 * a megabyte, turn 0 mark-compacts in 200,000 calls into 4, and 1.0 s of CPU into 1.5 s). Any
 * change that loads more code crosses that line too, so compare changes with ballast on both sides.
 */
import { createClient, createServer } from '../src/index.js';
import { BenchService, cache, servers, setups } from './governance-setups.js';
import { runAddCalls } from './add-calls.js';

const IN_FLIGHT = 128;

async function run(name: string, calls: number): Promise<void> {
  const setup = setups[name];
  if (setup === undefined) throw new Error(`unknown setup ${JSON.stringify(name)}; setups: ${Object.keys(setups).join(', ')}`);
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false, interceptors: servers[setup.server]!() });
  server.provide(BenchService, { add: async (a, b) => a + b, echo: async (data) => data });
  const [url] = await server.listen();
  const client = createClient({ url: url!, interceptors: setup.cache ? [cache()] : [], circuitBreaker: setup.breaker === true ? {} : undefined });
  const bench = client.proxy(BenchService);
  await runAddCalls((a, b) => bench.add(a, b), calls, IN_FLIGHT);
  await client.close();
  await server.close();
}

const [name = 'none', calls = '10000', ballast = '0'] = process.argv.slice(2);
const kept: unknown[] = [];
for (let i = 0; i < Number(ballast); i++) kept.push({ values: new Array<number>(16).fill(i), label: `ballast ${i}` });
(globalThis as { benchBallast?: unknown[] }).benchBallast = kept;
run(name, Number(calls)).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
