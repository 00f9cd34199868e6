// The etcd registry's rule store: keys `<folder>/<key>.<kind>` holding the YAML as UTF-8, without a
// lease (rules outlive whoever wrote them), where Dubbo's etcd config center keeps them:
// `/dubbo/config/dubbo/<key>.<kind>` by default, as in ZooKeeper (store-zookeeper.ts has the
// reasoning; the names are the same, `ruleNodeName`, so one tool can write both).
import { Code } from '../core/code.js';
import type { Logger } from '../core/logger.js';
import { RpcError } from '../core/rpc-error.js';
import type { EtcdConnection } from '../registry/etcd-connection.js';
import { EtcdRangeWatch } from '../registry/etcd-watch.js';
import type { Unsubscribe } from '../registry/registry.js';
import { checkRuleId, compareRuleIds, parseRuleNodeName, ruleBytes, ruleIdKey, ruleNodeName } from './store-keys.js';
import { RuleListeners } from './store-listeners.js';
import type { RuleId, RuleStore } from './types.js';

/**
 * Rules as etcd keys under `folder`. Reads and writes try for the registry's `dialTimeoutMs` over
 * every member; a watched rule is read again on each change etcd reports and after each
 * reconnection, and keeps its last text while etcd is out of reach.
 */
export class EtcdRuleStore implements RuleStore {
  readonly #listeners: RuleListeners;
  readonly #watches = new Map<string, EtcdRangeWatch>();
  #closed = false;

  constructor(
    /** The folder of rule keys, `/dubbo/config/dubbo` by default. */
    readonly folder: string,
    private readonly connection: EtcdConnection,
    private readonly logger: Logger,
  ) {
    this.#listeners = new RuleListeners(logger, (id) => {
      const watch = this.#watches.get(ruleIdKey(id));
      this.#watches.delete(ruleIdKey(id));
      void watch?.stop();
    });
  }

  async get(id: RuleId): Promise<string | undefined> {
    const key = this.#key(id);
    return this.connection.run(`read ${key}`, (client) => client.get(key).string().then((text) => text ?? undefined));
  }

  async put(id: RuleId, document: string): Promise<void> {
    const key = this.#key(id);
    const bytes = ruleBytes(document);
    await this.connection.run(`write ${key}`, (client) => client.put(key).value(bytes).exec());
  }

  async delete(id: RuleId): Promise<void> {
    const key = this.#key(id);
    await this.connection.run(`remove ${key}`, (client) => client.delete().key(key).exec());
  }

  async list(): Promise<RuleId[]> {
    this.#assertOpen();
    const keys = await this.connection.run(`list ${this.folder}`, (client) => client.getAll().prefix(`${this.folder}/`).keys());
    // The folder also holds Dubbo's other configuration (dubbo.properties, script routers…).
    return keys.map((key) => key.slice(this.folder.length + 1)).filter((name) => !name.includes('/'))
      .map(parseRuleNodeName).filter((id): id is RuleId => id !== undefined).sort(compareRuleIds);
  }

  watch(id: RuleId, onChange: (text: string | undefined) => void): Unsubscribe {
    const key = this.#key(id);
    const { first, remove } = this.#listeners.add(id, onChange);
    if (first) {
      const copy: RuleId = { key: id.key, kind: id.kind };
      const watch: EtcdRangeWatch = new EtcdRangeWatch(this.connection, { key }, async (client) => {
        const { header, kvs } = await client.get(key).exec();
        if (this.#watches.get(ruleIdKey(copy)) === watch && !this.#closed) this.#listeners.update(copy, kvs[0]?.value.toString('utf8'));
        return header.revision;
      }, this.logger);
      this.#watches.set(ruleIdKey(id), watch);
      watch.start();
    }
    return remove;
  }

  /** Ends every watch; later calls fail with FAILED_PRECONDITION. The registry calls it when it closes. */
  async stop(): Promise<void> {
    this.#closed = true;
    const watches = [...this.#watches.values()];
    this.#watches.clear();
    this.#listeners.clear();
    await Promise.all(watches.map((watch) => watch.stop()));
  }

  #key(id: RuleId): string {
    this.#assertOpen();
    checkRuleId(id);
    return `${this.folder}/${ruleNodeName(id)}`;
  }

  #assertOpen(): void {
    if (this.#closed) throw new RpcError(Code.FAILED_PRECONDITION, 'the etcd registry is closed');
  }
}
