/**
 * The entry of every child process of the benchmark: `worker.ts server <system>` or
 * `worker.ts client <system> <workload>`. It talks to bench/main.ts over the IPC channel only.
 */
import { performance } from 'node:perf_hooks';
import { cpuMicrosSince } from './stats.js';
import { systems, type Handlers } from './systems/index.js';
import { LoadDriver, findWorkload, type ClientResult } from './workloads.js';

/** What the orchestrator tells a child. */
export type Command =
  | { type: 'start' } // server: start counting calls and CPU
  | { type: 'stop' } // server: report what was counted since start
  | { type: 'run'; address: string; warmupMs: number } // client: connect, load, report when warm
  | { type: 'measure'; ms: number } // client: measure a window of `ms`
  | { type: 'exit' };

/** What a child tells the orchestrator. */
export type Report =
  | { type: 'ready'; address: string }
  | { type: 'started' }
  | { type: 'stopped'; calls: number; cpuUs: number; seconds: number }
  | { type: 'warmed' }
  | { type: 'measured'; result: ClientResult }
  | { type: 'error'; message: string };

function report(message: Report): void {
  process.send!(message);
}

function fail(error: unknown): void {
  report({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  // Give the IPC message a moment to leave before the process goes.
  setTimeout(() => process.exit(1), 100);
}

/** Resolves with `work`, or after `ms` if it takes longer: shutdown must not hang on a stuck peer. */
function atMost(ms: number, work: Promise<unknown>): Promise<unknown> {
  return Promise.race([work.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, ms).unref())]);
}

function onCommand(handle: (command: Command) => Promise<void>): void {
  process.on('message', (command: Command) => {
    handle(command).catch(fail);
  });
}

async function runServer(systemName: string): Promise<void> {
  const system = await loadSystem(systemName);
  let calls = 0;
  const handlers: Handlers = {
    add: (a, b) => {
      calls++;
      return a + b;
    },
    echo: (data) => {
      calls++;
      return data;
    },
  };
  const server = await system.serve(handlers);
  let cpuStart = process.cpuUsage();
  let startedAt = performance.now();
  onCommand(async (command) => {
    if (command.type === 'start') {
      calls = 0;
      cpuStart = process.cpuUsage();
      startedAt = performance.now();
      report({ type: 'started' });
    } else if (command.type === 'stop') {
      const cpuUs = cpuMicrosSince(cpuStart);
      report({ type: 'stopped', calls, cpuUs, seconds: (performance.now() - startedAt) / 1000 });
    } else if (command.type === 'exit') {
      await atMost(2000, server.close());
      process.exit(0);
    }
  });
  report({ type: 'ready', address: server.address });
}

async function runClient(systemName: string, workloadName: string): Promise<void> {
  const system = await loadSystem(systemName);
  const workload = findWorkload(workloadName);
  let driver: LoadDriver | undefined;
  let close: (() => Promise<void>) | undefined;
  onCommand(async (command) => {
    if (command.type === 'run') {
      const client = await system.connect(command.address);
      close = () => client.close();
      driver = new LoadDriver(client, workload);
      await new Promise((resolve) => setTimeout(resolve, command.warmupMs));
      driver.check();
      report({ type: 'warmed' });
    } else if (command.type === 'measure') {
      if (driver === undefined) throw new Error('measure before run');
      report({ type: 'measured', result: await driver.measure(command.ms) });
    } else if (command.type === 'exit') {
      if (driver !== undefined) await atMost(2000, driver.stop());
      if (close !== undefined) await atMost(2000, close());
      process.exit(0);
    }
  });
}

async function loadSystem(name: string) {
  const load = systems[name];
  if (load === undefined) throw new Error(`unknown system ${JSON.stringify(name)}`);
  return load();
}

process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);
// Without the orchestrator there is nothing to do: leave rather than linger.
process.on('disconnect', () => process.exit(1));

const [role, systemName, workloadName] = process.argv.slice(2);

/*
 * `--ballast N` of the bench: objects kept alive for the whole run. A bench process is far smaller
 * than an application and may never run a major collection in a run, until a change loads a little
 * more code or keeps a little more: then the same calls cost much more (1.0 s of CPU became 1.5 s
 * for 200,000 calls with 5,000 objects kept, about a megabyte). Ballast puts both sides of a
 * comparison in an application's regime.
 */
const ballast: unknown[] = [];
for (let i = 0; i < Number(process.env.BENCH_BALLAST ?? 0); i++) ballast.push({ values: new Array<number>(16).fill(i), label: `ballast ${i}` });
(globalThis as { benchBallast?: unknown[] }).benchBallast = ballast;
if (process.send === undefined) {
  console.error('bench/worker.ts is started by bench/main.ts, not by hand');
  process.exit(2);
}
if (role === 'server' && systemName !== undefined) runServer(systemName).catch(fail);
else if (role === 'client' && systemName !== undefined && workloadName !== undefined) runClient(systemName, workloadName).catch(fail);
else fail(new Error(`usage: worker.ts server <system> | client <system> <workload>; got ${process.argv.slice(2).join(' ')}`));
