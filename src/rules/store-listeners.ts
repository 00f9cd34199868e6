// The watchers of a rule store's documents and what each was last told: the part of `watch` every
// store shares. A store tells it what it read; this decides who hears of it.
import type { Logger } from '../core/logger.js';
import { ruleIdKey } from './store-keys.js';
import type { RuleId } from './types.js';

interface Listener {
  readonly onChange: (text: string | undefined) => void;
  /** Whether it was told anything yet; `last` is what, when it was. */
  told: boolean;
  last: string | undefined;
}

interface Watched {
  readonly id: RuleId;
  readonly listeners: Set<Listener>;
  /** Whether the store has read the document since it began watching it. */
  known: boolean;
  text: string | undefined;
}

/**
 * The listeners of each watched rule. A listener hears the document once known (soon after it
 * subscribed, never inside `add`), then each time the text differs from what it heard last.
 */
export class RuleListeners {
  readonly #watched = new Map<string, Watched>();

  /**
   * @param onIdle told when the last listener of a rule left, so the store can stop watching it.
   */
  constructor(private readonly logger: Logger, private readonly onIdle: (id: RuleId) => void = () => {}) {}

  /** The rules someone watches. */
  ids(): RuleId[] {
    return [...this.#watched.values()].map((watched) => watched.id);
  }

  has(id: RuleId): boolean {
    return this.#watched.has(ruleIdKey(id));
  }

  /**
   * Adds a listener. `first` says whether it is the rule's first one, for the store to start
   * reading it. Returns its removal, which does nothing the second time.
   */
  add(id: RuleId, onChange: (text: string | undefined) => void): { first: boolean; remove: () => void } {
    const key = ruleIdKey(id);
    let watched = this.#watched.get(key);
    const first = watched === undefined;
    if (watched === undefined) this.#watched.set(key, (watched = { id: { key: id.key, kind: id.kind }, listeners: new Set(), known: false, text: undefined }));
    const listener: Listener = { onChange, told: false, last: undefined };
    const current = watched;
    current.listeners.add(listener);
    queueMicrotask(() => {
      if (current.known && !listener.told && current.listeners.has(listener)) this.#tell(current, listener);
    });
    const remove = () => {
      if (!current.listeners.delete(listener) || current.listeners.size > 0) return;
      if (this.#watched.get(key) === current) this.#watched.delete(key);
      this.onIdle(current.id);
    };
    return { first, remove };
  }

  /** What the store read of a rule now: listeners that last heard something else hear it. */
  update(id: RuleId, text: string | undefined): void {
    const watched = this.#watched.get(ruleIdKey(id));
    if (watched === undefined) return;
    watched.known = true;
    watched.text = text;
    for (const listener of [...watched.listeners]) {
      if (watched.listeners.has(listener) && (!listener.told || listener.last !== text)) this.#tell(watched, listener);
    }
  }

  /** Forgets every listener (the store is closing); none is told anything again. */
  clear(): void {
    for (const watched of this.#watched.values()) watched.listeners.clear();
    this.#watched.clear();
  }

  #tell(watched: Watched, listener: Listener): void {
    listener.told = true;
    listener.last = watched.text;
    try {
      listener.onChange(watched.text);
    } catch (error) {
      this.logger.error({ err: error, key: watched.id.key, kind: watched.id.kind }, 'rule watcher threw');
    }
  }
}
