import { errorMessage } from '../core/rpc-error.js';
import type { Provider } from '../registry/provider.js';
import type { Unsubscribe } from '../registry/registry.js';
import type { RuleStore } from '../rules/types.js';
import { ANY_ADDRESS, isTrue, parameters, targetsOf } from './configurator-actions.js';
import { readConfigs, type Config } from './configurator-edit.js';
import { consumerOverrides, type ConsumerOverrides } from './rule-parsers.js';

/** What a service's configurators do to one provider, for every consumer. */
export interface ProviderEffects {
  readonly disabled: boolean;
  /** The weight they give it, if they do. */
  readonly weight: number | undefined;
  /** Why the document could not be read as consumers read it. */
  readonly problem?: string;
}

export interface TimeoutSetting {
  readonly method?: string;
  readonly timeoutMs: number;
}

/**
 * The configurators documents of the services on show. The store is watched only to learn which
 * documents changed; a changed one is read again (with `get`) when the page next asks, so what the
 * page shows is never older than the last write, whatever order watch events arrive in.
 */
export class RuleCache {
  readonly #texts = new Map<string, string | undefined>();
  readonly #stale = new Set<string>();
  /** Counts the changes heard of per document, so that a read started before a change cannot overwrite one made after it. */
  readonly #changes = new Map<string, number>();
  readonly #watches = new Map<string, Unsubscribe>();
  #overrides?: ConsumerOverrides;

  constructor(private readonly store: RuleStore) {}

  /** Watches the configurators of `keys` from now on, and reads those that changed since the last call. */
  async refresh(keys: Iterable<string>): Promise<void> {
    this.#overrides ??= await consumerOverrides();
    for (const key of new Set(keys)) {
      if (this.#watches.has(key)) continue;
      this.changed(key);
      this.#watches.set(key, this.store.watch({ key, kind: 'configurators' }, () => this.changed(key)));
    }
    const stale = [...this.#stale];
    this.#stale.clear();
    await Promise.all(stale.map((key) => this.#read(key)));
  }

  /** Reads a document until no change was heard of during the read (three tries; else it stays stale). */
  async #read(key: string): Promise<void> {
    for (let tries = 0; tries < 3; tries++) {
      const seen = this.#changes.get(key);
      // A document the store refuses (unreadable, another user's) shows as none; the write actions report why.
      const text = await this.store.get({ key, kind: 'configurators' }).catch(() => undefined);
      if (this.#changes.get(key) !== seen) continue;
      this.#texts.set(key, text);
      this.#stale.delete(key);
      return;
    }
  }

  /** The document changed (the console wrote it, or the store says so): read it again next time. */
  changed(key: string): void {
    this.#stale.add(key);
    this.#changes.set(key, (this.#changes.get(key) ?? 0) + 1);
  }

  /**
   * What the configurators stored as `key` do to `provider` for consumers on every host: as
   * src/rules reads them when it is there, else by the console's own reading of the configs.
   */
  effectsOn(key: string, provider: Provider, hostPort: string): ProviderEffects {
    const text = this.#texts.get(key);
    if (text === undefined) return { disabled: false, weight: undefined };
    if (this.#overrides !== undefined) {
      try {
        const params = this.#overrides(text, provider);
        return { disabled: isTrue(params.disabled), weight: numberOf(params.weight) };
      } catch (error) {
        return { ...ownReading(this.#applying(key), hostPort), problem: `the configurators of ${key} do not parse, so consumers ignore them: ${errorMessage(error)}` };
      }
    }
    return ownReading(this.#applying(key), hostPort);
  }

  /** The timeouts a service's configurators set for every consumer and every provider. */
  timeouts(key: string): TimeoutSetting[] {
    const found: TimeoutSetting[] = [];
    for (const config of this.#applying(key)) {
      if (config.side !== 'consumer' || targetsOf(config).length > 0) continue;
      for (const [name, value] of Object.entries(parameters(config))) {
        const ms = Number(value);
        if (!Number.isFinite(ms)) continue;
        if (name === 'timeout') found.push({ timeoutMs: ms });
        else if (name.endsWith('.timeout')) found.push({ method: name.slice(0, -'.timeout'.length), timeoutMs: ms });
      }
    }
    return found;
  }

  close(): void {
    for (const stop of this.#watches.values()) stop();
    this.#watches.clear();
  }

  #applying(key: string): Config[] {
    const { configs, enabled } = readConfigs(this.#texts.get(key));
    return enabled ? configs.filter((config) => config.enabled !== false) : [];
  }
}

/** Consumer-side configs for every consumer host, naming the provider or every provider; the last wins. */
function ownReading(configs: Config[], hostPort: string): ProviderEffects {
  let disabled = false;
  let weight: number | undefined;
  for (const config of configs) {
    const hosts = Array.isArray(config.addresses) ? config.addresses.map(String) : [];
    if (config.side !== 'consumer' || (hosts.length > 0 && !hosts.includes(ANY_ADDRESS))) continue;
    const targets = targetsOf(config);
    if (targets.length > 0 && !targets.includes(hostPort) && !targets.includes(ANY_ADDRESS)) continue;
    const params = parameters(config);
    if (params.disabled !== undefined) disabled = isTrue(params.disabled);
    weight = numberOf(params.weight) ?? weight;
  }
  return { disabled, weight };
}

function numberOf(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}
