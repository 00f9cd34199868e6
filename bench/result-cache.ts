/**
 * `npm run bench:cache`: what the result cache costs and saves, at hit ratios of 0 %, 50 % and 90 %,
 * and whether its hand-tuned tables still earn their keep against the `lru-cache` library.
 *
 * Compares, in one process and one run:
 * - `none`: no cache, the baseline;
 * - `tables`: `resultCache` from src/ (typed-array key table and slot arrays, keys as 16-bit units);
 * - `lru-cache`: the same cache on lru-cache plus a map of calls in flight, keyed by `stableKey`
 *   strings (`result-cache-lru.ts`).
 *
 * Two parts:
 * - in-process: the interceptor called directly on a handler that returns a small object, one call
 *   at a time, with two argument shapes (`price(id, 'EUR')` and `search({ category, sort, fields })`);
 * - tcp: `add(a, 7)` from a client in this process to a server in a child process over 127.0.0.1,
 *   128 calls in flight; CPU per call is the client's, where the cache runs.
 *
 * Each call's key comes from a hot set of 100 argument lists warmed into the cache before the
 * window (a hit) or is one never seen before (a miss, which at a full cache also evicts), drawn so
 * that the share of hot keys is the hit ratio. Every setup sees the same sequence. Setups are
 * measured in rounds, their order rotated every round; a ratio is taken within a round, so both
 * figures share the machine's state of the moment, and the table gives the median over the rounds
 * and the lowest–highest of them as the spread.
 *
 * Options: --seconds N (one window, default 0.3), --rounds N (default 5), --only inprocess|tcp.
 */
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Metadata, createClient, createServer, defineService, resultCache, type Handler, type Interceptor, type Invocation } from '../src/index.js';
import { BenchService } from './governance-setups.js';
import { lruResultCache } from './result-cache-lru.js';
import { round } from './stats.js';
import { LoadDriver, type Workload } from './workloads.js';

/**
 * Argument lists warmed into the cache: a tenth of its `max` of 1000, so that even at 50 % hits a
 * hot key is looked up again long before the misses between could push it out, and the hits seen
 * match the ratio asked for.
 */
const HOT = 100;
const RATIOS = [0, 0.5, 0.9];

interface Shop {
  price(id: number, currency: string): Promise<{ id: number; price: number }>;
  search(filter: { category: number; sort: string; fields: string[] }): Promise<{ id: number; price: number }>;
}
const ShopService = defineService<Shop>('bench.Shop', { version: '1.0.0', methods: { price: {}, search: {} } });

/** A cache for the methods of one service, with `max` 1000 and `ttlMs` 60 s. */
type CacheFactory = (serviceId: string) => Interceptor & { stats(): { hits: number; misses: number; coalesced: number } };

const implementations = new Map<string, CacheFactory | undefined>([
  ['none', undefined],
  ['tables', (serviceId) => resultCache({ services: { [serviceId]: { ttlMs: 60_000, max: 1000 } } })],
  ['lru-cache', (serviceId) => lruResultCache({ services: [serviceId], ttlMs: 60_000, max: 1000 })],
]);

/** For each call: the index of a hot argument list, or -1 for a new one. Seeded, so every setup gets the same. */
function keySequence(hitRatio: number, length: number): Int32Array {
  let state = 0x2545f491;
  const random = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  return Int32Array.from({ length }, () => (random() < hitRatio ? Math.floor(random() * HOT) : -1));
}

const SEQUENCE_LENGTH = 1 << 16;
const sequences = new Map(RATIOS.map((ratio) => [ratio, keySequence(ratio, SEQUENCE_LENGTH)]));

const metadata = new Metadata();
const shapes: Record<string, (id: number) => Invocation> = {
  scalars: (id) => invocation('price', [id, 'EUR']),
  object: (id) => invocation('search', [{ category: id, sort: 'price', fields: ['name', 'price'] }]),
};

function invocation(method: string, args: unknown[]): Invocation {
  return { service: ShopService, method, args, metadata, responseMetadata: metadata, deadline: undefined, signal: undefined, oneWay: false };
}

const upstream: Handler = async (call) => ({ id: call.args.length, price: 42 });

/** One window of sequential calls through `make`'s cache (or none); calls per second and the hit ratio seen. */
async function inProcessWindow(make: CacheFactory | undefined, shape: (id: number) => Invocation, ratio: number, ms: number): Promise<{ opsPerSec: number; hitRatio: number }> {
  const cache = make?.(ShopService.id);
  const handler = cache === undefined ? upstream : cache(upstream);
  for (let id = 0; id < HOT; id++) await handler(shape(id));
  const before = cache?.stats();
  const sequence = sequences.get(ratio)!;
  let calls = 0;
  let fresh = HOT;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 1000; i++) {
      const hot = sequence[(calls + i) & (SEQUENCE_LENGTH - 1)]!;
      await handler(shape(hot >= 0 ? hot : fresh++));
    }
    calls += 1000;
    now = performance.now();
  }
  const after = cache?.stats();
  const hits = after === undefined ? 0 : after.hits - before!.hits + after.coalesced - before!.coalesced;
  return { opsPerSec: calls / ((now - start) / 1000), hitRatio: after === undefined ? 0 : hits / (after.misses - before!.misses + hits) };
}

/** One window of `add` over tcp, 128 in flight, through a new client with `make`'s cache (or none). */
async function tcpWindow(url: string, make: CacheFactory | undefined, ratio: number, ms: number): Promise<{ opsPerSec: number; hitRatio: number; cpuUs: number }> {
  const cache = make?.(BenchService.id);
  const client = createClient({ url, interceptors: cache === undefined ? [] : [cache] });
  const bench = client.proxy(BenchService);
  for (let a = 0; a < HOT; a++) await bench.add(a, 7);
  const sequence = sequences.get(ratio)!;
  const workload: Workload = {
    name: 'add-128-keys',
    description: 'add(a, 7), 128 in flight',
    concurrency: 128,
    payloadBytes: 0,
    async call(target, seq) {
      const hot = sequence[seq & (SEQUENCE_LENGTH - 1)]!;
      const a = hot >= 0 ? hot : HOT + seq;
      const sum = await target.add(a, 7);
      if (sum !== a + 7) throw new Error(`add(${a}, 7) returned ${String(sum)}`);
    },
  };
  const driver = new LoadDriver({ add: (a, b) => bench.add(a, b), echo: (data) => bench.echo(data), close: () => client.close() }, workload);
  await new Promise((resolve) => setTimeout(resolve, 100)); // the lanes fill the pipeline
  const before = cache?.stats();
  const result = await driver.measure(ms);
  const after = cache?.stats();
  await driver.stop();
  await client.close();
  const hits = after === undefined ? 0 : after.hits - before!.hits + after.coalesced - before!.coalesced;
  const hitRatio = after === undefined ? 0 : hits / (after.misses - before!.misses + hits);
  return { opsPerSec: result.calls / result.seconds, hitRatio, cpuUs: result.cpuUs / result.calls };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const percent = (ratio: number) => `${(ratio * 100).toFixed(0)}%`;
const spread = (values: number[]) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;

interface Sample {
  opsPerSec: number;
  hitRatio: number;
  cpuUs?: number;
}

/** Prints one table: per scenario and setup, median ops/s, and ratios within each round against `none` and of the tables against lru-cache. */
function report(title: string, names: string[], scenarios: string[], samples: Map<string, Sample[]>): void {
  console.log(`\n${title}`);
  const columns = ['scenario', 'setup', 'ops/s', 'hits seen', 'vs none', 'spread', 'tables / lru-cache', 'spread'];
  const cpu = [...samples.values()][0]?.[0]?.cpuUs !== undefined;
  if (cpu) columns.push('CPU µs/call', 'lru-cache / tables', 'spread');
  console.log(columns.join('\t'));
  for (const scenario of scenarios) {
    const of = (name: string) => samples.get(`${scenario}|${name}`)!;
    const none = of('none');
    for (const name of names) {
      const mine = of(name);
      const vsNone = mine.map((s, round) => s.opsPerSec / none[round]!.opsPerSec);
      const row = [scenario, name, Math.round(median(mine.map((s) => s.opsPerSec))), percent(median(mine.map((s) => s.hitRatio))), median(vsNone).toFixed(2), spread(vsNone)];
      // How many times faster the tables are: in calls per second, and in the client's CPU per call.
      const lru = of('lru-cache');
      const tablesFaster = of('tables').map((s, round) => s.opsPerSec / lru[round]!.opsPerSec);
      row.push(...(name === 'tables' ? [median(tablesFaster).toFixed(2), spread(tablesFaster)] : ['', '']));
      if (cpu) {
        const lruCostlier = lru.map((s, round) => s.cpuUs! / of('tables')[round]!.cpuUs!);
        row.push(round(median(mine.map((s) => s.cpuUs!))), ...(name === 'tables' ? [median(lruCostlier).toFixed(2), spread(lruCostlier)] : ['', '']));
      }
      console.log(row.join('\t'));
    }
  }
}

/** Runs `measure` for every scenario × setup, `rounds` times plus one unrecorded warm-up round, the setups' order rotated each round. */
async function rounds(names: string[], scenarios: string[], count: number, measure: (scenario: string, name: string) => Promise<Sample>): Promise<Map<string, Sample[]>> {
  const samples = new Map<string, Sample[]>();
  for (let r = -1; r < count; r++) {
    for (const scenario of scenarios) {
      for (let i = 0; i < names.length; i++) {
        const name = names[(i + Math.max(r, 0)) % names.length]!;
        const sample = await measure(scenario, name);
        if (r < 0) continue;
        const key = `${scenario}|${name}`;
        samples.set(key, [...(samples.get(key) ?? []), sample]);
      }
    }
  }
  return samples;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '0.3' }, rounds: { type: 'string', default: '5' }, only: { type: 'string' } } });
  const [ms, count] = [Number(values.seconds) * 1000, Number(values.rounds)];
  if (!(ms > 0) || !(count >= 1)) throw new Error('--seconds and --rounds take positive numbers');
  const found = implementations;
  const names = [...found.keys()];
  console.log(`node ${process.version}; ${count} rounds of ${values.seconds} s windows; setups: ${names.join(', ')}`);
  const ratioName = (ratio: number) => `${percent(ratio)} hits`;

  if (values.only !== 'tcp') {
    const scenarios = Object.keys(shapes).flatMap((shape) => RATIOS.map((ratio) => `${shape}, ${ratioName(ratio)}`));
    const samples = await rounds(names, scenarios, count, async (scenario, name) => {
      const [shape, ratio] = scenario.split(', ');
      return inProcessWindow(found.get(name), shapes[shape!]!, RATIOS.find((r) => ratioName(r) === ratio)!, ms);
    });
    report('in-process: the interceptor on a handler that returns a small object, one call at a time', names, scenarios, samples);
  }

  if (values.only !== 'inprocess') {
    // The child runs under the same TypeScript loader, passed on in execArgv.
    const server = fork(fileURLToPath(import.meta.url), ['serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const url = await new Promise<string>((resolve, reject) => {
      server.once('message', (message) => resolve(message as string));
      server.once('exit', (code) => reject(new Error(`the server process exited with code ${String(code)}`)));
    });
    const scenarios = RATIOS.map(ratioName);
    const samples = await rounds(names, scenarios, count, (scenario, name) => tcpWindow(url, found.get(name), RATIOS.find((r) => ratioName(r) === scenario)!, ms));
    server.kill();
    report('tcp: add(a, 7), 128 in flight, server in a child process (CPU: the client\'s)', names, scenarios, samples);
  }
}

/** The child's part: serves `add` until its parent goes. */
async function serve(): Promise<void> {
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false });
  server.provide(BenchService, { add: async (a, b) => a + b, echo: async (data) => data });
  const [url] = await server.listen();
  process.on('disconnect', () => process.exit(0));
  process.send!(url);
}

(process.argv[2] === 'serve' ? serve() : main()).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
