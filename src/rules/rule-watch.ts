// The rule documents one consumer reference or one server follows: watched in the registry's store,
// read as they change, a malformed one logged and passed over so that the rule before it stays in
// force (docs/rules.md, "What happens to a malformed rule").
import type { Logger } from '../core/logger.js';
import { errorMessage } from '../core/rpc-error.js';
import type { ServiceKey } from '../core/service.js';
import type { Unsubscribe } from '../registry/registry.js';
import { parseConditionRouter, type ConditionRouterRule } from './condition-router.js';
import { parseConfigurator, type ConfiguratorRule } from './configurator.js';
import { serviceKeyText } from './provider-fields.js';
import { RuleError } from './rule-error.js';
import { ruleIdKey } from './store-keys.js';
import { parseTagRouter, type TagRouterRule } from './tag-router.js';
import type { RuleId, RuleKind, RuleStore } from './types.js';

/** What a document of each kind reads as. */
export interface RuleOfKind {
  configurators: ConfiguratorRule;
  'condition-router': ConditionRouterRule;
  'tag-router': TagRouterRule;
}

const parsers: { [K in RuleKind]: (text: string) => RuleOfKind[K] } = {
  configurators: parseConfigurator,
  'condition-router': parseConditionRouter,
  'tag-router': parseTagRouter,
};

interface Watched {
  readonly id: RuleId;
  /** The service whose node this is, for a service's rules. */
  readonly service: ServiceKey | undefined;
  /** The rule in force: the last document that read well, undefined while there is none. */
  rule: RuleOfKind[RuleKind] | undefined;
  /** Whether the store has said anything of it yet (a missing document counts). */
  known: boolean;
  stop: Unsubscribe;
}

/**
 * A set of watched rule documents. `onChange` runs (never inside `watch`) when a rule in force
 * changes or is first known, so its owner recomputes what it derives from `get`.
 */
export class WatchedRules {
  readonly #watched = new Map<string, Watched>();
  #closed = false;

  constructor(
    private readonly store: RuleStore,
    private readonly logger: Logger,
    private readonly onChange: () => void,
  ) {}

  /**
   * Starts watching `id` (nothing happens if it is watched already). `service` names the service
   * whose rules the document holds (its key is the service's `name:version:group`), so that a
   * configurator whose own `key` names another service can be reported.
   */
  watch(id: RuleId, service?: ServiceKey): void {
    const key = ruleIdKey(id);
    if (this.#closed || this.#watched.has(key)) return;
    const watched: Watched = { id, service, rule: undefined, known: false, stop: () => {} };
    this.#watched.set(key, watched);
    try {
      watched.stop = this.store.watch(id, (text) => this.#read(watched, text));
    } catch (error) {
      // A closed registry, or a key no store takes: nothing to follow, and nothing to wait for.
      watched.known = true;
      this.logger.warn({ key: id.key, kind: id.kind, message: errorMessage(error) }, 'cannot watch rule');
    }
  }

  /** Stops watching `id`; its rule is no longer in force. */
  unwatch(id: RuleId): void {
    const watched = this.#watched.get(ruleIdKey(id));
    if (watched === undefined) return;
    this.#watched.delete(ruleIdKey(id));
    watched.stop();
  }

  /** The rule in force for `id`, or undefined. */
  get<K extends RuleKind>(id: { key: string; kind: K }): RuleOfKind[K] | undefined {
    return this.#watched.get(ruleIdKey(id))?.rule as RuleOfKind[K] | undefined;
  }

  /** The watched documents of `kind`. */
  ids(kind: RuleKind): RuleId[] {
    return [...this.#watched.values()].filter((watched) => watched.id.kind === kind).map((watched) => watched.id);
  }

  /** Whether the store has reported on every watched document at least once. */
  allKnown(): boolean {
    for (const watched of this.#watched.values()) if (!watched.known) return false;
    return true;
  }

  close(): void {
    this.#closed = true;
    for (const watched of this.#watched.values()) watched.stop();
    this.#watched.clear();
  }

  /**
   * A service-scoped configurator applies where its `key` (`[group/]name[:version]`) names the
   * provider's service; one stored under a service's node whose key names another changes nothing
   * there, which an operator will want to know.
   */
  #checkServiceKey(watched: Watched): void {
    const rule = watched.rule;
    if (watched.service === undefined || rule?.kind !== 'configurators' || rule.scope !== 'service' || rule.key === '*') return;
    const expected = serviceKeyText(watched.service);
    if (rule.key === expected) return;
    this.logger.warn({ key: watched.id.key, kind: watched.id.kind, ruleKey: rule.key, expected },
      `the rule's key names ${rule.key}, not ${expected}, the service it is stored for: it changes nothing for ${expected}`);
  }

  #read(watched: Watched, text: string | undefined): void {
    if (this.#closed || this.#watched.get(ruleIdKey(watched.id)) !== watched) return;
    const { key, kind } = watched.id;
    const firstReport = !watched.known;
    watched.known = true;
    if (text === undefined) {
      const had = watched.rule !== undefined;
      watched.rule = undefined;
      if (had) this.logger.info({ key, kind }, 'rule removed');
      if (had || firstReport) this.onChange();
      return;
    }
    try {
      watched.rule = parsers[kind](text);
    } catch (error) {
      const place = error instanceof RuleError ? { path: error.path, line: error.line, column: error.column } : {};
      this.logger.warn({ key, kind, message: errorMessage(error), ...place },
        watched.rule === undefined ? 'malformed rule ignored' : 'malformed rule ignored; the previous one stays in force');
      if (firstReport) this.onChange();
      return;
    }
    this.logger.info({ key, kind }, 'rule in force');
    this.#checkServiceKey(watched);
    this.onChange();
  }
}
