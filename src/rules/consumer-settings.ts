// What consumer-side override rules (configurators) mean to one reference: settings for the whole
// service and per method, and adjustments of each provider entry. Pure: the caller says when to
// work them out (a rule or the provider list changed), never per call.
import type { AttemptTimeouts } from '../cluster/attempt-deadline.js';
import type { ProviderAdjuster } from '../cluster/directory.js';
import type { ServiceKey } from '../core/service.js';
import type { RuledMethodSettings, RuledSettings } from '../reference.js';
import type { Provider } from '../registry/provider.js';
import type { ConfiguratorRule } from './configurator.js';
import { overridesFor } from './configurator-match.js';
import { withEntryOverrides } from './entry-overrides.js';
import { localHostFor } from './identity.js';
import { routingOverrides, type MethodOverrides, type RoutingOverrides } from './routing-overrides.js';

/** The consumer the rules are worked out for. */
export interface RuleConsumer {
  readonly application: string;
  /** The service as the reference asks for it, which a service-scoped rule's `key` names. */
  readonly service: ServiceKey;
}

const methodKeys = ['loadBalance', 'cluster', 'retries', 'forks', 'hashArguments', 'virtualNodes', 'circuitBreaker', 'maxActivePerProvider', 'timeoutMs'] as const;

/**
 * What the consumer-side items that apply to every provider of the service set for the reference
 * (`timeout`, `retries`, `loadbalance`, ...); undefined when they set nothing. Items aimed at some
 * providers (`providerAddresses`, a `match` on provider fields) change those providers only: see
 * {@link providerAdjuster}. Throws `RuleError` when the values of several rules cannot be combined.
 */
export function referenceSettings(rules: readonly (ConfiguratorRule | undefined)[], consumer: RuleConsumer, localHost: string): RuledSettings | undefined {
  // A provider entry no item can aim at: no address, no parameters.
  const anyProvider = { host: '', port: 0, service: consumer.service, params: {} };
  const params = overridesFor(rules, { side: 'consumer', localHost, application: consumer.application, provider: anyProvider });
  return ruledSettings(routingOverrides(params));
}

/**
 * The adjustment of each provider entry for the consumer-side items that apply to it: its `weight`,
 * `disabled` and `warmup`, and its timeouts where they differ from the service's (`service`).
 * Undefined when no rule is in force. `onError` hears of values that cannot be combined (the entry
 * is then left as it is).
 */
export function providerAdjuster(rules: readonly (ConfiguratorRule | undefined)[], consumer: RuleConsumer, service: RuledSettings | undefined,
  onError: (error: unknown, provider: Provider) => void): ProviderAdjuster | undefined {
  if (rules.every((rule) => rule === undefined)) return undefined;
  const serviceTimeouts = timeoutsKey(service === undefined ? undefined : attemptTimeouts(service));
  return (provider) => {
    const params = overridesFor(rules, { side: 'consumer', localHost: localHostFor(provider.host), application: consumer.application, provider });
    if (Object.keys(params).length === 0) return undefined;
    let overrides: RoutingOverrides;
    try {
      overrides = routingOverrides(params);
    } catch (error) {
      onError(error, provider);
      return undefined;
    }
    const adjusted = withEntryOverrides(provider, overrides);
    const timeouts = attemptTimeouts(overrides);
    const ownTimeouts = timeouts !== undefined && timeoutsKey(timeouts) !== serviceTimeouts;
    if (adjusted === provider && !ownTimeouts) return undefined;
    return ownTimeouts ? { provider: adjusted, timeouts } : { provider: adjusted };
  };
}

function ruledSettings(overrides: RoutingOverrides): RuledSettings | undefined {
  const all = methodSettings(overrides);
  let methods: Record<string, RuledMethodSettings> | undefined;
  for (const [method, own] of Object.entries(overrides.methods ?? {})) {
    const settings = methodSettings(own);
    if (settings !== undefined) (methods ??= Object.create(null) as Record<string, RuledMethodSettings>)[method] = settings;
  }
  if (all === undefined && methods === undefined) return undefined;
  return methods === undefined ? { ...all } : { ...all, methods };
}

/** The settings a reference takes of a method's overrides (provider-side ones such as `executes` are not its). */
function methodSettings(overrides: MethodOverrides): RuledMethodSettings | undefined {
  let settings: Record<string, unknown> | undefined;
  for (const key of methodKeys) if (overrides[key] !== undefined) (settings ??= {})[key] = overrides[key];
  return settings as RuledMethodSettings | undefined;
}

function attemptTimeouts(settings: { timeoutMs?: number; methods?: Readonly<Record<string, { timeoutMs?: number }>> }): AttemptTimeouts | undefined {
  let methods: Map<string, number> | undefined;
  for (const [method, own] of Object.entries(settings.methods ?? {})) if (own.timeoutMs !== undefined) (methods ??= new Map()).set(method, own.timeoutMs);
  if (settings.timeoutMs === undefined && methods === undefined) return undefined;
  return { ...(settings.timeoutMs === undefined ? {} : { timeoutMs: settings.timeoutMs }), ...(methods === undefined ? {} : { methods }) };
}

function timeoutsKey(timeouts: AttemptTimeouts | undefined): string {
  if (timeouts === undefined) return '';
  return JSON.stringify([timeouts.timeoutMs ?? null, [...(timeouts.methods ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
}
