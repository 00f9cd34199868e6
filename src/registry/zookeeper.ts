import { Code } from '../core/code.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { importOptional } from '../core/optional-module.js';
import { RpcError } from '../core/rpc-error.js';
import { serviceId, type ServiceKey } from '../core/service.js';
import { ZooKeeperRuleStore } from '../rules/store-zookeeper.js';
import { providerId, providerUrl, type Provider } from './provider.js';
import type { Registry, Unsubscribe } from './registry.js';
import { RegistryAccess, isRefusal, type ZooKeeperCredentials } from './zookeeper-acl.js';
import { EPHEMERAL, NODE_EXISTS, NO_NODE, call, codeOf, consumerUrl, decodeChild, lostConnection, zkModuleName, type ZkClient, type ZkModule } from './zookeeper-client.js';
import { ProviderCache, defaultCacheFile } from './zookeeper-cache.js';
import { ZooKeeperConnection, unavailable } from './zookeeper-connection.js';
import { ProviderWatch } from './zookeeper-watch.js';

export interface ZooKeeperRegistryOptions {
  /** Root of the layout. Default `/dubbo`. */
  root?: string;
  /** Session timeout asked of the server (it clamps to 2–20 ticks). Default 30000. */
  sessionTimeoutMs?: number;
  /** How long `register` and `ready` wait for a connection before failing with UNAVAILABLE. Default 5000. */
  connectTimeoutMs?: number;
  /**
   * Last known provider URLs per service, for consumers started while ZooKeeper is down; `false`: none.
   * Default `<os.tmpdir()>/switchyard-<uid>/zookeeper-cache/<app>-<connect string + root>-<hash>.json`,
   * private to this user and to this application (its main script). See docs/registry.md.
   */
  cacheFile?: string | false;
  /**
   * How long a new subscription waits for ZooKeeper's answer before it is told the cached providers.
   * A ZooKeeper that answers in time is never second-guessed by the cache. Default 1000.
   */
  cacheAfterMs?: number;
  /**
   * The folder of traffic rule nodes (`<key>.<kind>`, see `rules`). Default `<root>/config<root>`,
   * `/dubbo/config/dubbo`: where Dubbo's config center keeps them when the registry serves as config
   * center, its namespace and group both being the registry's root. A Dubbo config center with a
   * namespace or group of its own keeps them in `/<namespace>/config/<group>`.
   */
  rulesPath?: string;
  /** Announce each subscription as a `consumer://` node, as Dubbo consumers do. Default true. */
  registerConsumers?: boolean;
  /**
   * A digest credential (Dubbo's registry username and password). The registry authenticates every
   * connection with it and makes the nodes it writes writable by it alone and readable by anyone,
   * tightening paths of its tree that let anyone write; see docs/registry.md (ACLs).
   */
  credentials?: ZooKeeperCredentials;
  logger?: Logger;
}

/** An ephemeral node this instance wants to exist while it lives. */
interface Own { readonly path: string; readonly data: string; refs: number }

/**
 * A registry on ZooKeeper in Dubbo's layout, readable by Dubbo tools:
 * providers are ephemeral nodes `/dubbo/<service>/providers/<encodeURIComponent(provider URL)>`,
 * consumers `/dubbo/<service>/consumers/<encodeURIComponent(consumer URL)>`, traffic rules
 * `/dubbo/config/dubbo/<key>.<kind>` as Dubbo's config center keeps them. See docs/registry.md (ZooKeeper).
 *
 * ```ts
 * const registry = await createZooKeeperRegistry('127.0.0.1:2181', { sessionTimeoutMs: 10_000 });
 * ```
 */
export class ZooKeeperRegistry implements Registry {
  private readonly root: string;
  private readonly cacheAfterMs: number;
  private readonly registerConsumers: boolean;
  private readonly logger: Logger;
  private readonly connection: ZooKeeperConnection;
  private readonly access: RegistryAccess;
  private started?: Promise<void>;
  private readonly providers = new Map<string, Own>();
  private readonly consumers = new Map<string, Own>();
  /** Nodes to delete once connected again (unregistered while disconnected). */
  private readonly orphans = new Set<string>();
  private readonly subscriptions = new Map<string, ProviderWatch>();
  private readonly cache: ProviderCache;
  private retryTimer?: NodeJS.Timeout;
  private closing?: Promise<void>;
  /**
   * Traffic rules: persistent nodes `<rulesPath>/<key>.<kind>` holding the YAML, where Dubbo and
   * Dubbo Admin read and write them. See docs/registry.md (Rule store).
   */
  readonly rules: ZooKeeperRuleStore;

  constructor(private readonly connectString: string, options: ZooKeeperRegistryOptions = {}) {
    this.root = (options.root ?? '/dubbo').replace(/\/+$/, '');
    this.cacheAfterMs = options.cacheAfterMs ?? 1_000;
    if (!Number.isFinite(this.cacheAfterMs) || this.cacheAfterMs < 0) {
      throw new RpcError(Code.INVALID_ARGUMENT, 'cacheAfterMs must be a number of milliseconds, 0 or more');
    }
    this.registerConsumers = options.registerConsumers ?? true;
    this.logger = options.logger ?? silentLogger;
    this.access = new RegistryAccess(options.credentials, this.root, this.logger);
    const cacheFile = options.cacheFile ?? defaultCacheFile(connectString, this.root);
    this.cache = new ProviderCache(cacheFile, options.cacheFile === undefined, this.logger);
    this.connection = new ZooKeeperConnection(connectString, options.sessionTimeoutMs ?? 30_000, options.connectTimeoutMs ?? 5_000,
      this.logger, (client) => void this.resync(client));
    this.rules = new ZooKeeperRuleStore(checkRulesPath(options.rulesPath ?? `${this.root}/config${this.root}`), this.connection, this.access, this.logger);
  }

  /** The cache file in use, `false` for none (see the `cacheFile` option). */
  get cacheFile(): string | false {
    return this.cache.file;
  }

  /**
   * Loads the ZooKeeper client, reads the cache file and starts connecting, without waiting for the
   * connection. `createZooKeeperRegistry` calls it; calling it again does nothing.
   */
  connect(): Promise<void> {
    this.started ??= this.start();
    return this.started;
  }

  private async start(): Promise<void> {
    const zk = await importOptional<ZkModule>(zkModuleName, 'the ZooKeeper registry');
    this.access.load(zk);
    await this.cache.load();
    if (!this.closing) this.connection.open(zk, (client) => this.access.authenticate(client));
  }

  /** Resolves once connected; rejects with UNAVAILABLE after `connectTimeoutMs`. */
  async ready(): Promise<void> {
    await this.connection.connected();
  }

  async register(provider: Provider): Promise<void> {
    this.assertOpen();
    const id = providerId(provider);
    const url = providerUrl(provider);
    const own: Own = { path: `${this.servicePath(provider.service.name)}/providers/${encodeURIComponent(url)}`, data: url, refs: 1 };
    const previous = this.providers.get(id);
    this.providers.set(id, own);
    this.orphans.delete(own.path);
    if (previous && previous.path !== own.path) void this.drop(previous.path);
    try {
      await this.connection.run((client) => this.ensure(client, own, () => this.providers.get(id) === own));
    } catch (error) {
      if (this.providers.get(id) === own) this.providers.delete(id);
      throw error instanceof RpcError ? error : unavailable(`cannot register ${id} in ZooKeeper: ${String(error)}`, error);
    }
  }

  async unregister(provider: Provider): Promise<void> {
    const id = providerId(provider);
    const own = this.providers.get(id);
    if (!own) return;
    this.providers.delete(id);
    await this.drop(own.path);
  }

  subscribe(service: ServiceKey, onChange: (providers: Provider[]) => void): Unsubscribe {
    this.assertOpen();
    let sub = this.subscriptions.get(service.name);
    if (!sub) {
      const path = `${this.servicePath(service.name)}/providers`;
      const created: ProviderWatch = new ProviderWatch(service.name, path,
        () => this.refresh(created).catch((error: unknown) => this.failed(error, `watching ${path}`)), this.logger);
      sub = created;
      this.subscriptions.set(service.name, sub);
      // The cache waits: a cached provider may have moved or died since, and serving it while
      // ZooKeeper is about to answer would send calls to dead addresses first.
      created.cacheTimer = setTimeout(() => this.serveCache(created), this.cacheAfterMs).unref();
      void created.watcher();
    }
    const current = sub;
    const remove = current.add(onChange);
    const consumer = this.registerConsumers ? this.addConsumer(service) : undefined;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (remove() && this.subscriptions.get(current.name) === current) {
        this.subscriptions.delete(current.name);
        current.stop();
      }
      if (consumer && --consumer.own.refs === 0 && this.consumers.get(consumer.key) === consumer.own) {
        this.consumers.delete(consumer.key);
        void this.drop(consumer.own.path);
      }
    };
  }

  /** The service nodes under the root (`/dubbo/<service>`), sorted; waits for a connection as `register` does. */
  async services(): Promise<string[]> {
    this.assertOpen();
    const children = await this.connection.run((client) => call<string[]>((cb) => client.getChildren(this.root || '/', cb)).catch((error: unknown) => {
      if (codeOf(error) === NO_NODE) return [];
      throw error;
    }));
    // The node holding the rules (`config`, as Dubbo's config center) is no service.
    const rulesNode = this.rules.folder.startsWith(`${this.root}/`) ? this.rules.folder.slice(this.root.length + 1).split('/')[0] : undefined;
    return children.map(decodeChild).filter((name) => name !== rulesNode).sort();
  }

  /**
   * The `consumer://` URLs announced for a service (`/dubbo/<service>/consumers`), sorted; none for a
   * service without that node. Waits for a connection as `register` does.
   */
  async consumersOf(service: string): Promise<string[]> {
    this.assertOpen();
    const path = `${this.servicePath(service)}/consumers`;
    const children = await this.connection.run((client) => call<string[]>((cb) => client.getChildren(path, cb)).catch((error: unknown) => {
      if (codeOf(error) === NO_NODE) return [];
      throw error;
    }));
    // The node holding the rules (`config`, as Dubbo's config center) is no service.
    const rulesNode = this.rules.folder.startsWith(`${this.root}/`) ? this.rules.folder.slice(this.root.length + 1).split('/')[0] : undefined;
    return children.map(decodeChild).filter((name) => name !== rulesNode).sort();
  }

  async close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.rules.stop();
    for (const sub of this.subscriptions.values()) sub.stop();
    this.subscriptions.clear();
    const owned = [...this.providers.values(), ...this.consumers.values()].map((own) => own.path).concat([...this.orphans]);
    this.providers.clear();
    this.consumers.clear();
    await this.connection.close(owned);
    await this.cache.flush();
  }

  /** Brings the server in line with what this instance wants: run on every (re)connection. */
  private async resync(client: ZkClient): Promise<void> {
    this.access.reconnected();
    const tasks: Promise<unknown>[] = [];
    for (const path of this.orphans) {
      tasks.push(call<void>((cb) => client.remove(path, -1, cb)).then(
        () => this.orphans.delete(path),
        (error: unknown) => (codeOf(error) === NO_NODE ? this.orphans.delete(path) : Promise.reject(error)),
      ));
    }
    for (const [id, own] of this.providers) tasks.push(this.ensure(client, own, () => this.providers.get(id) === own));
    for (const [key, own] of this.consumers) tasks.push(this.ensure(client, own, () => this.consumers.get(key) === own));
    for (const sub of this.subscriptions.values()) tasks.push(this.refresh(sub));
    tasks.push(this.rules.resync());
    for (const result of await Promise.allSettled(tasks)) {
      if (result.status === 'rejected') this.failed(result.reason, 'resynchronising with ZooKeeper');
    }
  }

  /** Logs a failure; a lost connection is repaired by the resync on reconnection, anything else by a retry. */
  private failed(error: unknown, doing: string): void {
    if (this.closing) return;
    // Trying again changes nothing until someone changes the ACL; the next connection tries anew.
    if (isRefusal(error)) {
      this.logger.warn({ err: error }, `ZooKeeper registry: failed ${doing}`);
      return;
    }
    if (lostConnection(error)) {
      this.logger.debug({ err: error }, `ZooKeeper registry: connection lost while ${doing}`);
      return;
    }
    this.logger.warn({ err: error }, `ZooKeeper registry: failed ${doing}`);
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      const live = this.connection.live;
      if (live && !this.closing) void this.resync(live);
    }, 1_000);
  }

  /** Creates an ephemeral node of this session (replacing one left by an earlier session). */
  private async ensure(client: ZkClient, own: Own, wanted: () => boolean): Promise<void> {
    await this.access.ensurePath(client, own.path.slice(0, own.path.lastIndexOf('/')));
    for (let attempt = 0; attempt < 3 && wanted(); attempt++) {
      try {
        await this.access.create(client, own.path, Buffer.from(own.data), EPHEMERAL);
        return;
      } catch (error) {
        if (codeOf(error) !== NODE_EXISTS) throw error;
      }
      const stat = await call<{ ephemeralOwner: Buffer } | null>((cb) => client.exists(own.path, cb));
      if (stat && stat.ephemeralOwner.equals(client.getSessionId())) return;
      if (stat) await call<void>((cb) => client.remove(own.path, -1, cb)).catch((error: unknown) => {
        if (codeOf(error) !== NO_NODE) throw error;
      });
    }
  }

  /** Deletes a node now if connected, else after reconnection. */
  private async drop(path: string): Promise<void> {
    const client = this.connection.live;
    this.orphans.add(path);
    if (!client) return;
    try {
      await call<void>((cb) => client.remove(path, -1, cb));
      this.orphans.delete(path);
    } catch (error) {
      if (codeOf(error) === NO_NODE) this.orphans.delete(path);
      else this.failed(error, `removing ${path}`);
    }
  }

  /** Reads the providers of a subscription and sets the watch that calls this again on the next change. */
  private async refresh(sub: ProviderWatch): Promise<void> {
    const client = this.connection.live;
    if (!client || this.subscriptions.get(sub.name) !== sub) return;
    const children = await this.access.watchChildren(client, sub.path, sub.watcher);
    if (this.subscriptions.get(sub.name) !== sub) return;
    sub.answered = true;
    clearTimeout(sub.cacheTimer);
    const known = sub.update(children.map(decodeChild));
    if (known) this.cache.save(sub.name, known);
  }

  /** Tells a subscription the cached providers, if ZooKeeper has not answered it yet. */
  private serveCache(sub: ProviderWatch): void {
    const cached = this.cache.get(sub.name);
    if (sub.answered || !cached || this.closing || this.subscriptions.get(sub.name) !== sub) return;
    this.logger.warn({ connectString: this.connectString, service: sub.name, afterMs: this.cacheAfterMs },
      'no answer from ZooKeeper yet; using the cached providers until it answers');
    sub.update(cached);
  }

  private addConsumer(service: ServiceKey): { key: string; own: Own } {
    const key = serviceId(service);
    const existing = this.consumers.get(key);
    if (existing) {
      existing.refs++;
      return { key, own: existing };
    }
    const url = consumerUrl(service);
    const own: Own = { path: `${this.servicePath(service.name)}/consumers/${encodeURIComponent(url)}`, data: url, refs: 1 };
    this.consumers.set(key, own);
    const client = this.connection.live;
    if (client) {
      this.ensure(client, own, () => this.consumers.get(key) === own)
        .catch((error: unknown) => this.failed(error, `registering consumer ${key}`));
    }
    return { key, own };
  }

  private servicePath(name: string): string {
    return `${this.root}/${name}`;
  }

  private assertOpen(): void {
    if (this.closing) throw new RpcError(Code.FAILED_PRECONDITION, 'the ZooKeeper registry is closed');
  }
}

/** A ZooKeeper path of one or more non-empty segments, without a trailing `/`. */
function checkRulesPath(path: string): string {
  if (!/^(\/[^/\0]+)+$/.test(path) || path.split('/').some((part) => part === '.' || part === '..')) {
    throw new RpcError(Code.INVALID_ARGUMENT, `invalid rulesPath ${JSON.stringify(path)}: use an absolute ZooKeeper path such as /dubbo/config/dubbo`);
  }
  return path;
}

/**
 * Connects to ZooKeeper (`host:port[,host:port…][/chroot]`). Resolves at once, without waiting for the
 * connection: a consumer started while ZooKeeper is down gets providers from the cache file. Await
 * `registry.ready()` to wait for the connection.
 */
export async function createZooKeeperRegistry(connectString: string, options: ZooKeeperRegistryOptions = {}): Promise<ZooKeeperRegistry> {
  const registry = new ZooKeeperRegistry(connectString, options);
  await registry.connect();
  return registry;
}
