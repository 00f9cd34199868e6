import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { ClientOptions, RoutingOptions } from '../../src/index.js';
import type { Host, HostProcess, Message, Testbed } from '../support/testbed.js';

const providerScript = fileURLToPath(new URL('./fixtures/provider.ts', import.meta.url));
const consumerScript = fileURLToPath(new URL('./fixtures/consumer.ts', import.meta.url));

/**
 * A consumer's configuration: createClient and proxy options as JSON, handed to the consumer
 * process as they are, so that newer options (an adaptive limiter, outlier ejection) need no change
 * here.
 */
export interface ClientSetup {
  readonly name: string;
  readonly client: Partial<ClientOptions>;
  readonly proxy?: RoutingOptions;
}

/** A fault on one provider's link, undone by `Testbed.heal`. */
export interface LinkFault {
  readonly name: string;
  apply(bed: Testbed, host: Host): Promise<void>;
}

export const noFault: LinkFault = { name: 'healthy baseline', apply: async () => {} };
export const blackholed: LinkFault = { name: 'one provider blackholed', apply: (bed, host) => bed.blackhole(host) };
export const delayed = (ms: number): LinkFault => ({ name: `one provider +${ms} ms (netem delay)`, apply: (bed, host) => bed.netem(host, 'delay', `${ms}ms`) });
export const lossy = (percent: number): LinkFault => ({ name: `one provider ${percent} % loss (netem)`, apply: (bed, host) => bed.netem(host, 'loss', `${percent}%`) });

/** One consumer's figures over one phase. */
export interface PhaseFigures {
  readonly fault: string;
  readonly setup: string;
  readonly calls: number;
  readonly failed: number;
  readonly codes: Readonly<Record<string, number>>;
  readonly okMs: { readonly p50: number | null; readonly p90: number | null; readonly p99: number | null; readonly max: number | null };
  readonly byLabel: Readonly<Record<string, number>>;
  readonly failures: readonly string[];
  /** Circuit breaker changes of the faulty provider during the phase. */
  readonly circuit: ReadonlyArray<{ readonly to: string; readonly at: number }>;
  /** Failed calls that started while the faulty provider's circuit was open. */
  readonly failedWhileOpen: number;
  /** From the start of the calls until the faulty provider's circuit first opened, if it did. */
  readonly openedAfterMs?: number;
}

/** Providers and consumers, each in a host of its own; consumers reach providers by fixed addresses. */
export class BrownoutWorld {
  private constructor(
    private readonly bed: Testbed,
    readonly providers: ReadonlyArray<{ readonly host: Host; readonly process: HostProcess; readonly address: string }>,
    readonly consumers: ReadonlyArray<{ readonly setup: ClientSetup; readonly process: HostProcess }>,
  ) {}

  static async start(bed: Testbed, setups: readonly ClientSetup[], options: { providers: number; ratePerSecond: number }): Promise<BrownoutWorld> {
    const providerHosts = await bed.addHosts(...Array.from({ length: options.providers }, (_, i) => `b${i + 1}`));
    const providers = await Promise.all(providerHosts.map(async (host) => {
      const process = bed.node(host, providerScript, [JSON.stringify({ label: host.name, listen: `tcp://${host.address}:0` })], `provider ${host.name}`);
      const ready = await process.waitFor((message) => message.type === 'ready', 60_000, `provider ${host.name} to listen`);
      return { host, process, address: String(ready.address) };
    }));
    const consumerHosts = await bed.addHosts(...setups.map((_, i) => `bc${i + 1}`));
    const consumers = await Promise.all(setups.map(async (setup, i) => {
      const process = bed.node(consumerHosts[i]!, consumerScript, [JSON.stringify({
        urls: providers.map((provider) => provider.address),
        ratePerSecond: options.ratePerSecond,
        client: setup.client,
        proxy: setup.proxy,
      })], `consumer ${setup.name}`);
      await process.waitFor((message) => message.type === 'ready', 60_000, `consumer ${setup.name} to start`);
      return { setup, process };
    }));
    const world = new BrownoutWorld(bed, providers, consumers);
    // Connections are opened before anything is measured.
    await world.phase(noFault, 1_000);
    return world;
  }

  /** The provider every fault strikes. */
  get faulty(): { readonly host: Host; readonly address: string } {
    return this.providers.at(-1)!;
  }

  /**
   * Applies `fault` to the faulty provider, has every consumer call for `ms`, stops them (waiting
   * for calls in flight), heals the link and gives the consumers `settleMs` to recover.
   */
  async phase(fault: LinkFault, ms: number, settleMs = 1_000): Promise<PhaseFigures[]> {
    const from = this.consumers.map((consumer) => consumer.process.messages.length);
    await fault.apply(this.bed, this.faulty.host);
    const startedAt = Date.now();
    await Promise.all(this.consumers.map((consumer) => consumer.process.request({ cmd: 'start' })));
    await sleep(ms);
    const stats = await Promise.all(this.consumers.map((consumer) => consumer.process.request({ cmd: 'stop' }, 60_000)));
    const endedAt = Date.now();
    await this.bed.heal(this.faulty.host);
    await sleep(settleMs);
    return this.consumers.map((consumer, i) => this.figures(fault, consumer.setup, stats[i]!, consumer.process.messages.slice(from[i]), startedAt, endedAt));
  }

  private figures(fault: LinkFault, setup: ClientSetup, stats: Message, messages: readonly Message[], startedAt: number, endedAt: number): PhaseFigures {
    const host = this.faulty.host.address;
    const circuit = messages.filter((message) => message.type === 'circuit' && String(message.provider).includes(host) && Number(message.at) <= endedAt)
      .map((message) => ({ to: String(message.to), at: Number(message.at) }));
    // Open until the next change, and at most `openMs` (less a margin): a half-open probe starts
    // just before the change it causes is told.
    const breaker = setup.proxy?.circuitBreaker ?? setup.client.circuitBreaker;
    const openMs = (breaker ? breaker.openMs : undefined) ?? 5_000;
    const openWindows = circuit.flatMap((change, i) =>
      (change.to === 'OPEN' ? [[change.at, Math.min(circuit[i + 1]?.at ?? endedAt, change.at + openMs - 50)] as const] : []));
    const failureStarts = stats.failureStarts as number[];
    return {
      fault: fault.name,
      setup: setup.name,
      calls: Number(stats.calls),
      failed: Number(stats.failed),
      codes: stats.codes as Record<string, number>,
      okMs: stats.okMs as PhaseFigures['okMs'],
      byLabel: stats.byLabel as Record<string, number>,
      failures: stats.firstFailures as string[],
      circuit,
      openedAfterMs: openWindows.length > 0 ? openWindows[0]![0] - startedAt : undefined,
      failedWhileOpen: failureStarts.filter((at) => openWindows.some(([opened, closed]) => at >= opened && at < closed)).length,
    };
  }

  async stop(): Promise<void> {
    await Promise.all([...this.consumers, ...this.providers].map((member) => member.process.stop(1_000)));
  }
}

export const phaseTableHead = ['fault', 'client', 'calls', 'failed', 'error rate', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'circuit opened after ms'];

export function phaseRow(figures: PhaseFigures): Array<string | number | null | undefined> {
  const rate = figures.calls === 0 ? '-' : `${((100 * figures.failed) / figures.calls).toFixed(1)} %`;
  return [figures.fault, figures.setup, figures.calls, figures.failed, rate, figures.okMs.p50, figures.okMs.p90, figures.okMs.p99, figures.okMs.max,
    figures.openedAfterMs];
}
