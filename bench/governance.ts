/**
 * `npm run bench:governance`: what the governance interceptors cost on the small call.
 *
 * `add(a, b)` with 128 calls in flight on one connection, the client in one process and the server
 * in another, compared across setups: no interceptors (the baseline), the result cache on the
 * client (every call has new arguments, so nothing hits: this is its overhead on misses, with
 * evictions), the concurrency limit on the server, the rate limiter on the server (limits far above
 * the load, so nothing is refused), and all of them at once.
 *
 * The server process serves one server per interceptor setup, the client process holds one client
 * per setup, and the client drives one setup at a time in short windows that take turns, round
 * after round in rotating order. Each setup so meets the same background load as its baseline,
 * which keeps the comparison fair on a busy machine. The table shows each setup's median window
 * and its ratio to the baseline's from the same run; CPU per call is client plus server.
 *
 * Options: --seconds N (one window, default 0.5), --rounds N (default 10), --warmup N (per setup, default 0.5).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { concurrencyLimit, createClient, createServer, defineService, rateLimit, resultCache, type Interceptor } from '../src/index.js';
import { cpuMicrosSince, round } from './stats.js';
import { LoadDriver, type Workload } from './workloads.js';

interface Bench {
  add(a: number, b: number): Promise<number>;
  echo(data: Uint8Array): Promise<Uint8Array>;
}
const BenchService = defineService<Bench>('bench.Bench', { version: '1.0.0', methods: { add: {}, echo: {} } });
const id = BenchService.id;
const HIGH = 1_000_000_000;

const limit = () => concurrencyLimit({ max: HIGH, services: { [id]: { max: HIGH, methods: { add: { max: HIGH } } } } });
const rate = () => rateLimit({ services: { [id]: { ratePerSec: HIGH, burst: HIGH, methods: { add: { ratePerSec: HIGH, burst: HIGH } } } } });
const cache = () => resultCache({ services: { [id]: { methods: { add: { ttlMs: 60_000, max: 1000 } } } } });

/** Server interceptor setups; the server process serves one server of each. */
const servers: Record<string, () => Interceptor[]> = { plain: () => [], concurrency: () => [limit()], rate: () => [rate()], limits: () => [limit(), rate()] };

/** What is compared: client interceptors and which server they call. */
const setups: Record<string, { describe: string; cache: boolean; breaker?: boolean; server: keyof typeof servers }> = {
  none: { describe: 'no interceptors (baseline)', cache: false, server: 'plain' },
  cache: { describe: 'client: resultCache on add, every call a miss', cache: true, server: 'plain' },
  breaker: { describe: 'client: circuit breaker per provider and method', cache: false, breaker: true, server: 'plain' },
  'concurrency-limit': { describe: 'server: concurrencyLimit at all three levels', cache: false, server: 'concurrency' },
  'rate-limit': { describe: 'server: rateLimit at service and method level', cache: false, server: 'rate' },
  'limits+breaker': { describe: 'client: circuit breaker; server: concurrencyLimit + rateLimit', cache: false, breaker: true, server: 'limits' },
  all: { describe: 'client: resultCache + circuit breaker; server: concurrencyLimit + rateLimit', cache: true, breaker: true, server: 'limits' },
};

/** add(seq, 7): the sequence number makes every call's arguments new. */
const workload: Workload = {
  name: 'add-128-distinct',
  description: 'add(seq, 7), 128 in flight, arguments never repeated',
  concurrency: 128,
  payloadBytes: 0,
  async call(client, seq) {
    const result = await client.add(seq, 7);
    if (result !== seq + 7) throw new Error(`add(${seq}, 7) returned ${String(result)}`);
  },
};

/** One measured window of one setup. */
interface Window {
  setup: string;
  callsPerSec: number;
  p50us: number;
  p99us: number;
  /** Client and server CPU per call. */
  cpuUsPerCall: number;
}

type Message =
  | { type: 'ready'; addresses: Record<string, string> }
  | { type: 'mark'; phase: 'start' | 'stop' } // client → orchestrator → server
  | { type: 'marked'; cpuUs: number } // server → orchestrator → client
  | { type: 'done'; windows: Window[] }
  | { type: 'error'; message: string };

const send = (message: Message, then?: () => void) => process.send!(message, undefined, undefined, then);

async function serve(): Promise<void> {
  const addresses: Record<string, string> = {};
  const running = await Promise.all(Object.entries(servers).map(async ([name, interceptors]) => {
    const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false, interceptors: interceptors() });
    server.provide(BenchService, { add: async (a, b) => a + b, echo: async (data) => data });
    addresses[name] = (await server.listen())[0]!;
    return server;
  }));
  let cpuStart = process.cpuUsage();
  process.on('message', (message: Message | 'exit') => {
    if (message === 'exit') {
      void Promise.all(running.map((server) => server.close({ timeoutMs: 1000 }))).finally(() => process.exit(0));
    } else if (message.type === 'mark' && message.phase === 'start') {
      cpuStart = process.cpuUsage();
      send({ type: 'marked', cpuUs: 0 });
    } else if (message.type === 'mark') {
      send({ type: 'marked', cpuUs: cpuMicrosSince(cpuStart) });
    }
  });
  send({ type: 'ready', addresses });
}

async function drive(addresses: Record<string, string>, windowMs: number, rounds: number, warmupMs: number): Promise<void> {
  const clients = Object.entries(setups).map(([name, setup]) => {
    const client = createClient({
      url: addresses[setup.server]!,
      interceptors: setup.cache ? [cache()] : [],
      circuitBreaker: setup.breaker === true ? {} : undefined,
    });
    const bench = client.proxy(BenchService);
    return { name, client, target: { add: (a: number, b: number) => bench.add(a, b), echo: (data: Uint8Array) => bench.echo(data), close: () => client.close() } };
  });
  const replies: Array<(cpuUs: number) => void> = [];
  process.on('message', (message: Message) => {
    if (message.type === 'marked') replies.shift()?.(message.cpuUs);
  });
  const mark = (phase: 'start' | 'stop') => new Promise<number>((resolve) => {
    replies.push(resolve);
    send({ type: 'mark', phase });
  });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  for (const { target } of clients) {
    const driver = new LoadDriver(target, workload);
    await sleep(warmupMs);
    await driver.stop();
    driver.check();
  }
  const windows: Window[] = [];
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < clients.length; i++) {
      const { name, target } = clients[(i + r) % clients.length]!;
      const driver = new LoadDriver(target, workload);
      await sleep(100); // the lanes fill the pipeline
      await mark('start');
      const result = await driver.measure(windowMs);
      const serverCpuUs = await mark('stop');
      await driver.stop();
      windows.push({ setup: name, callsPerSec: result.calls / result.seconds, p50us: result.p50us, p99us: result.p99us, cpuUsPerCall: (result.cpuUs + serverCpuUs) / result.calls });
    }
  }
  await Promise.all(clients.map(({ client }) => client.close({ timeoutMs: 1000 })));
  send({ type: 'done', windows }, () => process.exit(0));
}

const live = new Set<ChildProcess>();

function spawn(args: string[]): ChildProcess {
  const child = fork(fileURLToPath(import.meta.url), args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 2, 2, 'ipc'] });
  live.add(child);
  child.on('exit', () => live.delete(child));
  return child;
}

/** Resolves with the first message of `type`; rejects on an error report, an early exit or after `ms`. */
function awaitMessage<T extends Message['type']>(child: ChildProcess, type: T, ms: number): Promise<Extract<Message, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`no ${type} within ${ms} ms`)), ms);
    const onMessage = (message: Message) => {
      if (message.type === 'error') fail(new Error(message.message));
      else if (message.type === type) finish(() => resolve(message as Extract<Message, { type: T }>));
    };
    const onExit = (code: number | null) => fail(new Error(`a benchmark process exited with code ${code} while waiting for ${type}`));
    const finish = (then: () => void) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      then();
    };
    const fail = (error: Error) => finish(() => reject(error));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '0.5' }, rounds: { type: 'string', default: '10' }, warmup: { type: 'string', default: '0.5' } } });
  const [windowMs, rounds, warmupMs] = [Number(values.seconds) * 1000, Number(values.rounds), Number(values.warmup) * 1000];
  if (!(windowMs > 0) || !(rounds >= 1) || !(warmupMs >= 0)) throw new Error('--seconds, --rounds and --warmup take positive numbers');
  const server = spawn(['server']);
  const { addresses } = await awaitMessage(server, 'ready', 30_000);
  const client = spawn(['client', JSON.stringify(addresses), String(windowMs), String(rounds), String(warmupMs)]);
  client.on('message', (message: Message) => {
    if (message.type === 'mark') server.send(message);
  });
  server.on('message', (message: Message) => {
    if (message.type === 'marked') client.send(message);
  });
  const total = Object.keys(setups).length * (warmupMs + rounds * (windowMs + 300));
  const { windows } = await awaitMessage(client, 'done', 60_000 + total * 2);
  server.send('exit');

  const of = (name: string, field: Exclude<keyof Window, 'setup'>) => median(windows.filter((w) => w.setup === name).map((w) => w[field]));
  const share = (value: number, base: number) => `${((value / base) * 100).toFixed(1)}%`;
  const base = { rate: of('none', 'callsPerSec'), cpu: of('none', 'cpuUsPerCall') };
  console.log(`\n${workload.description}; median of ${rounds} windows of ${values.seconds} s per setup, taking turns; node ${process.version}\n`);
  console.log(['setup', 'calls/s', 'vs none', 'CPU µs/call', 'vs none', 'p50 µs', 'p99 µs', 'what'].join('\t'));
  for (const [name, setup] of Object.entries(setups)) {
    const [callsPerSec, cpu] = [of(name, 'callsPerSec'), of(name, 'cpuUsPerCall')];
    console.log([name, Math.round(callsPerSec), share(callsPerSec, base.rate), round(cpu), share(cpu, base.cpu), round(of(name, 'p50us')), round(of(name, 'p99us')), setup.describe].join('\t'));
  }
  const cost = (1 - of('all', 'callsPerSec') / base.rate) * 100;
  console.log(`\nall together: ${cost.toFixed(1)}% less throughput than none (target: at most 10%), ${((of('all', 'cpuUsPerCall') / base.cpu - 1) * 100).toFixed(1)}% more CPU per call`);
}

function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
}

function report(error: unknown): void {
  send({ type: 'error', message: (error as Error).stack ?? String(error) }, () => process.exit(1));
}

// Started by hand it runs the benchmark; forked by itself (with an IPC channel) it plays one role.
const [role, ...args] = process.argv.slice(2);
if (process.send === undefined) {
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
  main().catch((error: unknown) => {
    console.error((error as Error).message);
    process.exitCode = 1;
  });
} else {
  process.on('disconnect', () => process.exit(1));
  if (role === 'server') serve().catch(report);
  else if (role === 'client') drive(JSON.parse(args[0]!) as Record<string, string>, Number(args[1]), Number(args[2]), Number(args[3])).catch(report);
  else report(new Error(`unknown role ${String(role)}`));
}
