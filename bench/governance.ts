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
 * per setup, and the client drives one setup at a time. Each setup is measured in pairs of short
 * windows with the baseline, back to back, the order within the pair swapped every round and the
 * setups taking turns. The table shows each setup's median window, and as "vs none" the median over
 * its pairs of its window's ratio to the baseline window of the same pair: the two share the
 * machine's state of the moment, which keeps the comparison fair on a busy machine. CPU per call is
 * client plus server.
 *
 * Options: --seconds N (one window, default 0.5), --rounds N (default 10), --warmup N (per setup,
 * default 0.5), --only a,b (these setups and the baseline), --cpu-prof DIR (V8 CPU profiles of the
 * server and client processes, under DIR/server and DIR/client).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createClient, createServer } from '../src/index.js';
import { bundle } from './bundle.js';
import { BenchService, cache, servers, setups } from './governance-setups.js';
import { cpuMicrosSince, round } from './stats.js';
import { LoadDriver, type Workload } from './workloads.js';

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
  /** Which baseline window this one is compared with (the baseline's own windows carry the same number). */
  pair: number;
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

async function drive(addresses: Record<string, string>, chosen: string[], windowMs: number, rounds: number, warmupMs: number): Promise<void> {
  const clients = chosen.map((name) => {
    const setup = setups[name]!;
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
  const measure = async (name: string, target: (typeof clients)[number]['target'], pair: number): Promise<Window> => {
    const driver = new LoadDriver(target, workload);
    await sleep(100); // the lanes fill the pipeline
    await mark('start');
    const result = await driver.measure(windowMs);
    const serverCpuUs = await mark('stop');
    await driver.stop();
    return { setup: name, pair, callsPerSec: result.calls / result.seconds, p50us: result.p50us, p99us: result.p99us, cpuUsPerCall: (result.cpuUs + serverCpuUs) / result.calls };
  };
  // Each setup is measured in pairs with the baseline, back to back, the order swapped every round.
  const [baseline, ...others] = clients;
  const windows: Window[] = [];
  let pair = 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < others.length; i++) {
      const { name, target } = others[(i + r) % others.length]!;
      pair++;
      if (r % 2 === 0) windows.push(await measure(baseline!.name, baseline!.target, pair), await measure(name, target, pair));
      else windows.push(await measure(name, target, pair), await measure(baseline!.name, baseline!.target, pair));
    }
  }
  await Promise.all(clients.map(({ client }) => client.close({ timeoutMs: 1000 })));
  send({ type: 'done', windows }, () => process.exit(0));
}

const live = new Set<ChildProcess>();

/** Forks the bundle of this file (see bundle.ts) with plain node in one role. */
function spawn(script: string, args: string[], cpuProfDir: string | undefined): ChildProcess {
  const execArgv = cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${join(cpuProfDir, args[0]!)}`];
  const child = fork(script, args, { execArgv, stdio: ['ignore', 2, 2, 'ipc'] });
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
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '0.5' },
      rounds: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '0.5' },
      only: { type: 'string' },
      'cpu-prof': { type: 'string' },
    },
  });
  const [windowMs, rounds, warmupMs] = [Number(values.seconds) * 1000, Number(values.rounds), Number(values.warmup) * 1000];
  if (!(windowMs > 0) || !(rounds >= 1) || !(warmupMs >= 0)) throw new Error('--seconds, --rounds and --warmup take positive numbers');
  // The baseline always runs: every ratio is against it.
  const chosen = values.only === undefined ? Object.keys(setups) : ['none', ...values.only.split(',').map((name) => name.trim()).filter((name) => name !== 'none')];
  for (const name of chosen) if (!(name in setups)) throw new Error(`unknown setup ${JSON.stringify(name)}; setups: ${Object.keys(setups).join(', ')}`);
  const cpuProfDir = values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']);
  const script = await bundle(fileURLToPath(import.meta.url));
  const server = spawn(script, ['server'], cpuProfDir);
  const { addresses } = await awaitMessage(server, 'ready', 30_000);
  const client = spawn(script, ['client', JSON.stringify(addresses), chosen.join(','), String(windowMs), String(rounds), String(warmupMs)], cpuProfDir);
  client.on('message', (message: Message) => {
    if (message.type === 'mark') server.send(message);
  });
  server.on('message', (message: Message) => {
    if (message.type === 'marked') client.send(message);
  });
  const total = chosen.length * warmupMs + (chosen.length - 1) * rounds * 2 * (windowMs + 300);
  const { windows } = await awaitMessage(client, 'done', 60_000 + total * 2);
  server.send('exit');

  type Field = Exclude<keyof Window, 'setup' | 'pair'>;
  const of = (name: string, field: Field) => median(windows.filter((w) => w.setup === name).map((w) => w[field]));
  // Each window against the baseline window of its pair: the two share the machine's state of the
  // moment, so drift over the run cancels out of the ratio.
  const ratios = (name: string, field: Field) =>
    name === 'none' ? [1] : windows.filter((w) => w.setup === name).map((w) => w[field] / windows.find((b) => b.setup === 'none' && b.pair === w.pair)![field]);
  const vsNone = (name: string, field: Field) => median(ratios(name, field));
  const share = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;
  // The middle half of a setup's pair ratios: how far one pair's figure can be trusted.
  const middleHalf = (name: string) => {
    const sorted = ratios(name, 'callsPerSec').sort((a, b) => a - b);
    return `${share(sorted[Math.floor((sorted.length - 1) / 4)]!)}–${share(sorted[Math.ceil(((sorted.length - 1) * 3) / 4)]!)}`;
  };
  console.log(`\n${workload.description}; ${rounds} rounds of ${values.seconds} s windows, each setup paired with a baseline window; node ${process.version}`);
  console.log('calls/s, CPU and latencies: median window; vs none: median over the pairs of the ratio to the paired baseline window; middle half: of those ratios\n');
  console.log(['setup', 'calls/s', 'vs none', 'middle half', 'CPU µs/call', 'vs none', 'p50 µs', 'p99 µs', 'what'].join('\t'));
  for (const name of chosen) {
    const setup = setups[name]!;
    console.log([name, Math.round(of(name, 'callsPerSec')), share(vsNone(name, 'callsPerSec')), middleHalf(name), round(of(name, 'cpuUsPerCall')), share(vsNone(name, 'cpuUsPerCall')), round(of(name, 'p50us')), round(of(name, 'p99us')), setup.describe].join('\t'));
  }
  if (!chosen.includes('all')) return;
  const cost = (1 - vsNone('all', 'callsPerSec')) * 100;
  console.log(`\nall together: ${cost.toFixed(1)}% less throughput than none (target: at most 10%), ${((vsNone('all', 'cpuUsPerCall') - 1) * 100).toFixed(1)}% more CPU per call`);
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
  else if (role === 'client') drive(JSON.parse(args[0]!) as Record<string, string>, args[1]!.split(','), Number(args[2]), Number(args[3]), Number(args[4])).catch(report);
  else report(new Error(`unknown role ${String(role)}`));
}
