// The traffic rules a server follows while it runs, as a Dubbo provider does: provider-side override
// items that match its own entries change what it announces (`weight`, `disabled`, `warmup`: the
// entry is registered again, as Dubbo's RegistryProtocol re-exports it) and how it runs calls
// (`timeout`, `executes`, `tps`).
import type { Handler, Interceptor } from '../core/invocation.js';
import type { Logger } from '../core/logger.js';
import { errorMessage } from '../core/rpc-error.js';
import type { ServiceDefinition } from '../core/service.js';
import { providerId, providerUrl, type Provider } from '../registry/provider.js';
import { overridesFor } from './configurator-match.js';
import { withEntryOverrides } from './entry-overrides.js';
import { serviceCallLimits, type ServiceCallLimits } from './provider-limits.js';
import { routingOverrides, type RoutingOverrides } from './routing-overrides.js';
import { WatchedRules } from './rule-watch.js';
import { serviceRuleKey } from './store-keys.js';
import type { RuleStore } from './types.js';

export interface ProviderRulesOptions {
  readonly application: string;
  readonly logger: Logger;
  /** How long `settled()` waits at most for the rules to be read. */
  readonly settleMs: number;
  /** Registers again entries whose announced form the rules changed. */
  readonly reannounce: (providers: Provider[]) => void;
}

interface ServiceState {
  readonly definition: ServiceDefinition;
  /** The limits in force on its calls; undefined for none. */
  limits: ServiceCallLimits | undefined;
}

/**
 * Watches `<service key>.configurators` for each service a server provides and
 * `<application>.configurators`, and applies the provider-side items that match the server's own
 * entries (their host and port). Inert until `attach` gives it the registry's rule store.
 */
export class ProviderRules {
  private rules: WatchedRules | undefined;
  private readonly services = new Map<string, ServiceState>();
  /** The entries as the server makes them, by provider id; and the form last announced. */
  private readonly entries = new Map<string, Provider>();
  private readonly announced = new Map<string, string>();
  private waiters: Array<() => void> = [];
  private closed = false;

  constructor(private readonly options: ProviderRulesOptions) {}

  /** Starts following the rules of `store`. */
  attach(store: RuleStore): void {
    if (this.closed || this.rules !== undefined) return;
    this.rules = new WatchedRules(store, this.options.logger, () => this.refresh());
    this.rules.watch({ key: this.options.application, kind: 'configurators' });
    for (const { definition } of this.services.values()) this.rules.watch({ key: serviceRuleKey(definition.key), kind: 'configurators' }, definition.key);
  }

  /**
   * The interceptor through which `definition`'s calls pass the limits of the rules in force. Without
   * any it adds one field read to a call.
   */
  interceptor(definition: ServiceDefinition): Interceptor {
    const state: ServiceState = { definition, limits: undefined };
    this.services.set(definition.id, state);
    this.rules?.watch({ key: serviceRuleKey(definition.key), kind: 'configurators' }, definition.key);
    return (next) => {
      let builtFor: ServiceCallLimits | undefined;
      let limited: Handler = next;
      return (call) => {
        const limits = state.limits;
        if (limits === undefined) return next(call);
        if (limits !== builtFor) {
          builtFor = limits;
          limited = limits.wrap(next, call.method);
        }
        return limited(call);
      };
    };
  }

  /**
   * Resolves once every rule the server follows has been read (or after `settleMs`), so that the
   * first announcement already carries what the rules say.
   */
  settled(): Promise<void> {
    if (this.closed || (this.rules !== undefined && this.rules.allKnown())) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, this.options.settleMs).unref();
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The entries to announce, with what the rules set; they are remembered, to announce again when a rule changes. */
  adjust(providers: readonly Provider[]): Provider[] {
    const adjusted = providers.map((provider) => {
      const id = providerId(provider);
      this.entries.set(id, provider);
      const entry = this.entryFor(provider);
      this.announced.set(id, providerUrl(entry));
      return entry;
    });
    this.refreshLimits();
    return adjusted;
  }

  /** The entries as the rules in force want them announced now. */
  current(): Provider[] {
    return [...this.entries.values()].map((provider) => this.entryFor(provider));
  }

  close(): void {
    this.closed = true;
    this.rules?.close();
    this.wake();
  }

  private refresh(): void {
    if (this.closed) return;
    const changed: Provider[] = [];
    for (const [id, provider] of this.entries) {
      const entry = this.entryFor(provider);
      const url = providerUrl(entry);
      if (this.announced.get(id) === url) continue;
      this.announced.set(id, url);
      changed.push(entry);
    }
    if (changed.length > 0) this.options.reannounce(changed);
    this.refreshLimits();
    if (this.rules?.allKnown()) this.wake();
  }

  /** Each service's call limits, from its first entry (its first listener's). */
  private refreshLimits(): void {
    for (const state of this.services.values()) {
      const entry = [...this.entries.values()].find((provider) => provider.service.name === state.definition.key.name
        && (provider.service.version ?? '') === (state.definition.key.version ?? '') && (provider.service.group ?? '') === (state.definition.key.group ?? ''));
      const overrides = entry === undefined ? undefined : this.overridesOf(entry);
      const limits = overrides === undefined ? undefined : serviceCallLimits(state.definition, overrides);
      if (limits?.key !== state.limits?.key) state.limits = limits;
    }
  }

  private entryFor(provider: Provider): Provider {
    const overrides = this.overridesOf(provider);
    return overrides === undefined ? provider : withEntryOverrides(provider, overrides);
  }

  /** What the provider-side items in force set for one of the server's entries. */
  private overridesOf(provider: Provider): RoutingOverrides | undefined {
    const rules = this.rules;
    if (rules === undefined) return undefined;
    const configurators = [rules.get({ key: this.options.application, kind: 'configurators' }), rules.get({ key: serviceRuleKey(provider.service), kind: 'configurators' })];
    if (configurators.every((rule) => rule === undefined)) return undefined;
    const params = overridesFor(configurators, { side: 'provider', localHost: provider.host, application: this.options.application, provider });
    try {
      return routingOverrides(params);
    } catch (error) {
      this.options.logger.warn({ provider: provider.address, message: errorMessage(error) }, 'override rules cannot be combined for this provider; they are not applied');
      return undefined;
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
