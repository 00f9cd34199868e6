/**
 * What the client asks for, and the closed-loop driver that asks it.
 *
 * A workload keeps `concurrency` calls in flight: each of that many lanes makes a call, waits for
 * its answer, checks it, and makes the next one at once. Latency is timed per call.
 */
import { performance } from 'node:perf_hooks';
import { LatencyHistogram, cpuMicrosSince } from './stats.js';
import type { BenchClient } from './systems/index.js';

export interface Workload {
  readonly name: string;
  readonly description: string;
  /** Calls in flight at once. */
  readonly concurrency: number;
  /** Payload bytes per call in each direction, for MB/s; 0 when throughput in bytes is not the point. */
  readonly payloadBytes: number;
  /** Makes one call and checks its answer; throws on a wrong one. */
  call(client: BenchClient, seq: number): Promise<void>;
}

async function addCall(client: BenchClient, seq: number): Promise<void> {
  const a = seq & 0xffff;
  const result = await client.add(a, 7);
  if (result !== a + 7) throw new Error(`add(${a}, 7) returned ${String(result)}`);
}

function echoWorkload(name: string, payloadBytes: number, concurrency: number): Workload {
  const payload = new Uint8Array(payloadBytes);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + 7) & 0xff;
  const last = payload[payload.length - 1];
  return {
    name,
    description: `${payloadBytes / 1024} KiB binary echo, ${concurrency} in flight`,
    concurrency,
    payloadBytes,
    async call(client) {
      const echoed = await client.echo(payload);
      if (echoed.byteLength !== payloadBytes || echoed[0] !== payload[0] || echoed[payloadBytes - 1] !== last) {
        throw new Error(`echo returned ${echoed.byteLength} bytes, not the ${payloadBytes} sent`);
      }
    },
  };
}

export const workloads: readonly Workload[] = [
  { name: 'add-1', description: 'add(a, b) of two small numbers, 1 in flight', concurrency: 1, payloadBytes: 0, call: addCall },
  { name: 'add-128', description: 'add(a, b) of two small numbers, 128 in flight', concurrency: 128, payloadBytes: 0, call: addCall },
  echoWorkload('echo-64k-16', 64 * 1024, 16),
];

export function findWorkload(name: string): Workload {
  const workload = workloads.find((w) => w.name === name);
  if (workload === undefined) throw new Error(`unknown workload ${JSON.stringify(name)}; known: ${workloads.map((w) => w.name).join(', ')}`);
  return workload;
}

/** What the client measured over its window. */
export interface ClientResult {
  calls: number;
  seconds: number;
  p50us: number;
  p99us: number;
  meanUs: number;
  cpuUs: number;
}

/** Runs a workload's lanes until stopped; `measure` records one window while they keep running. */
export class LoadDriver {
  private readonly histogram = new LatencyHistogram();
  private running = true;
  private measuring = false;
  private seq = 0;
  private readonly lanes: Array<Promise<void>>;
  private failure: Error | undefined;

  constructor(
    private readonly client: BenchClient,
    private readonly workload: Workload,
  ) {
    this.lanes = Array.from({ length: workload.concurrency }, () => this.lane());
  }

  /** Records every call that completes in the next `ms` milliseconds. */
  async measure(ms: number): Promise<ClientResult> {
    this.histogram.reset();
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    this.measuring = true;
    await new Promise((resolve) => setTimeout(resolve, ms));
    this.measuring = false;
    const seconds = (performance.now() - start) / 1000;
    const cpuUs = cpuMicrosSince(cpuStart);
    if (this.failure !== undefined) throw this.failure;
    const h = this.histogram;
    return { calls: h.count, seconds, p50us: h.percentile(0.5), p99us: h.percentile(0.99), meanUs: h.mean, cpuUs };
  }

  /** Throws if a call has failed so far. */
  check(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /** Lets each lane finish its call in flight, then resolves. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.lanes);
  }

  private async lane(): Promise<void> {
    const { client, workload, histogram } = this;
    while (this.running) {
      const started = performance.now();
      try {
        await workload.call(client, this.seq++);
      } catch (error) {
        this.failure ??= error as Error;
        this.running = false;
        return;
      }
      if (this.measuring) histogram.record((performance.now() - started) * 1000);
    }
  }
}
