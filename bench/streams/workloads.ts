/**
 * The workloads of `npm run bench:streams`, and the driver that runs one call after another.
 *
 * A workload is one kind of stream with items of one size, `itemsPerCall` items per call. One call
 * is in flight at a time: the figure is what a single stream carries.
 */
import { performance } from 'node:perf_hooks';
import { cpuMicrosSince } from '../stats.js';
import { checkItem, sameItem } from './items.js';
import type { StreamClient } from './systems.js';

export type StreamDirection = 'client' | 'bidi' | 'server';

export interface StreamWorkload {
  readonly name: string;
  readonly kind: StreamDirection;
  readonly itemBytes: number;
  readonly itemsPerCall: number;
  readonly description: string;
  /** Makes one call and checks all it received; throws on a wrong answer. */
  call(client: StreamClient): Promise<void>;
}

function workload(kind: StreamDirection, itemBytes: number, itemsPerCall: number, label: string): StreamWorkload {
  const describe = { client: 'client stream: items up, their count back', bidi: 'bidi: each item echoed back', server: 'server stream: items down' }[kind];
  return {
    name: `${kind}-${label}`,
    kind,
    itemBytes,
    itemsPerCall,
    description: `${describe}; ${itemsPerCall} items of ${label} B per call`,
    async call(client) {
      let received = 0;
      if (kind === 'client') {
        received = await client.upload(sameItem(itemsPerCall, itemBytes));
      } else {
        const answers = kind === 'bidi' ? client.echo(sameItem(itemsPerCall, itemBytes)) : client.download(itemsPerCall, itemBytes);
        for await (const item of answers) {
          checkItem(item, itemBytes);
          received++;
        }
      }
      if (received !== itemsPerCall) throw new Error(`${kind} stream of ${itemsPerCall} items: ${received} arrived`);
    },
  };
}

export const streamWorkloads: readonly StreamWorkload[] = (['client', 'bidi', 'server'] as const).flatMap((kind) => [
  workload(kind, 64, 10_000, '64'),
  workload(kind, 64 * 1024, 512, '64k'),
]);

export function findStreamWorkload(name: string): StreamWorkload {
  const found = streamWorkloads.find((w) => w.name === name);
  if (found === undefined) throw new Error(`unknown workload ${JSON.stringify(name)}; known: ${streamWorkloads.map((w) => w.name).join(', ')}`);
  return found;
}

/** What the client measured over its window. */
export interface StreamWindow {
  items: number;
  calls: number;
  seconds: number;
  cpuUs: number;
}

/**
 * Makes calls back to back until stopped. A window runs from the end of one call to the end of a
 * later one, so it holds whole calls only: no call is counted in part, whatever its length.
 */
export class StreamDriver {
  private running = true;
  private failure: Error | undefined;
  private readonly loop: Promise<void>;
  private onCallEnd: ((at: number) => void) | undefined;

  constructor(
    private readonly client: StreamClient,
    private readonly workload: StreamWorkload,
  ) {
    this.loop = this.run();
  }

  /** The calls that end between the first call end from now and the first one at least `ms` after it. */
  measure(ms: number): Promise<StreamWindow> {
    this.check();
    return new Promise((resolve, reject) => {
      let start: number | undefined;
      let cpuStart = process.cpuUsage();
      let calls = 0;
      this.onCallEnd = (at) => {
        if (this.failure !== undefined) {
          this.onCallEnd = undefined;
          reject(this.failure);
        } else if (start === undefined) {
          start = at;
          cpuStart = process.cpuUsage();
        } else {
          calls++;
          if (at - start < ms) return;
          this.onCallEnd = undefined;
          resolve({ items: calls * this.workload.itemsPerCall, calls, seconds: (at - start) / 1000, cpuUs: cpuMicrosSince(cpuStart) });
        }
      };
    });
  }

  /** Throws if a call has failed so far. */
  check(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /** Lets the call in flight finish, then resolves. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.workload.call(this.client);
      } catch (error) {
        this.failure ??= error as Error;
        this.running = false;
      }
      this.onCallEnd?.(performance.now());
    }
  }
}
