/**
 * `npm run bench:schema`: what run-time schemas cost on the small call.
 *
 * `add(a, b)` with 128 calls in flight on one tcp connection, the client in one process and the
 * server in another (both bundled and run with plain node, see bundle.ts), for setups that differ
 * only in the schemas of `add`: none (the baseline), none again (the noise of the measurement),
 * schemas that accept anything (the cost of checking apart from a library's), zod argument schemas `[z.number(), z.number()]`, the same with `result: z.number()` checked, and
 * valibot argument schemas. The server process serves one server per setup; the client process
 * holds one client per setup. Each setup is measured in short windows paired with a baseline
 * window, back to back, the order within the pair swapped every round: a pair shares the
 * machine's state of the moment, so the median of the pairs' ratios is fair on a busy machine.
 *
 * Options: --seconds N (one window, default 0.5), --rounds N (default 10), --warmup N (seconds
 * per setup, default 0.5).
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as v from 'valibot';
import { z } from 'zod';
import { createClient, createServer, defineService, type MethodOptions } from '../src/index.js';
import { bundle } from './bundle.js';
import { Child, killChildrenOnExit } from './child.js';
import { cpuMicrosSince, round } from './stats.js';
import { LoadDriver, findWorkload, type ClientResult } from './workloads.js';

interface Bench {
  add(a: number, b: number): Promise<number>;
  echo(data: Uint8Array): Promise<Uint8Array>;
}

/** A schema that takes anything as it is: what checking costs apart from a library's own work. */
const anything = { '~standard': { version: 1 as const, vendor: 'bench', validate: (value: unknown) => ({ value }) } };

/** What `add` is declared with in each setup; `none` is the baseline every ratio is against. */
const setups: Record<string, { describe: string; add: MethodOptions }> = {
  none: { describe: 'no schemas (baseline)', add: {} },
  'none-again': { describe: 'no schemas: a second baseline, whose ratio shows the noise', add: {} },
  'accept-all': { describe: 'args: two schemas that accept anything (the cost of checking itself)', add: { args: [anything, anything] } },
  zod: { describe: 'args: [z.number(), z.number()]', add: { args: [z.number(), z.number()], result: z.number() } },
  'zod+result': { describe: 'the same, and checkResult: true', add: { args: [z.number(), z.number()], result: z.number(), checkResult: true } },
  valibot: { describe: 'args: [v.number(), v.number()]', add: { args: [v.number(), v.number()], result: v.number() } },
};

const definitionOf = (setup: string) => defineService<Bench>('bench.Bench', { version: '1.0.0', methods: { add: setups[setup]!.add as object, echo: {} } });

const workload = findWorkload('add-128');

type Report =
  | { type: 'ready'; addresses: Record<string, string> }
  | { type: 'started' }
  | { type: 'stopped'; cpuUs: number; calls: number }
  | { type: 'filled' }
  | { type: 'measured'; result: ClientResult }
  | { type: 'drained' };

type Command = { type: 'start' } | { type: 'stop' } | { type: 'fill'; setup: string } | { type: 'measure'; ms: number } | { type: 'drain' } | { type: 'exit' };

const report = (message: Report | { type: 'error'; message: string }) => process.send!(message);

/** The server process: one server per setup; counts the calls its handlers run between start and stop. */
async function serve(): Promise<void> {
  let calls = 0;
  const addresses: Record<string, string> = {};
  const servers = await Promise.all(Object.keys(setups).map(async (setup) => {
    const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false });
    server.provide(definitionOf(setup), { add: async (a, b) => (calls++, a + b), echo: async (data) => data });
    addresses[setup] = (await server.listen())[0]!;
    return server;
  }));
  let cpuStart = process.cpuUsage();
  process.on('message', (command: Command) => {
    if (command.type === 'start') {
      cpuStart = process.cpuUsage();
      calls = 0;
      report({ type: 'started' });
    } else if (command.type === 'stop') {
      report({ type: 'stopped', cpuUs: cpuMicrosSince(cpuStart), calls });
    } else if (command.type === 'exit') {
      void Promise.all(servers.map((server) => server.close({ timeoutMs: 1000 }))).finally(() => process.exit(0));
    }
  });
  report({ type: 'ready', addresses });
}

/** The client process: fills one setup's pipeline, measures a window of it, drains it, as told. */
async function drive(addresses: Record<string, string>): Promise<void> {
  const clients = new Map(Object.keys(setups).map((setup) => {
    const client = createClient({ url: addresses[setup]! });
    const bench = client.proxy(definitionOf(setup));
    return [setup, { add: (a: number, b: number) => bench.add(a, b), echo: (data: Uint8Array) => bench.echo(data), close: () => client.close() }];
  }));
  let driver: LoadDriver | undefined;
  process.on('message', (command: Command) => {
    void (async () => {
      if (command.type === 'fill') {
        driver = new LoadDriver(clients.get(command.setup)!, workload);
        await new Promise((resolve) => setTimeout(resolve, 100)); // the lanes fill the pipeline
        driver.check();
        report({ type: 'filled' });
      } else if (command.type === 'measure') {
        report({ type: 'measured', result: await driver!.measure(command.ms) });
      } else if (command.type === 'drain') {
        await driver!.stop();
        driver!.check();
        report({ type: 'drained' });
      } else if (command.type === 'exit') {
        await Promise.all([...clients.values()].map((client) => client.close()));
        process.exit(0);
      }
    })().catch((error: unknown) => report({ type: 'error', message: (error as Error).stack ?? String(error) }));
  });
}

/** One measured window of one setup. */
interface Window {
  setup: string;
  pair: number;
  callsPerSec: number;
  /** Client CPU per call it completed plus server CPU per call it served. */
  cpuUsPerCall: number;
  p50us: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '0.5' }, rounds: { type: 'string', default: '10' }, warmup: { type: 'string', default: '0.5' } } });
  const [windowMs, rounds, warmupMs] = [Number(values.seconds) * 1000, Number(values.rounds), Number(values.warmup) * 1000];
  if (!(windowMs > 0) || !(rounds >= 1) || !(warmupMs >= 0)) throw new Error('--seconds, --rounds and --warmup take positive numbers');
  killChildrenOnExit();
  const script = await bundle(fileURLToPath(import.meta.url));
  const server = new Child<Report>('schema bench server', script, ['server']);
  const { addresses } = await server.next('ready', 30_000);
  const client = new Child<Report>('schema bench client', script, ['client', JSON.stringify(addresses)]);
  const step = 10_000;
  const window = async (setup: string, pair: number, measureMs: number): Promise<Window> => {
    client.send({ type: 'fill', setup });
    await client.next('filled', step);
    server.send({ type: 'start' });
    await server.next('started', step);
    client.send({ type: 'measure', ms: measureMs });
    const { result } = await client.next('measured', measureMs + step);
    server.send({ type: 'stop' });
    const served = await server.next('stopped', step);
    client.send({ type: 'drain' });
    await client.next('drained', step);
    return { setup, pair, callsPerSec: result.calls / result.seconds, cpuUsPerCall: result.cpuUs / result.calls + served.cpuUs / served.calls, p50us: result.p50us };
  };
  try {
    for (const setup of Object.keys(setups)) await window(setup, 0, warmupMs);
    const windows: Window[] = [];
    const others = Object.keys(setups).filter((setup) => setup !== 'none');
    let pair = 0;
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < others.length; i++) {
        const setup = others[(i + r) % others.length]!;
        pair++;
        const order = r % 2 === 0 ? ['none', setup] : [setup, 'none'];
        for (const name of order) windows.push(await window(name, pair, windowMs));
      }
    }
    print(windows, rounds, values.seconds);
  } finally {
    await client.end();
    await server.end();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function print(windows: Window[], rounds: number, seconds: string): void {
  type Field = 'callsPerSec' | 'cpuUsPerCall' | 'p50us';
  const of = (setup: string, field: Field) => median(windows.filter((w) => w.setup === setup).map((w) => w[field]));
  // Each window against the baseline window of its own pair.
  const vsNone = (setup: string, field: Field) => setup === 'none' ? 1
    : median(windows.filter((w) => w.setup === setup).map((w) => w[field] / windows.find((b) => b.setup === 'none' && b.pair === w.pair)![field]));
  const share = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;
  console.log(`\n${workload.description} over tcp; ${rounds} rounds of ${seconds} s windows, each paired with a baseline window; node ${process.version}`);
  console.log('calls/s, CPU, p50: median window; vs none: median over the pairs of the ratio to the paired baseline window\n');
  console.log(['setup', 'calls/s', 'vs none', 'CPU µs/call', 'vs none', 'p50 µs', 'what'].join('\t'));
  for (const setup of Object.keys(setups)) {
    console.log([setup, Math.round(of(setup, 'callsPerSec')), share(vsNone(setup, 'callsPerSec')), round(of(setup, 'cpuUsPerCall')), share(vsNone(setup, 'cpuUsPerCall')), round(of(setup, 'p50us')), setups[setup]!.describe].join('\t'));
  }
  const signed = (ratio: number) => `${ratio >= 1 ? '+' : '−'}${(Math.abs(ratio - 1) * 100).toFixed(1)}%`;
  console.log(`\nzod argument schemas against none: throughput ${signed(vsNone('zod', 'callsPerSec'))} (target: a cost under 10%), CPU per call ${signed(vsNone('zod', 'cpuUsPerCall'))}; noise (none-again): throughput ${signed(vsNone('none-again', 'callsPerSec'))}`);
}

// Started by hand it runs the benchmark; forked by itself (with an IPC channel) it plays one role.
const [role, ...args] = process.argv.slice(2);
if (process.send === undefined) {
  main().catch((error: unknown) => {
    console.error((error as Error).message);
    process.exitCode = 1;
  });
} else {
  process.on('disconnect', () => process.exit(1));
  const failed = (error: unknown) => report({ type: 'error', message: (error as Error).stack ?? String(error) });
  if (role === 'server') serve().catch(failed);
  else if (role === 'client') drive(JSON.parse(args[0]!) as Record<string, string>).catch(failed);
  else failed(new Error(`unknown role ${String(role)}`));
}
