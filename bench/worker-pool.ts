/**
 * `npm run bench:workers`: throughput of a CPU-bound method served on the main thread (inline) and
 * by worker pools of 1 and 2 threads, in one run. For each mode a fresh server process and a fresh
 * client process are forked; the client keeps `--concurrency` calls in flight over one connection.
 *
 *   npm run bench:workers -- [--seconds 3] [--warmup 1] [--rounds 3] [--concurrency 8] [--limit 200000] [--modes inline,pool-1,pool-2]
 *
 * Modes take turns for `--rounds` rounds; the table shows each mode's median and every round's calls/s.
 *
 * This file is also the module the pool's workers load (`PrimeBench`); it runs nothing when it is
 * loaded in a worker thread.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import { WorkerPool, createClient, createServer, defineService } from '../src/index.js';
import { LatencyHistogram, cpuMicrosSince, round } from './stats.js';

export interface PrimeBenchService {
  /** Counts the primes below `limit` by trial division. */
  countPrimes(limit: number): Promise<number>;
}

const PrimeBenchDefinition = defineService<PrimeBenchService>('bench.Prime', { methods: { countPrimes: {} } });

export class PrimeBench implements PrimeBenchService {
  async countPrimes(limit: number): Promise<number> {
    let found = 0;
    for (let n = 2; n < limit; n++) {
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

const MODES = ['inline', 'pool-1', 'pool-2'] as const;
type Mode = (typeof MODES)[number];

/** Child → orchestrator. */
type Report =
  | { type: 'ready'; address: string }
  | { type: 'cpu'; cpuUs: number }
  | { type: 'result'; calls: number; seconds: number; p50us: number; p99us: number };

interface Row {
  mode: Mode;
  callsPerSec: number;
  p50ms: number;
  p99ms: number;
  serverCpuMsPerCall: number;
  /** Server CPU time ÷ wall time: how many cores the server actually got. */
  serverCores: number;
}

const SELF = fileURLToPath(import.meta.url);

async function runServer(mode: Mode): Promise<void> {
  const pool = mode === 'inline' ? undefined : new WorkerPool(new URL(import.meta.url), { export: 'PrimeBench', size: Number(mode.slice(5)) });
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false });
  server.provide(PrimeBenchDefinition, pool === undefined ? new PrimeBench() : pool.implementation<PrimeBenchService>());
  const [address] = await server.listen();
  await pool?.ready();
  let cpuStart = process.cpuUsage();
  process.on('message', (message: string) => {
    if (message === 'start') cpuStart = process.cpuUsage();
    if (message === 'stop') process.send!({ type: 'cpu', cpuUs: cpuMicrosSince(cpuStart) } satisfies Report);
    if (message === 'exit') void server.close({ timeoutMs: 1000 }).then(() => process.disconnect());
  });
  process.send!({ type: 'ready', address: address! } satisfies Report);
}

async function runClient(address: string, warmupMs: number, measureMs: number, concurrency: number, limit: number): Promise<void> {
  const client = createClient({ url: address });
  const prime = client.proxy(PrimeBenchDefinition);
  const expected = await prime.countPrimes(limit);
  const histogram = new LatencyHistogram();
  let measuring = false;
  let stopped = false;
  let calls = 0;
  const lane = async (): Promise<void> => {
    while (!stopped) {
      const started = performance.now();
      const found = await prime.countPrimes(limit);
      if (found !== expected) throw new Error(`countPrimes(${limit}) answered ${found}, not ${expected}`);
      if (measuring) {
        histogram.record((performance.now() - started) * 1000);
        calls++;
      }
    }
  };
  const lanes = Array.from({ length: concurrency }, lane);
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  process.send!('start');
  measuring = true;
  const began = performance.now();
  await new Promise((resolve) => setTimeout(resolve, measureMs));
  measuring = false;
  const seconds = (performance.now() - began) / 1000;
  process.send!('stop');
  stopped = true;
  await Promise.all(lanes);
  await client.close();
  process.send!({ type: 'result', calls, seconds, p50us: histogram.percentile(0.5), p99us: histogram.percentile(0.99) } satisfies Report);
  process.disconnect();
}

/** Forks this file in a role; resolves messages one by one. */
function child(args: string[]): { process: ChildProcess; next: () => Promise<Report | string> } {
  const proc = fork(SELF, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const inbox: Array<Report | string> = [];
  let wake: (() => void) | undefined;
  proc.on('message', (message: Report | string) => {
    inbox.push(message);
    wake?.();
  });
  proc.on('exit', (code) => {
    if (code !== 0) inbox.push({ type: 'result', calls: Number.NaN, seconds: 0, p50us: 0, p99us: 0 });
    wake?.();
  });
  const next = async (): Promise<Report | string> => {
    while (inbox.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    return inbox.shift()!;
  };
  return { process: proc, next };
}

async function measure(mode: Mode, settings: { seconds: number; warmup: number; concurrency: number; limit: number }): Promise<Row> {
  const server = child(['server', mode]);
  const ready = (await server.next()) as Report;
  if (ready.type !== 'ready') throw new Error(`the ${mode} server did not start`);
  const client = child(['client', ready.address, String(settings.warmup * 1000), String(settings.seconds * 1000), String(settings.concurrency), String(settings.limit)]);
  try {
    let result: Extract<Report, { type: 'result' }> | undefined;
    let cpuUs = 0;
    while (result === undefined) {
      const message = await client.next();
      if (message === 'start' || message === 'stop') server.process.send(message);
      else if (typeof message !== 'string' && message.type === 'result') result = message;
      if (message === 'stop') cpuUs = ((await server.next()) as Extract<Report, { type: 'cpu' }>).cpuUs;
    }
    if (Number.isNaN(result.calls)) throw new Error(`the ${mode} client failed`);
    return {
      mode,
      callsPerSec: result.calls / result.seconds,
      p50ms: result.p50us / 1000,
      p99ms: result.p99us / 1000,
      serverCpuMsPerCall: cpuUs / 1000 / result.calls,
      serverCores: cpuUs / 1e6 / result.seconds,
    };
  } finally {
    server.process.send('exit');
    const timer = setTimeout(() => server.process.kill('SIGKILL'), 3000);
    await new Promise((resolve) => server.process.once('exit', resolve));
    clearTimeout(timer);
    client.process.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '8' },
      limit: { type: 'string', default: '200000' },
      modes: { type: 'string', default: MODES.join(',') },
    },
  });
  const settings = { seconds: Number(values.seconds), warmup: Number(values.warmup), concurrency: Number(values.concurrency), limit: Number(values.limit) };
  const modes = values.modes.split(',').map((m) => {
    if (!(MODES as readonly string[]).includes(m)) throw new Error(`unknown mode ${m}; modes: ${MODES.join(', ')}`);
    return m as Mode;
  });
  const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
  process.stderr.write(`${availableParallelism()} cores; load average before: ${load()}\n`);
  // Modes take turns round after round, so a change in the machine's load hits every mode alike.
  const runs = new Map<Mode, Row[]>(modes.map((mode) => [mode, []]));
  for (let turn = 1; turn <= Number(values.rounds); turn++) {
    for (const mode of modes) {
      process.stderr.write(`round ${turn}: ${mode} (countPrimes(${settings.limit}), ${settings.concurrency} in flight, ${settings.seconds} s)\n`);
      runs.get(mode)!.push(await measure(mode, settings));
    }
  }
  process.stderr.write(`load average after: ${load()}\n`);
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const rows = modes.map((mode) => {
    const all = runs.get(mode)!;
    const pick = (key: keyof Omit<Row, 'mode'>) => median(all.map((row) => row[key]));
    const rates = all.map((row) => round(row.callsPerSec));
    return { mode, callsPerSec: pick('callsPerSec'), rates, p50ms: pick('p50ms'), p99ms: pick('p99ms'), serverCpuMsPerCall: pick('serverCpuMsPerCall'), serverCores: pick('serverCores') };
  });
  console.log(`medians of ${values.rounds} rounds`);
  console.log('| mode | calls/s | calls/s each round | p50 ms | p99 ms | server CPU ms/call | server cores used |');
  console.log('| --- | ---: | --- | ---: | ---: | ---: | ---: |');
  for (const row of rows) {
    console.log(`| ${row.mode} | ${round(row.callsPerSec)} | ${row.rates.join(', ')} | ${round(row.p50ms)} | ${round(row.p99ms)} | ${round(row.serverCpuMsPerCall)} | ${round(row.serverCores)} |`);
  }
  const by = (mode: Mode) => rows.find((row) => row.mode === mode)?.callsPerSec;
  const ratio = (a: Mode, b: Mode) => {
    const [x, y] = [by(a), by(b)];
    if (x !== undefined && y !== undefined) console.log(`${a} / ${b}: ${round(x / y)}x calls/s`);
  };
  console.log('');
  ratio('pool-2', 'pool-1');
  ratio('pool-1', 'inline');
  ratio('pool-2', 'inline');
}

// Only as a script: pool workers (and anything else that imports this file) load PrimeBench alone.
if (isMainThread && resolve(process.argv[1] ?? '') === SELF) {
  const [role, ...args] = process.argv.slice(2);
  const run = role === 'server' ? runServer(args[0] as Mode)
    : role === 'client' ? runClient(args[0]!, Number(args[1]), Number(args[2]), Number(args[3]), Number(args[4]))
      : main();
  run.catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
