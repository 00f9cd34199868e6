// Three providers and a client with adaptive limits per provider, outlier ejection and a retry
// budget. One provider slows down, then another fails every call; the client's calls keep going to
// the healthy one. Run: `npx tsx examples/resilience.ts`; docs/cluster.md explains the options.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Code, RpcError, createClient, createServer, type Interceptor, type Server } from '../src/index.js';
import { CalculatorImpl, CalculatorService } from './calculator.js';

const dir = await mkdtemp(join(tmpdir(), 'switchyard-resilience-'));
const registry = `embedded://${dir}`;

/** How each provider behaves now: `slow` answers after 200 ms, `failing` throws UNAVAILABLE. */
const behaviour = new Map<string, 'healthy' | 'slow' | 'failing'>();

async function startProvider(name: string): Promise<Server> {
  behaviour.set(name, 'healthy');
  const act: Interceptor = (next) => async (call) => {
    call.responseMetadata.set('x-served-by', name);
    if (behaviour.get(name) === 'slow') await sleep(200);
    if (behaviour.get(name) === 'failing') throw new RpcError(Code.UNAVAILABLE, `${name} is failing`);
    return next(call);
  };
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry, warmupMs: 0, interceptors: [act] });
  server.provide(CalculatorService, new CalculatorImpl());
  await server.listen();
  return server;
}

const providers = [await startProvider('a'), await startProvider('b'), await startProvider('c')];
const client = createClient({
  registry,
  adaptiveConcurrency: true, // a limit per provider that follows its latency
  outlierEjection: { consecutiveFailures: 5, baseEjectionMs: 30_000 },
  retryBudget: { ratio: 0.2, minPerSecond: 10 }, // the default, written out
});
const served = new Map<string, number>();
const calc = client.proxy(CalculatorService, {
  onResponseMetadata: (metadata) => {
    const name = String(metadata.get('x-served-by') ?? '-');
    served.set(name, (served.get(name) ?? 0) + 1);
  },
});

/** 2,000 calls of add, 16 at a time; prints how many each provider served and how many failed. */
async function round(label: string): Promise<void> {
  served.clear();
  let failed = 0;
  let next = 0;
  const lane = async () => {
    while (next < 2000) {
      const i = next++;
      await calc.add(i, 1).catch(() => failed++);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: 16 }, lane));
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  const shares = [...served].sort().map(([name, count]) => `${name} ${count}`).join(', ');
  console.log(`${label.padEnd(28)} ${shares}; ${failed} failed; ${seconds} s`);
}

await round('all healthy');
behaviour.set('a', 'slow');
await round('a slow (200 ms a call)');
behaviour.set('b', 'failing');
await round('a slow, b failing');

await client.close();
await Promise.all(providers.map((server) => server.close()));
await rm(dir, { recursive: true, force: true });
