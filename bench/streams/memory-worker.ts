/**
 * The child process of `npm run bench:stream-memory`: `memory-worker.ts server <transport> <pace>`
 * or `memory-worker.ts client <transport> <pace>`, driven by bench/stream-memory.ts over IPC.
 * Producers make a fresh item as fast as they are pulled; the last consumer of each stream keeps
 * to `pace` bytes per second (0: as fast as it can).
 */
import { performance } from 'node:perf_hooks';
import { checkItem, freshItems } from './items.js';
import { atMost, fail, onCommand, report, startChild } from './ipc.js';
import { Pacer } from './pacer.js';
import type { StreamClient } from './systems.js';
import { loadMemoryTransport } from './transports.js';
import type { StreamDirection } from './workloads.js';

export type MemoryCommand =
  | { type: 'connect'; address: string } // client: connect and make one small call
  | { type: 'run'; direction: StreamDirection; items: number; itemBytes: number } // client: one stream
  | { type: 'exit' };

export type MemoryReport =
  | { type: 'ready'; address: string }
  | { type: 'connected' }
  | { type: 'done'; items: number; seconds: number };

async function runServer(transport: string, pace: number): Promise<void> {
  const system = await loadMemoryTransport(transport);
  const server = await system.serve({ counted: () => {}, pacer: () => new Pacer(pace), items: freshItems });
  onCommand<MemoryCommand>(async (command) => {
    if (command.type === 'exit') {
      await atMost(2000, server.close());
      process.exit(0);
    }
  });
  report<MemoryReport>({ type: 'ready', address: server.address });
}

/** Sends or receives one stream of `items` items in `direction`; resolves with how many made the trip. */
async function stream(client: StreamClient, direction: StreamDirection, items: number, itemBytes: number, pace: number): Promise<number> {
  if (direction === 'client') return client.upload(freshItems(items, itemBytes));
  const pacer = new Pacer(pace);
  let received = 0;
  const answers = direction === 'bidi' ? client.echo(freshItems(items, itemBytes)) : client.download(items, itemBytes);
  for await (const item of answers) {
    checkItem(item, itemBytes);
    received++;
    const wait = pacer.took(item.byteLength);
    if (wait !== undefined) await wait;
  }
  return received;
}

async function runClient(transport: string, pace: number): Promise<void> {
  const system = await loadMemoryTransport(transport);
  let client: StreamClient | undefined;
  onCommand<MemoryCommand>(async (command) => {
    if (command.type === 'connect') {
      client = await system.connect(command.address);
      report<MemoryReport>({ type: 'connected' });
    } else if (command.type === 'run') {
      if (client === undefined) throw new Error('run before connect');
      const started = performance.now();
      const received = await stream(client, command.direction, command.items, command.itemBytes, pace);
      if (received !== command.items) throw new Error(`${command.direction} stream of ${command.items} items: ${received} arrived`);
      report<MemoryReport>({ type: 'done', items: received, seconds: (performance.now() - started) / 1000 });
    } else if (command.type === 'exit') {
      if (client !== undefined) await atMost(2000, client.close());
      process.exit(0);
    }
  });
}

startChild('bench/streams/memory-worker.ts');
const [role, transport, pace] = process.argv.slice(2);
if (role === 'server' && transport !== undefined) runServer(transport, Number(pace ?? 0)).catch(fail);
else if (role === 'client' && transport !== undefined) runClient(transport, Number(pace ?? 0)).catch(fail);
else fail(new Error(`usage: memory-worker.ts server|client <transport> <pace>; got ${process.argv.slice(2).join(' ')}`));
