/**
 * The child process of `npm run bench:streams`: `stream-worker.ts server <system>` or
 * `stream-worker.ts client <system> <workload>`, driven by bench/streams.ts over IPC.
 */
import { performance } from 'node:perf_hooks';
import { cpuMicrosSince } from '../stats.js';
import { sameItem } from './items.js';
import { atMost, fail, onCommand, report, startChild } from './ipc.js';
import { Pacer } from './pacer.js';
import { loadStreamSystem } from './systems.js';
import { StreamDriver, findStreamWorkload, type StreamWindow } from './workloads.js';

/** What the orchestrator tells a child. */
export type StreamCommand =
  | { type: 'start' } // server: start counting items and CPU
  | { type: 'stop' } // server: report what was counted since start
  | { type: 'run'; address: string; warmupMs: number } // client: connect, call, report when warm
  | { type: 'measure'; ms: number } // client: measure a window of at least `ms`
  | { type: 'exit' };

/** What a child tells the orchestrator (besides errors, see child.ts). */
export type StreamReport =
  | { type: 'ready'; address: string }
  | { type: 'started' }
  | { type: 'stopped'; items: number; cpuUs: number; seconds: number }
  | { type: 'warmed' }
  | { type: 'measured'; window: StreamWindow };

async function runServer(systemName: string): Promise<void> {
  const system = await loadStreamSystem(systemName);
  let items = 0;
  const server = await system.serve({
    counted: () => {
      items++;
    },
    pacer: () => new Pacer(0),
    items: sameItem,
  });
  let cpuStart = process.cpuUsage();
  let startedAt = performance.now();
  onCommand<StreamCommand>(async (command) => {
    if (command.type === 'start') {
      items = 0;
      cpuStart = process.cpuUsage();
      startedAt = performance.now();
      report<StreamReport>({ type: 'started' });
    } else if (command.type === 'stop') {
      report<StreamReport>({ type: 'stopped', items, cpuUs: cpuMicrosSince(cpuStart), seconds: (performance.now() - startedAt) / 1000 });
    } else if (command.type === 'exit') {
      await atMost(2000, server.close());
      process.exit(0);
    }
  });
  report<StreamReport>({ type: 'ready', address: server.address });
}

async function runClient(systemName: string, workloadName: string): Promise<void> {
  const system = await loadStreamSystem(systemName);
  const workload = findStreamWorkload(workloadName);
  let driver: StreamDriver | undefined;
  let close: (() => Promise<void>) | undefined;
  onCommand<StreamCommand>(async (command) => {
    if (command.type === 'run') {
      const client = await system.connect(command.address);
      close = () => client.close();
      driver = new StreamDriver(client, workload);
      await new Promise((resolve) => setTimeout(resolve, command.warmupMs));
      driver.check();
      report<StreamReport>({ type: 'warmed' });
    } else if (command.type === 'measure') {
      if (driver === undefined) throw new Error('measure before run');
      report<StreamReport>({ type: 'measured', window: await driver.measure(command.ms) });
    } else if (command.type === 'exit') {
      if (driver !== undefined) await atMost(2000, driver.stop());
      if (close !== undefined) await atMost(2000, close());
      process.exit(0);
    }
  });
}

startChild('bench/streams/stream-worker.ts');
const [role, systemName, workloadName] = process.argv.slice(2);
if (role === 'server' && systemName !== undefined) runServer(systemName).catch(fail);
else if (role === 'client' && systemName !== undefined && workloadName !== undefined) runClient(systemName, workloadName).catch(fail);
else fail(new Error(`usage: stream-worker.ts server <system> | client <system> <workload>; got ${process.argv.slice(2).join(' ')}`));
