import { fileURLToPath } from 'node:url';
import type { Host, HostProcess, Message, Testbed } from '../support/testbed.js';
import { ZooKeeperEnsemble } from './ensemble.js';

const providerScript = fileURLToPath(new URL('./fixtures/provider.ts', import.meta.url));
const consumerScript = fileURLToPath(new URL('./fixtures/consumer.ts', import.meta.url));

export interface EnsembleWorldOptions {
  /** Session timeout of every registry (the ensemble's tick is 500 ms: 1-10 s). */
  sessionTimeoutMs: number;
  /** Calls per second the consumer makes while a scenario runs. */
  ratePerSecond: number;
  /** Providers registered before the first scenario. */
  initialProviders: number;
}

/** A provider process and what the test knows of it. */
export interface ProviderNode {
  readonly label: string;
  readonly process: HostProcess;
  /** `tcp://<host address>:<port>` once it listens. */
  address?: string;
}

/**
 * Three ZooKeeper servers, one consumer and some providers, each in a host of its own, all on the
 * ensemble's `zookeeper://` address. Providers beyond the first ones start deferred: their process
 * runs, and they listen and register only when a scenario says so.
 */
export class EnsembleWorld {
  readonly providers: ProviderNode[] = [];
  private spareCount = 0;
  private next?: Promise<ProviderNode>;

  private constructor(
    private readonly bed: Testbed,
    readonly ensemble: ZooKeeperEnsemble,
    readonly consumer: HostProcess,
    readonly registry: string,
  ) {}

  static async start(bed: Testbed, options: EnsembleWorldOptions): Promise<EnsembleWorld> {
    const ensemble = await ZooKeeperEnsemble.start(bed, ['zk1', 'zk2', 'zk3']);
    // connectTimeoutMs: a registration waits out a leader election instead of failing.
    const registry = `zookeeper://${ensemble.connectString}?sessionTimeoutMs=${options.sessionTimeoutMs}&connectTimeoutMs=20000&cacheFile=false`;
    const [consumerHost] = await bed.addHosts('c1');
    const consumer = bed.node(consumerHost!, consumerScript, [JSON.stringify({
      registry,
      ratePerSecond: options.ratePerSecond,
      client: { loadBalance: 'roundrobin', timeoutMs: 5_000 },
    })], 'consumer c1');
    const world = new EnsembleWorld(bed, ensemble, consumer, registry);
    const first = await Promise.all(Array.from({ length: options.initialProviders }, () => world.spare()));
    await Promise.all(first.map((provider) => world.register(provider)));
    await consumer.waitFor((message) => message.type === 'ready', 60_000, 'the consumer to start');
    await world.listed(first.map((provider) => provider.address!), 0, 30_000);
    world.prepareSpare();
    return world;
  }

  /** The providers registered and not killed. */
  get live(): ProviderNode[] {
    return this.providers.filter((provider) => provider.address !== undefined && provider.process.running);
  }

  /** A started, not yet registered provider on a new host (started ahead, so that its start is not timed). */
  spare(): Promise<ProviderNode> {
    const taken = this.next ?? this.startSpare();
    this.next = undefined;
    return taken;
  }

  /** Starts the next spare now, for a later `spare()`. */
  prepareSpare(): void {
    this.next ??= this.startSpare();
  }

  private async startSpare(): Promise<ProviderNode> {
    const label = `p${++this.spareCount}`;
    const [host] = await this.bed.addHosts(label);
    const process = this.bed.node(host!, providerScript, [JSON.stringify({ label, listen: `tcp://${host!.address}:0`, registry: this.registry, defer: true })], `provider ${label}`);
    await process.waitFor((message) => message.type === 'started', 60_000, `provider ${label} to start`);
    const provider: ProviderNode = { label, process };
    this.providers.push(provider);
    return provider;
  }

  /** Makes a provider listen and register; resolves with the time its registration completed. */
  async register(provider: ProviderNode): Promise<number> {
    await provider.process.request({ cmd: 'listen' }, 60_000);
    const ready = await provider.process.waitFor((message) => message.type === 'ready', 1_000, 'ready');
    provider.address = String(ready.address);
    return Number(ready.at);
  }

  hostOf(provider: ProviderNode): Host {
    return provider.process.host;
  }

  /** The consumer's first `providers` message from index `from` on that lists all of `addresses`. */
  listed(addresses: readonly string[], from: number, timeoutMs: number): Promise<Message> {
    return this.consumer.waitFor((message) => message.type === 'providers' && addresses.every((address) => (message.addresses as string[]).includes(address)),
      timeoutMs, `the consumer to list ${addresses.join(', ')}`, from);
  }

  /** The consumer's first `providers` message from index `from` on that lacks `address`. */
  unlisted(address: string, from: number, timeoutMs: number): Promise<Message> {
    return this.consumer.waitFor((message) => message.type === 'providers' && !(message.addresses as string[]).includes(address),
      timeoutMs, `the consumer to drop ${address}`, from);
  }

  async stop(): Promise<void> {
    await this.consumer.stop(1_000);
    await Promise.all(this.providers.map((provider) => provider.process.stop(1_000)));
    await this.ensemble.stop();
  }
}
