import { Code } from '../core/code.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { importOptional } from '../core/optional-module.js';
import { RpcError } from '../core/rpc-error.js';
import { serviceId, type ServiceKey } from '../core/service.js';
import { EtcdRuleStore } from '../rules/store-etcd.js';
import { etcdModuleName, isTransient, type EtcdCredentials, type EtcdModule } from './etcd-client.js';
import { EtcdConnection } from './etcd-connection.js';
import { EtcdLayout, checkRulesFolder } from './etcd-layout.js';
import { EtcdSubscription } from './etcd-subscription.js';
import { providerId, providerUrl, type Provider } from './provider.js';
import type { Registry, Unsubscribe } from './registry.js';
import { ProviderCache } from './zookeeper-cache.js';
import { consumerUrl } from './zookeeper-client.js';

export interface EtcdRegistryOptions {
  /** A path every key starts with (`/team-a`: keys `/team-a/dubbo/...`). Default '' (keys `/dubbo/...`). */
  prefix?: string;
  /**
   * Time to live of the lease the registry's entries hang on, in seconds: a provider that dies
   * without unregistering is listed for at most this long. etcd raises a shorter one to its own
   * minimum (1.5 election timeouts, 2 s by default). Default 15.
   */
  leaseTtlS?: number;
  /** How long `register`, `ready` and the rule store try to reach etcd before failing with UNAVAILABLE. Default 5000. */
  dialTimeoutMs?: number;
  /**
   * Last known provider URLs per service, for consumers started while etcd is down; `false`: none.
   * Default `<os.tmpdir()>/switchyard-<uid>/etcd-cache/<app>-<hosts + prefix>-<hash>.json`.
   */
  cacheFile?: string | false;
  /** How long a new subscription waits for etcd's answer before it is told the cached providers. Default 1000. */
  cacheAfterMs?: number;
  /** The folder of traffic rule keys (`<key>.<kind>`). Default `<prefix>/dubbo/config/dubbo`. */
  rulesPath?: string;
  /** Announce each subscription as a `consumer://` entry, as Dubbo consumers do. Default true. */
  registerConsumers?: boolean;
  /** An etcd user, for an etcd with authentication enabled. */
  credentials?: EtcdCredentials;
  logger?: Logger;
}

/** A key this instance wants to exist while it lives, and the lease it was last written with. */
interface Own { readonly key: string; readonly value: string; refs: number; writtenWith?: string }

/**
 * A registry on etcd (v3 API) in Dubbo's layout (see etcd-layout.ts): entries are keys on a lease
 * this process keeps alive, so those of a dead process go when the lease runs out; subscribers
 * follow etcd watches, and keep the last list they had while etcd is out of reach. Traffic rules
 * are in `rules`. See docs/registry.md (etcd).
 *
 * ```ts
 * const registry = await createEtcdRegistry(['127.0.0.1:2379'], { leaseTtlS: 10 });
 * ```
 */
export class EtcdRegistry implements Registry {
  private readonly layout: EtcdLayout;
  private readonly cacheAfterMs: number;
  private readonly registerConsumers: boolean;
  private readonly logger: Logger;
  private readonly connection: EtcdConnection;
  private readonly cache: ProviderCache;
  private started?: Promise<void>;
  private readonly providers = new Map<string, Own>();
  private readonly consumers = new Map<string, Own>();
  /** Keys to delete once etcd answers (unregistered while it did not). */
  private readonly orphans = new Set<string>();
  private readonly subscriptions = new Map<string, EtcdSubscription>();
  private resyncTimer?: NodeJS.Timeout;
  private resyncFailures = 0;
  private closing?: Promise<void>;
  /** Traffic rules: keys `<rulesPath>/<key>.<kind>` holding the YAML. See docs/registry.md (Rule store). */
  readonly rules: EtcdRuleStore;

  constructor(hosts: readonly string[], options: EtcdRegistryOptions = {}) {
    if (hosts.length === 0) throw new RpcError(Code.INVALID_ARGUMENT, 'the etcd registry needs at least one host:port');
    this.layout = new EtcdLayout(options.prefix ?? '');
    const leaseTtlS = options.leaseTtlS ?? 15;
    if (!Number.isInteger(leaseTtlS) || leaseTtlS < 1) throw new RpcError(Code.INVALID_ARGUMENT, 'leaseTtlS must be a whole number of seconds, 1 or more');
    const dialTimeoutMs = options.dialTimeoutMs ?? 5_000;
    if (!Number.isFinite(dialTimeoutMs) || dialTimeoutMs <= 0) throw new RpcError(Code.INVALID_ARGUMENT, 'dialTimeoutMs must be a number of milliseconds above 0');
    this.cacheAfterMs = options.cacheAfterMs ?? 1_000;
    if (!Number.isFinite(this.cacheAfterMs) || this.cacheAfterMs < 0) throw new RpcError(Code.INVALID_ARGUMENT, 'cacheAfterMs must be a number of milliseconds, 0 or more');
    this.registerConsumers = options.registerConsumers ?? true;
    this.logger = options.logger ?? silentLogger;
    this.cache = new ProviderCache(options.cacheFile ?? this.layout.defaultCacheFile(hosts), options.cacheFile === undefined, this.logger);
    this.connection = new EtcdConnection({ hosts, credentials: options.credentials, leaseTtlS, dialTimeoutMs }, this.logger, () => this.scheduleResync(0));
    this.rules = new EtcdRuleStore(checkRulesFolder(options.rulesPath ?? this.layout.defaultRulesFolder), this.connection, this.logger);
  }

  /** The cache file in use, `false` for none (see the `cacheFile` option). */
  get cacheFile(): string | false {
    return this.cache.file;
  }

  /** Loads the etcd client and reads the cache file; `createEtcdRegistry` calls it; calling it again does nothing. */
  connect(): Promise<void> {
    this.started ??= this.start();
    return this.started;
  }

  private async start(): Promise<void> {
    const etcd = await importOptional<EtcdModule>(etcdModuleName, 'the etcd registry');
    await this.cache.load();
    if (!this.closing) this.connection.open(etcd);
  }

  /** Resolves once etcd answers; rejects with UNAVAILABLE after `dialTimeoutMs`. */
  async ready(): Promise<void> {
    this.assertOpen();
    await this.connection.run('reach etcd', (client) => client.get(this.layout.root).exists());
  }

  async register(provider: Provider): Promise<void> {
    this.assertOpen();
    const id = providerId(provider);
    const url = providerUrl(provider);
    const own: Own = { key: this.layout.entryKey(provider.service.name, 'providers', url), value: url, refs: 1 };
    const previous = this.providers.get(id);
    this.providers.set(id, own);
    this.orphans.delete(own.key);
    if (previous && previous.key !== own.key) void this.drop(previous.key);
    try {
      await this.connection.run(`register ${id}`, () => this.write(own));
    } catch (error) {
      if (this.providers.get(id) === own) this.providers.delete(id);
      throw error;
    }
  }

  async unregister(provider: Provider): Promise<void> {
    const id = providerId(provider);
    const own = this.providers.get(id);
    if (!own) return;
    this.providers.delete(id);
    await this.drop(own.key);
  }

  subscribe(service: ServiceKey, onChange: (providers: Provider[]) => void): Unsubscribe {
    this.assertOpen();
    const name = service.name;
    let sub = this.subscriptions.get(name);
    if (!sub) {
      sub = new EtcdSubscription(name, this.layout, this.connection, this.cache, this.cacheAfterMs, this.logger);
      this.subscriptions.set(name, sub);
    }
    const current = sub;
    const remove = current.add(onChange);
    const consumer = this.registerConsumers ? this.addConsumer(service) : undefined;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (remove() && this.subscriptions.get(name) === current) {
        this.subscriptions.delete(name);
        void current.stop();
      }
      if (consumer && --consumer.own.refs === 0 && this.consumers.get(consumer.key) === consumer.own) {
        this.consumers.delete(consumer.key);
        void this.drop(consumer.own.key);
      }
    };
  }

  /** The services with entries under the root (`<prefix>/dubbo/<service>/...`), sorted; tries for `dialTimeoutMs`. */
  async services(): Promise<string[]> {
    this.assertOpen();
    const keys = await this.connection.run(`list ${this.layout.root}`, (client) => client.getAll().prefix(`${this.layout.root}/`).keys());
    return this.layout.serviceNames(keys, this.rules.folder);
  }

  /** The `consumer://` URLs announced for a service, sorted. */
  async consumersOf(service: string): Promise<string[]> {
    this.assertOpen();
    const folder = this.layout.folder(service, 'consumers');
    const keys = await this.connection.run(`list ${folder}`, (client) => client.getAll().prefix(folder).keys());
    return keys.map((key) => this.layout.entryUrl(key)).sort();
  }

  async close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearTimeout(this.resyncTimer);
    const subscriptions = [...this.subscriptions.values()];
    this.subscriptions.clear();
    await Promise.all([this.rules.stop(), ...subscriptions.map((sub) => sub.stop())]);
    // Revoking the lease deletes the entries written with it; orphans may hang on an older one.
    const orphans = [...this.orphans];
    this.providers.clear();
    this.consumers.clear();
    this.orphans.clear();
    await this.connection.close(orphans);
    await this.cache.flush();
  }

  /** Writes a key this instance owns with the live lease (granting one if needed). */
  private async write(own: Own): Promise<void> {
    const lease = await this.connection.lease();
    await this.connection.client.put(own.key).value(own.value).lease(lease).exec();
    own.writtenWith = lease;
    // Unregistered while the write was on its way: it must not stay until the lease runs out.
    if (!this.owned(own.key)) await this.drop(own.key);
  }

  /** What this instance owns under `key`, if anything. */
  private owned(key: string): Own | undefined {
    for (const own of this.providers.values()) if (own.key === key) return own;
    for (const own of this.consumers.values()) if (own.key === key) return own;
    return undefined;
  }

  /** Deletes a key now, or once etcd answers again. */
  private async drop(key: string): Promise<void> {
    this.orphans.add(key);
    try {
      await this.connection.client.delete().key(key).exec();
      this.orphans.delete(key);
      // Registered again while the delete was on its way, which may have removed the new write.
      const again = this.owned(key);
      if (again) {
        again.writtenWith = undefined;
        this.scheduleResync(0);
      }
    } catch (error) {
      if (this.closing) return;
      this.logger.debug({ err: error, key }, 'etcd registry: cannot delete a key yet; trying again');
      this.scheduleResync();
    }
  }

  /**
   * Brings etcd in line with what this instance wants, after a lost lease or a failed write:
   * deletes orphans, writes every owned key not yet written with the live lease; tried again
   * (250 ms, doubling up to 2 s) until it all succeeds.
   */
  private scheduleResync(delayMs = Math.min(250 * 2 ** this.resyncFailures, 2_000)): void {
    if (this.resyncTimer || this.closing) return;
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = undefined;
      this.resync().then(() => (this.resyncFailures = 0), (error: unknown) => {
        if (this.closing) return;
        this.resyncFailures++;
        // A refusal (permissions, credentials) needs someone to act; anything else mends itself.
        this.logger[isTransient(error) ? 'debug' : 'warn']({ err: error }, 'etcd registry: writing its entries failed; trying again');
        this.scheduleResync();
      });
    }, delayMs);
  }

  private async resync(): Promise<void> {
    if (this.closing) return;
    for (const key of [...this.orphans]) {
      await this.connection.client.delete().key(key).exec();
      this.orphans.delete(key);
    }
    for (const own of [...this.providers.values(), ...this.consumers.values()]) {
      // Not written yet, or written with a lease that is gone.
      if (own.writtenWith === undefined || own.writtenWith !== this.connection.leaseId) await this.write(own);
    }
  }

  private addConsumer(service: ServiceKey): { key: string; own: Own } {
    const key = serviceId(service);
    const existing = this.consumers.get(key);
    if (existing) {
      existing.refs++;
      return { key, own: existing };
    }
    const url = consumerUrl(service);
    const own: Own = { key: this.layout.entryKey(service.name, 'consumers', url), value: url, refs: 1 };
    this.consumers.set(key, own);
    this.write(own).catch((error: unknown) => {
      if (this.closing) return;
      this.logger.debug({ err: error, consumer: key }, 'etcd registry: cannot announce a consumer yet; trying again');
      this.scheduleResync();
    });
    return { key, own };
  }

  private assertOpen(): void {
    if (this.closing) throw new RpcError(Code.FAILED_PRECONDITION, 'the etcd registry is closed');
  }
}

/**
 * Connects to etcd (`['host:port', …]`, the members of one cluster). Resolves at once, without
 * waiting for etcd: a consumer started while etcd is down gets providers from the cache file.
 * Await `registry.ready()` to wait for etcd.
 */
export async function createEtcdRegistry(hosts: readonly string[], options: EtcdRegistryOptions = {}): Promise<EtcdRegistry> {
  const registry = new EtcdRegistry(hosts, options);
  await registry.connect();
  return registry;
}
