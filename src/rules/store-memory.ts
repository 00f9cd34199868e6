// Rule documents in this process's memory: the rule store of the test kit's `memory://` registry.
import { Code } from '../core/code.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { RpcError } from '../core/rpc-error.js';
import type { Unsubscribe } from '../registry/registry.js';
import { checkRuleId, compareRuleIds, ruleBytes, ruleIdKey } from './store-keys.js';
import { RuleListeners } from './store-listeners.js';
import type { RuleId, RuleStore } from './types.js';

/** The documents of one namespace, shared by every store opened on it, as a registry server's are. */
export class MemoryRuleDocuments {
  readonly #texts = new Map<string, { id: RuleId; text: string }>();
  readonly #readers = new Set<(id: RuleId) => void>();

  get(id: RuleId): string | undefined {
    return this.#texts.get(ruleIdKey(id))?.text;
  }

  ids(): RuleId[] {
    return [...this.#texts.values()].map(({ id }) => id);
  }

  set(id: RuleId, text: string | undefined): void {
    if (text === undefined) this.#texts.delete(ruleIdKey(id));
    else this.#texts.set(ruleIdKey(id), { id: { key: id.key, kind: id.kind }, text });
    // Never inside the put or delete that changed it, as with a store that reads a server.
    queueMicrotask(() => {
      for (const reader of [...this.#readers]) reader(id);
    });
  }

  /** Removes every document; their watchers hear that they are gone. */
  clear(): void {
    for (const id of this.ids()) this.set(id, undefined);
  }

  /** Calls `reader` with the rule that changed, after each change. */
  follow(reader: (id: RuleId) => void): Unsubscribe {
    this.#readers.add(reader);
    return () => this.#readers.delete(reader);
  }
}

/** A {@link RuleStore} over {@link MemoryRuleDocuments}; its watches end when the store is closed. */
export class MemoryRuleStore implements RuleStore {
  readonly #documents: MemoryRuleDocuments;
  readonly #listeners: RuleListeners;
  readonly #unfollow: Unsubscribe;
  #closed = false;

  constructor(documents: MemoryRuleDocuments, logger: Logger = silentLogger) {
    this.#documents = documents;
    this.#listeners = new RuleListeners(logger);
    this.#unfollow = documents.follow((id) => this.#listeners.update(id, documents.get(id)));
  }

  async get(id: RuleId): Promise<string | undefined> {
    this.#check(id);
    return this.#documents.get(id);
  }

  async put(id: RuleId, text: string): Promise<void> {
    this.#check(id);
    ruleBytes(text);
    this.#documents.set(id, text);
  }

  async delete(id: RuleId): Promise<void> {
    this.#check(id);
    if (this.#documents.get(id) !== undefined) this.#documents.set(id, undefined);
  }

  async list(): Promise<RuleId[]> {
    this.#assertOpen();
    return this.#documents.ids().sort(compareRuleIds);
  }

  watch(id: RuleId, onChange: (text: string | undefined) => void): Unsubscribe {
    this.#check(id);
    const { first, remove } = this.#listeners.add(id, onChange);
    // Read when the microtask runs, so that a put made meanwhile is what the listener hears.
    if (first) queueMicrotask(() => this.#listeners.update(id, this.#documents.get(id)));
    return remove;
  }

  /** Ends every watch; later calls fail with FAILED_PRECONDITION. */
  close(): void {
    this.#closed = true;
    this.#unfollow();
    this.#listeners.clear();
  }

  #check(id: RuleId): void {
    this.#assertOpen();
    checkRuleId(id);
  }

  #assertOpen(): void {
    if (this.#closed) throw new RpcError(Code.FAILED_PRECONDITION, 'the rule store is closed');
  }
}
