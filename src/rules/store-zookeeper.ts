// The ZooKeeper registry's rule store: persistent nodes `<folder>/<key>.<kind>` holding the YAML as
// UTF-8, where Dubbo's config center keeps them, on the registry's own session.
//
// Dubbo's layout (apache/dubbo 3.3, checked against its sources):
// - ZookeeperDynamicConfiguration extends TreePathDynamicConfiguration, whose path of a key is
//   `buildPath(rootPath, group, key)`; rootPath is `/<namespace>/config` (namespace `dubbo` by
//   default, or the `dubbo.config-center.root-path` parameter), group `dubbo` by default; it writes
//   with `zkClient.createOrUpdate(pathKey, content, false)`: a persistent node, the text as data.
// - When the registry serves as config center (Dubbo's default without a config center of its
//   own), DefaultApplicationDeployer.registryAsConfigCenter sets both the namespace and the group to
//   the registry's group (its root): `/dubbo/config/dubbo` by default, `/<root>/config/<root>` else.
// - Rule keys: RegistryProtocol, RegistryDirectory and ServiceStateRouter watch
//   `DynamicConfiguration.getRuleKey(url) + ".configurators"` / `".condition-router"`, the key being
//   `interface:version:group`; application rules and TagStateRouter use `<application>.<kind>`.
//   Dubbo Admin writes the same keys and turns any `/` in them into `*` (see store-keys.ts).
import { Code } from '../core/code.js';
import type { Logger } from '../core/logger.js';
import { RpcError } from '../core/rpc-error.js';
import type { Unsubscribe } from '../registry/registry.js';
import type { RegistryAccess } from '../registry/zookeeper-acl.js';
import { NODE_EXISTS, NO_AUTH, NO_NODE, PERSISTENT, call, codeOf, lostConnection, type ZkClient } from '../registry/zookeeper-client.js';
import type { ZooKeeperConnection } from '../registry/zookeeper-connection.js';
import { checkRuleId, compareRuleIds, parseRuleNodeName, ruleBytes, ruleIdKey, ruleNodeName } from './store-keys.js';
import { RuleListeners } from './store-listeners.js';
import type { RuleId, RuleStore } from './types.js';

/** One watched rule: its node, and the watcher ZooKeeper calls on the node's next change. */
interface NodeWatch {
  readonly id: RuleId;
  readonly path: string;
  readonly watcher: () => void;
  reading: boolean;
  again: boolean;
}

/**
 * Rules as persistent ZooKeeper nodes under `folder`. Reads and writes wait for the registry's
 * connection as `register` does; watches are data watches set again after each change, and read
 * again on every (re)connection, a new session's included (the registry calls {@link resync}).
 */
export class ZooKeeperRuleStore implements RuleStore {
  readonly #listeners: RuleListeners;
  readonly #watches = new Map<string, NodeWatch>();
  #retryTimer?: NodeJS.Timeout;
  #closed = false;

  constructor(
    /** The folder of rule nodes, `/dubbo/config/dubbo` by default. */
    readonly folder: string,
    private readonly connection: ZooKeeperConnection,
    private readonly access: RegistryAccess,
    private readonly logger: Logger,
  ) {
    this.#listeners = new RuleListeners(logger, (id) => this.#watches.delete(ruleIdKey(id)));
  }

  async get(id: RuleId): Promise<string | undefined> {
    const path = this.#path(id);
    return this.#run(`read ${path}`, async (client) => {
      try {
        return text(await call<Buffer | null>((cb) => client.getData(path, cb)));
      } catch (error) {
        if (codeOf(error) === NO_NODE) return undefined;
        throw error;
      }
    });
  }

  async put(id: RuleId, document: string): Promise<void> {
    const path = this.#path(id);
    const bytes = ruleBytes(document);
    await this.#run(`write ${path}`, async (client) => {
      // Replaced if it exists; else created, with its folder, unless someone created it meanwhile.
      for (let attempt = 0; ; attempt++) {
        try {
          await call((cb) => client.setData(path, bytes, -1, cb));
          return;
        } catch (error) {
          if (codeOf(error) !== NO_NODE || attempt === 2) throw error;
        }
        await this.access.ensurePath(client, this.folder);
        try {
          await this.access.create(client, path, bytes, PERSISTENT);
          return;
        } catch (error) {
          if (codeOf(error) !== NODE_EXISTS) throw error;
        }
      }
    });
  }

  async delete(id: RuleId): Promise<void> {
    const path = this.#path(id);
    await this.#run(`remove ${path}`, (client) => call<void>((cb) => client.remove(path, -1, cb)).catch((error: unknown) => {
      if (codeOf(error) !== NO_NODE) throw error;
    }));
  }

  async list(): Promise<RuleId[]> {
    this.#assertOpen();
    const children = await this.#run(`list ${this.folder}`, (client) => call<string[]>((cb) => client.getChildren(this.folder, cb)).catch((error: unknown) => {
      if (codeOf(error) === NO_NODE) return [];
      throw error;
    }));
    // The folder also holds Dubbo's other configuration (dubbo.properties, script routers…).
    return children.map(parseRuleNodeName).filter((id): id is RuleId => id !== undefined).sort(compareRuleIds);
  }

  watch(id: RuleId, onChange: (text: string | undefined) => void): Unsubscribe {
    const path = this.#path(id);
    const { first, remove } = this.#listeners.add(id, onChange);
    if (first) {
      const watch: NodeWatch = { id: { key: id.key, kind: id.kind }, path, watcher: () => void this.#refresh(watch), reading: false, again: false };
      this.#watches.set(ruleIdKey(id), watch);
      void this.#refresh(watch);
    }
    return remove;
  }

  /** Reads every watched rule again and sets its watch on the live client: run on every (re)connection. Never rejects. */
  async resync(): Promise<void> {
    await Promise.all([...this.#watches.values()].map((watch) => this.#refresh(watch)));
  }

  /** Ends every watch; later calls fail with FAILED_PRECONDITION. The registry calls it when it closes. */
  stop(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#watches.clear();
    this.#listeners.clear();
  }

  /**
   * Reads a watched rule and sets the watch that calls this again on its next change: `exists`
   * with a watcher covers the node's creation, change and removal alike, and the read after it
   * can only be newer than what the watch starts from. One read at a time per rule, so that an
   * older answer never overwrites a newer one.
   */
  async #refresh(watch: NodeWatch): Promise<void> {
    if (watch.reading) {
      watch.again = true;
      return;
    }
    watch.reading = true;
    try {
      do {
        watch.again = false;
        const client = this.connection.live;
        // Not connected: the registry calls resync once it is.
        if (client === undefined || !this.#current(watch)) return;
        const exists = await call<unknown>((cb) => client.exists(watch.path, watch.watcher, cb));
        const read = exists === null ? undefined : await call<Buffer | null>((cb) => client.getData(watch.path, cb)).then(text, (error: unknown) => {
          // Removed between the two reads: the watch just set reports it too.
          if (codeOf(error) === NO_NODE) return undefined;
          throw error;
        });
        if (!this.#current(watch)) return;
        this.#listeners.update(watch.id, read);
      } while (watch.again);
    } catch (error) {
      this.#failed(error, watch.path);
    } finally {
      watch.reading = false;
    }
  }

  /** A lost connection is repaired by the resync on reconnection; anything else is tried again shortly. */
  #failed(error: unknown, path: string): void {
    if (this.#closed) return;
    if (lostConnection(error)) {
      this.logger.debug({ err: error, path }, 'ZooKeeper rule store: connection lost while reading a rule');
      return;
    }
    this.logger.warn({ err: zkError(error, `read ${path}`) }, 'ZooKeeper rule store: cannot read a watched rule; trying again');
    this.#retryTimer ??= setTimeout(() => {
      this.#retryTimer = undefined;
      if (!this.#closed) void this.resync();
    }, 1_000).unref();
  }

  #current(watch: NodeWatch): boolean {
    return !this.#closed && this.#watches.get(ruleIdKey(watch.id)) === watch;
  }

  async #run<T>(doing: string, operation: (client: ZkClient) => Promise<T>): Promise<T> {
    try {
      return await this.connection.run(operation);
    } catch (error) {
      throw zkError(error, doing);
    }
  }

  #path(id: RuleId): string {
    this.#assertOpen();
    checkRuleId(id);
    return `${this.folder}/${ruleNodeName(id)}`;
  }

  #assertOpen(): void {
    if (this.#closed) throw new RpcError(Code.FAILED_PRECONDITION, 'the ZooKeeper registry is closed');
  }
}

/** A node's data as text; a node created without data holds the empty document. */
function text(data: Buffer | null): string {
  return data === null ? '' : data.toString('utf8');
}

/** ZooKeeper's failures as the store reports them: refusals as PERMISSION_DENIED, the rest as UNAVAILABLE. */
function zkError(error: unknown, doing: string): RpcError {
  if (error instanceof RpcError) return error;
  if (codeOf(error) === NO_AUTH) {
    return new RpcError(Code.PERMISSION_DENIED, `ZooKeeper refused to ${doing} (NO_AUTH): give the registry credentials its ACL names (zookeeper://user:password@host:port)`, { cause: error });
  }
  return new RpcError(Code.UNAVAILABLE, `cannot ${doing} in ZooKeeper: ${String(error)}`, { cause: error });
}
