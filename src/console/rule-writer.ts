import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { serviceId, type ServiceKey } from '../core/service.js';
import { serviceRuleKey } from '../rules/store-keys.js';
import type { RuleId, RuleKind, RuleStore } from '../rules/types.js';
import { disableEdit, timeoutEdit, weightEdit } from './configurator-actions.js';
import { editConfigurators, type ConfigEdit } from './configurator-edit.js';
import { checkRule } from './rule-check.js';

/** An action of the console on a provider (`address` is its `host:port`) or a service. */
export type ProviderAction =
  | { readonly action: 'disable' | 'enable'; readonly service: ServiceKey; readonly address: string }
  | { readonly action: 'weight'; readonly service: ServiceKey; readonly address: string; readonly weight?: number }
  | { readonly action: 'timeout'; readonly service: ServiceKey; readonly method?: string; readonly timeoutMs?: number };

/** What a write did: the document it wrote (undefined: removed it), and anything the operator should know. */
export interface WriteResult {
  readonly id: RuleId;
  readonly text: string | undefined;
  readonly warnings: string[];
}

/**
 * Every change the console makes, made as rule documents in the registry's rule store and nothing
 * else. Writes to one document are made one at a time, so that two actions of this console never
 * lose each other's change (another console writing the same document at the same moment can: the
 * store has no compare-and-set; the last write wins).
 */
export class RuleWriter {
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(private readonly store: RuleStore) {}

  /** Applies an action to its service's configurators document. */
  apply(action: ProviderAction): Promise<WriteResult> {
    const id: RuleId = { key: serviceRuleKey(action.service), kind: 'configurators' };
    return this.#serial(id, async () => {
      const before = await this.store.get(id);
      const edited = editConfigurators(before, id.key, serviceId(action.service), editOf(action));
      const warnings: string[] = [];
      if (edited.documentDisabled) warnings.push(`the configurators of ${id.key} say "enabled: false": none of their configs applies until that is changed`);
      if (edited.text === undefined) {
        if (before !== undefined) await this.store.delete(id);
      } else {
        const check = await checkRule('configurators', edited.text);
        if (!check.ok) throw new RpcError(Code.FAILED_PRECONDITION, `the configurators of ${id.key} would not be valid: ${check.message}`);
        await this.store.put(id, edited.text);
      }
      return { id, text: edited.text, warnings };
    });
  }

  /** Writes a rule document given whole (a condition or tag router), once it is checked. */
  put(id: RuleId, text: string): Promise<WriteResult> {
    return this.#serial(id, async () => {
      const check = await checkRule(id.kind, text);
      if (!check.ok) throw new RpcError(Code.INVALID_ARGUMENT, `not a valid ${id.kind} rule: ${check.message}`, { details: { checkedBy: check.checkedBy } });
      await this.store.put(id, text);
      return { id, text, warnings: [] };
    });
  }

  delete(id: RuleId): Promise<WriteResult> {
    return this.#serial(id, async () => {
      await this.store.delete(id);
      return { id, text: undefined, warnings: [] };
    });
  }

  #serial<T>(id: { key: string; kind: RuleKind }, task: () => Promise<T>): Promise<T> {
    const name = `${id.key}\0${id.kind}`;
    const run = (this.#queues.get(name) ?? Promise.resolve()).then(task);
    const settled = run.catch(() => undefined);
    this.#queues.set(name, settled);
    void settled.then(() => {
      if (this.#queues.get(name) === settled) this.#queues.delete(name);
    });
    return run;
  }
}

function editOf(action: ProviderAction): ConfigEdit {
  switch (action.action) {
    case 'disable':
    case 'enable':
      return disableEdit(action.address, action.action === 'disable');
    case 'weight':
      return weightEdit(action.address, action.weight);
    case 'timeout':
      return timeoutEdit(action.method, action.timeoutMs);
  }
}
