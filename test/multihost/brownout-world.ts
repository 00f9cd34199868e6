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
  /** Calls the faulty provider answered. */
  readonly toFaulty: number;
  /** With `limits`: the client's adaptive limits as the phase ended, the faulty provider's first. */
  readonly limits?: readonly number[];
}

/** How the consumers call: `ratePerSecond` (open loop), or `lanes` calls always in flight (closed loop). */
export interface WorldOptions {
  readonly providers: number;
  readonly ratePerSecond?: number;
  readonly lanes?: number;
  /** Report the consumers' adaptive limits with each phase's figures. */
  readonly limits?: boolean;
}

/** Providers and consumers, each in a host of its own; consumers reach providers by fixed addresses. */
export class BrownoutWorld {
  private constructor(
    private readonly bed: Testbed,
    readonly providers: ReadonlyArray<{ readonly host: Host; readonly process: HostProcess; readonly address: string }>,
    readonly consumers: ReadonlyArray<{ readonly setup: ClientSetup; readonly process: HostProcess }>,
  ) {}

  static async start(bed: Testbed, setups: readonly ClientSetup[], options: WorldOptions): Promise<BrownoutWorld> {
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
        lanes: options.lanes,
        limits: options.limits,
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
    const byLabel = stats.byLabel as Record<string, number>;
    const limits = stats.limits as Record<string, number> | undefined;
    const faultyLimit = limits === undefined ? undefined : Object.entries(limits).find(([address]) => address.includes(host))?.[1];
    return {
      fault: fault.name,
      setup: setup.name,
      calls: Number(stats.calls),
      failed: Number(stats.failed),
      codes: stats.codes as Record<string, number>,
      okMs: stats.okMs as PhaseFigures['okMs'],
      byLabel,
      toFaulty: byLabel[this.faulty.host.name] ?? 0,
      ...(limits === undefined ? {} : {
        limits: [faultyLimit ?? Number.NaN, ...Object.entries(limits).filter(([address]) => !address.includes(host)).map(([, limit]) => limit)],
      }),
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

/** One consumer's healthy phase and the brown-out phase after it, in one round. */
export interface BrownoutRound {
  readonly round: number;
  readonly healthy: PhaseFigures;
  readonly slowed: PhaseFigures;
}

export const roundTableHead = ['client', 'round', 'calls', 'failed', 'error rate', 'healthy p99 ms', 'brown-out p99 ms', 'ratio', 'calls to the slow one', 'share', 'limits (slow; others)'];

export function roundRow({ round, healthy, slowed }: BrownoutRound): Array<string | number | null | undefined> {
  const ratio = healthy.okMs.p99 && slowed.okMs.p99 !== null ? (slowed.okMs.p99 / healthy.okMs.p99).toFixed(2) : '-';
  return [slowed.setup, round, slowed.calls, slowed.failed, percent(slowed.failed, slowed.calls), healthy.okMs.p99, slowed.okMs.p99, ratio, slowed.toFaulty,
    percent(slowed.toFaulty, slowed.calls), slowed.limits === undefined ? '-' : `${slowed.limits[0]}; ${slowed.limits.slice(1).join(', ')}`];
}

/** Per client: the p99 ratio's median and range, rounds within 2×, and the worst error rate and share of calls to the slow provider. */
export const summaryTableHead = ['client', 'rounds', 'p99 ratio, median', 'range', 'rounds within 2×', 'healthy p99 ms', 'brown-out p99 ms', 'worst error rate', 'calls to the slow one'];

export function summaryRows(rounds: readonly BrownoutRound[]): Array<Array<string | number>> {
  const setups = [...new Set(rounds.map((one) => one.slowed.setup))];
  return setups.map((setup) => {
    const mine = rounds.filter((one) => one.slowed.setup === setup);
    const ratios = mine.map(({ healthy, slowed }) => (slowed.okMs.p99 ?? Number.NaN) / (healthy.okMs.p99 ?? Number.NaN)).sort((a, b) => a - b);
    const range = (values: number[], digits: number) => `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;
    const worst = Math.max(...mine.map(({ slowed }) => slowed.failed / Math.max(1, slowed.calls)));
    const shares = mine.map(({ slowed }) => slowed.toFaulty / Math.max(1, slowed.calls));
    return [setup, mine.length, ratios[Math.floor(ratios.length / 2)]!.toFixed(2), range(ratios, 2), `${ratios.filter((ratio) => ratio <= 2).length} of ${mine.length}`,
      range(mine.map(({ healthy }) => healthy.okMs.p99 ?? Number.NaN), 1), range(mine.map(({ slowed }) => slowed.okMs.p99 ?? Number.NaN), 1),
      `${(100 * worst).toFixed(2)} %`, `${range(mine.map(({ slowed }) => slowed.toFaulty), 0)} (${range(shares.map((share) => 100 * share), 2)} %)`];
  });
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '-' : `${((100 * part) / whole).toFixed(2)} %`;
}
