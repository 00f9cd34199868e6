import { Code } from '../core/code.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { RpcError } from '../core/rpc-error.js';
import { serviceId, type ServiceKey } from '../core/service.js';
import { parseProviderUrl, providerId, providerUrl, type Provider } from './provider.js';
import type { Registry, Unsubscribe } from './registry.js';
import {
  EPHEMERAL, NODE_EXISTS, NO_NODE, call, codeOf, decodeChild, localHost, lostConnection, openSocket, withTimeout, zkModuleName,
  type ZkClient, type ZkModule, type ZkSocket,
} from './zookeeper-client.js';
import { ProviderCache, defaultCacheFile } from './zookeeper-cache.js';

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
  /** Announce each subscription as a `consumer://` node, as Dubbo consumers do. Default true. */
  registerConsumers?: boolean;
  logger?: Logger;
}


interface Listener { readonly onChange: (providers: Provider[]) => void; seen: boolean }
interface Subscription {
  readonly name: string;
  readonly path: string;
  readonly listeners: Set<Listener>;
  readonly watcher: () => void;
  providers?: Provider[];
  signature?: string;
  /** Whether ZooKeeper has answered for this subscription: from then on the cache is never served to it. */
  answered: boolean;
  /** Serves the cache if ZooKeeper has not answered in time. */
  cacheTimer?: NodeJS.Timeout;
}
/** An ephemeral node this instance wants to exist while it lives. */
interface Own { readonly path: string; readonly data: string; refs: number }

const unavailable = (message: string, cause?: unknown) => new RpcError(Code.UNAVAILABLE, message, { cause });

/**
 * A registry on ZooKeeper in Dubbo's layout, readable by Dubbo tools:
 * providers are ephemeral nodes `/dubbo/<service>/providers/<encodeURIComponent(provider URL)>`,
 * consumers `/dubbo/<service>/consumers/<encodeURIComponent(consumer URL)>`. See docs/registry.md (ZooKeeper).
 *
 * ```ts
 * const registry = await createZooKeeperRegistry('127.0.0.1:2181', { sessionTimeoutMs: 10_000 });
 * ```
 */
export class ZooKeeperRegistry implements Registry {
  private readonly root: string;
  private readonly sessionTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly cacheAfterMs: number;
  private readonly registerConsumers: boolean;
  private readonly logger: Logger;
  private zk?: ZkModule;
  private started?: Promise<void>;
  private client?: ZkClient;
  /** The client while it is connected. */
  private live?: ZkClient;
  private readonly waiters = new Set<() => void>();
  private readonly providers = new Map<string, Own>();
  private readonly consumers = new Map<string, Own>();
  /** Nodes to delete once connected again (unregistered while disconnected). */
  private readonly orphans = new Set<string>();
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly cache: ProviderCache;
  private retryTimer?: NodeJS.Timeout;
  private handshakeTimer?: NodeJS.Timeout;
  private closing?: Promise<void>;

  constructor(private readonly connectString: string, options: ZooKeeperRegistryOptions = {}) {
    this.root = (options.root ?? '/dubbo').replace(/\/+$/, '');
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.cacheAfterMs = options.cacheAfterMs ?? 1_000;
    if (!Number.isFinite(this.cacheAfterMs) || this.cacheAfterMs < 0) {
      throw new RpcError(Code.INVALID_ARGUMENT, 'cacheAfterMs must be a number of milliseconds, 0 or more');
    }
    this.registerConsumers = options.registerConsumers ?? true;
    this.logger = options.logger ?? silentLogger;
    const cacheFile = options.cacheFile ?? defaultCacheFile(connectString, this.root);
    this.cache = new ProviderCache(cacheFile, options.cacheFile === undefined, this.logger);
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
    const loaded = (await import(zkModuleName)) as { default?: ZkModule } & ZkModule;
    this.zk = loaded.default ?? loaded;
    await this.cache.load();
    if (!this.closing) this.open(this.zk);
  }

  /** Resolves once connected; rejects with UNAVAILABLE after `connectTimeoutMs`. */
  async ready(): Promise<void> {
    await this.connected(Date.now() + this.connectTimeoutMs);
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
      await this.run((client) => this.ensure(client, own, () => this.providers.get(id) === own));
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
      const created: Subscription = {
        name: service.name,
        path: `${this.servicePath(service.name)}/providers`,
        listeners: new Set(),
        watcher: () => this.refresh(created).catch((error: unknown) => this.failed(error, `watching ${created.path}`)),
        answered: false,
      };
      sub = created;
      this.subscriptions.set(service.name, sub);
      // The cache waits: a cached provider may have moved or died since, and serving it while
      // ZooKeeper is about to answer would send calls to dead addresses first.
      created.cacheTimer = setTimeout(() => this.serveCache(created), this.cacheAfterMs).unref();
      void created.watcher();
    }
    const listener: Listener = { onChange, seen: false };
    const current = sub;
    current.listeners.add(listener);
    queueMicrotask(() => {
      if (!listener.seen && current.providers && current.listeners.has(listener)) this.deliver(listener, current.providers);
    });
    const consumer = this.registerConsumers ? this.addConsumer(service) : undefined;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      current.listeners.delete(listener);
      if (current.listeners.size === 0 && this.subscriptions.get(current.name) === current) {
        this.subscriptions.delete(current.name);
        clearTimeout(current.cacheTimer);
      }
      if (consumer && --consumer.own.refs === 0 && this.consumers.get(consumer.key) === consumer.own) {
        this.consumers.delete(consumer.key);
        void this.drop(consumer.own.path);
      }
    };
  }

  async close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearTimeout(this.retryTimer);
    clearInterval(this.handshakeTimer);
    for (const sub of this.subscriptions.values()) clearTimeout(sub.cacheTimer);
    this.subscriptions.clear();
    for (const wake of this.waiters) wake();
    const owned = [...this.providers.values(), ...this.consumers.values()].map((own) => own.path).concat([...this.orphans]);
    this.providers.clear();
    this.consumers.clear();
    const client = this.client;
    const live = this.live;
    if (live) {
      const removals = owned.map((path) => call<void>((cb) => live.remove(path, -1, cb)).catch(() => {}));
      await withTimeout(Promise.all(removals), 2_000);
    }
    this.live = undefined;
    if (client) {
      // A connected client ends its session (the server deletes its nodes) and says 'disconnected';
      // one that is not connected stops retrying at its next attempt, or now if it is waiting on a
      // socket the server may never answer (see `watchHandshake`).
      const gone = live ? new Promise<void>((resolve) => client.once('disconnected', resolve)) : undefined;
      client.close();
      if (gone) await withTimeout(gone, 2_000);
      else openSocket(client)?.destroy();
    }
    await this.cache.flush();
  }

  private open(zk: ZkModule): void {
    const client = zk.createClient(this.connectString, { sessionTimeout: this.sessionTimeoutMs, spinDelay: 500, retries: 0 });
    this.client = client;
    client.on('connected', () => {
      if (this.client !== client || this.closing) return;
      this.logger.info({ connectString: this.connectString, sessionId: client.getSessionId().toString('hex') }, 'connected to ZooKeeper');
      this.live = client;
      for (const wake of this.waiters) wake();
      void this.resync(client);
    });
    client.on('disconnected', () => {
      if (this.client !== client || this.closing) return;
      this.live = undefined;
      this.logger.warn({ connectString: this.connectString }, 'disconnected from ZooKeeper; keeping known providers');
      this.watchHandshake(client);
    });
    client.on('expired', () => {
      if (this.client !== client || this.closing) return;
      this.live = undefined;
      this.logger.warn({ connectString: this.connectString }, 'ZooKeeper session expired; registering again with a new session');
      this.open(zk);
    });
    client.connect();
    this.watchHandshake(client);
  }

  /**
   * Drops a connection attempt that the server accepted but does not answer, so that the client tries
   * again. A ZooKeeper that is starting refuses a connection that comes before its data is loaded, and
   * the refusal can fail halfway (ZOOKEEPER-5051, seen on 3.8), leaving the socket open and never read;
   * node-zookeeper-client stops its connect timer once the socket is open and would wait for the
   * handshake forever. Checked every sixth of the session timeout, a socket found open and unanswered
   * twice in a row has waited at most a third of it, which leaves the next attempt time to resume the
   * session before the server expires it.
   */
  private watchHandshake(client: ZkClient): void {
    clearInterval(this.handshakeTimer);
    let suspect: ZkSocket | undefined;
    const timer = setInterval(() => {
      if (this.client !== client || this.live === client || this.closing) {
        clearInterval(timer);
        return;
      }
      const socket = openSocket(client);
      if (socket && socket === suspect) {
        this.logger.warn({ connectString: this.connectString }, 'ZooKeeper accepted a connection but does not answer; connecting again');
        socket.destroy();
        suspect = undefined;
      } else {
        suspect = socket;
      }
    }, this.sessionTimeoutMs / 6);
    // The client's own socket keeps the process alive while it waits; the watch need not.
    timer.unref();
    this.handshakeTimer = timer;
  }

  /** Brings the server in line with what this instance wants: run on every (re)connection. */
  private async resync(client: ZkClient): Promise<void> {
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
    for (const result of await Promise.allSettled(tasks)) {
      if (result.status === 'rejected') this.failed(result.reason, 'resynchronising with ZooKeeper');
    }
  }

  /** Logs a failure; a lost connection is repaired by the resync on reconnection, anything else by a retry. */
  private failed(error: unknown, doing: string): void {
    if (this.closing) return;
    if (lostConnection(error)) {
      this.logger.debug({ err: error }, `ZooKeeper registry: connection lost while ${doing}`);
      return;
    }
    this.logger.warn({ err: error }, `ZooKeeper registry: failed ${doing}`);
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.live && !this.closing) void this.resync(this.live);
    }, 1_000);
  }

  /** Creates an ephemeral node of this session (replacing one left by an earlier session). */
  private async ensure(client: ZkClient, own: Own, wanted: () => boolean): Promise<void> {
    await call((cb) => client.mkdirp(own.path.slice(0, own.path.lastIndexOf('/')), cb));
    for (let attempt = 0; attempt < 3 && wanted(); attempt++) {
      try {
        await call((cb) => client.create(own.path, Buffer.from(own.data), EPHEMERAL, cb));
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
    const client = this.live;
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
  private async refresh(sub: Subscription): Promise<void> {
    const client = this.live;
    if (!client || this.subscriptions.get(sub.name) !== sub) return;
    let children: string[];
    try {
      children = await call((cb) => client.getChildren(sub.path, sub.watcher, cb));
    } catch (error) {
      if (codeOf(error) !== NO_NODE) throw error;
      await call((cb) => client.mkdirp(sub.path, cb));
      children = await call((cb) => client.getChildren(sub.path, sub.watcher, cb));
    }
    if (this.subscriptions.get(sub.name) !== sub) return;
    sub.answered = true;
    clearTimeout(sub.cacheTimer);
    this.update(sub, children.map(decodeChild), true);
  }

  /** Tells a subscription the cached providers, if ZooKeeper has not answered it yet. */
  private serveCache(sub: Subscription): void {
    const cached = this.cache.get(sub.name);
    if (sub.answered || !cached || this.closing || this.subscriptions.get(sub.name) !== sub) return;
    this.logger.warn({ connectString: this.connectString, service: sub.name, afterMs: this.cacheAfterMs },
      'no answer from ZooKeeper yet; using the cached providers until it answers');
    this.update(sub, cached, false);
  }

  private update(sub: Subscription, urls: string[], fromServer: boolean): void {
    const byId = new Map<string, Provider>();
    for (const url of urls) {
      let provider: Provider;
      try {
        provider = parseProviderUrl(url);
      } catch {
        this.logger.debug({ url, service: sub.name }, 'skipping an entry that is not a provider URL');
        continue;
      }
      const id = providerId(provider);
      const other = byId.get(id);
      if (provider.service.name === sub.name && (!other || other.timestamp < provider.timestamp)) byId.set(id, provider);
    }
    const providers = [...byId.values()];
    const known = providers.map(providerUrl).sort();
    const signature = known.join('\n');
    if (sub.signature === signature) return;
    sub.signature = signature;
    sub.providers = providers;
    for (const listener of [...sub.listeners]) this.deliver(listener, providers);
    if (fromServer) this.cache.save(sub.name, known);
  }

  private deliver(listener: Listener, providers: Provider[]): void {
    listener.seen = true;
    try {
      listener.onChange([...providers]);
    } catch (error) {
      this.logger.error({ err: error }, 'registry subscriber threw');
    }
  }

  private addConsumer(service: ServiceKey): { key: string; own: Own } {
    const key = serviceId(service);
    const existing = this.consumers.get(key);
    if (existing) {
      existing.refs++;
      return { key, own: existing };
    }
    const query = new URLSearchParams({ category: 'consumers', side: 'consumer', interface: service.name });
    if (service.version) query.set('version', service.version);
    if (service.group) query.set('group', service.group);
    query.set('pid', String(process.pid));
    query.set('timestamp', String(Date.now()));
    const url = `consumer://${localHost()}/${service.name}?${query.toString()}`;
    const own: Own = { path: `${this.servicePath(service.name)}/consumers/${encodeURIComponent(url)}`, data: url, refs: 1 };
    this.consumers.set(key, own);
    const client = this.live;
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

  /** Waits for a connected client until `deadline`. */
  private async connected(deadline: number): Promise<ZkClient> {
    while (!this.live) {
      if (this.closing) throw unavailable('the ZooKeeper registry is closed');
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw unavailable(`no connection to ZooKeeper at ${this.connectString} within ${this.connectTimeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, remaining);
        this.waiters.add(wake);
      });
    }
    return this.live;
  }

  /** Runs an operation on a connected client, again after a lost connection, until the connect timeout. */
  private async run<T>(operation: (client: ZkClient) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.connectTimeoutMs;
    for (;;) {
      const client = await this.connected(deadline);
      try {
        return await operation(client);
      } catch (error) {
        if (!lostConnection(error) || Date.now() >= deadline) throw error;
      }
    }
  }
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
