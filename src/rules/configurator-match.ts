import type { Provider } from '../registry/provider.js';
import type { ConfigItem, ConfiguratorRule } from './configurator.js';
import { hostPort, providerField, serviceKeyText } from './provider-fields.js';
import { splitHostPort } from './string-match.js';

/** Whose configuration is being worked out, and for which provider. */
export interface OverrideTarget {
  /** `consumer`: a client's view of a provider; `provider`: a server's own exported entry. */
  readonly side: 'consumer' | 'provider';
  /**
   * This process's host, which consumer-side items compare with their `addresses`. Provider-side
   * items compare theirs with the provider's own host instead, as Dubbo does.
   */
  readonly localHost: string;
  /**
   * This process's application: a consumer's on the consumer side, the provider's own on the provider
   * side. Dubbo compares `applications`, an application-scoped rule's `key` and `match.application`
   * with it (a consumer's copy of a provider entry carries the consumer's application).
   */
  readonly application?: string;
  /** The provider entry: its host and port, service key and parameters. */
  readonly provider: Pick<Provider, 'host' | 'port' | 'service' | 'params'> & Partial<Provider>;
}

const ANY_HOST = '0.0.0.0';

interface Entry {
  readonly host: string;
  readonly item: ConfigItem;
}

const orders = new WeakMap<ConfiguratorRule, readonly Entry[]>();

/**
 * The parameters the rules in effect set for `target`, later rules overriding earlier ones: the
 * application-scoped rule first, then the service-scoped one, whatever order they are given in. Within
 * a rule, as Dubbo orders its override URLs, items for every host (`0.0.0.0`) come before items for
 * named hosts, then by their `priority` parameter, so that the more specific item wins. Disabled rules
 * and items are passed over. The record has no prototype: a parameter named `__proto__` is a key.
 *
 * ```ts
 * const params = overridesFor([appRule, serviceRule], { side: 'consumer', localHost: '10.0.0.7', application: 'shop', provider });
 * const settings = routingOverrides(params); // { timeoutMs: 6000, ... }
 * ```
 */
export function overridesFor(rules: readonly (ConfiguratorRule | undefined)[], target: OverrideTarget): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  const inOrder = rules.filter((rule): rule is ConfiguratorRule => rule !== undefined);
  inOrder.sort((a, b) => scopeRank(a) - scopeRank(b));
  const providerKey = serviceKeyText(target.provider.service);
  for (const rule of inOrder) {
    for (const { host, item } of orderOf(rule)) {
      if (applies(rule, item, host, target, providerKey)) for (const [name, value] of item.parameters) out[name] = value;
    }
  }
  return out;
}

function scopeRank(rule: ConfiguratorRule): number {
  return rule.scope === 'application' ? 0 : 1;
}

/** One entry per item and address, ordered as Dubbo sorts its override URLs (stably: host, then priority). */
function orderOf(rule: ConfiguratorRule): readonly Entry[] {
  let order = orders.get(rule);
  if (order === undefined) {
    const entries = rule.configs.flatMap((item) => item.addresses.map((address) => ({ host: splitHostPort(address).host, item })));
    order = entries.sort((a, b) => (a.host === b.host ? priorityOf(a.item) - priorityOf(b.item) : a.host < b.host ? -1 : 1));
    orders.set(rule, order);
  }
  return order;
}

function priorityOf(item: ConfigItem): number {
  const value = Number(item.parameters.get('priority') ?? 0);
  return Number.isSafeInteger(value) ? value : 0;
}

function applies(rule: ConfiguratorRule, item: ConfigItem, host: string, target: OverrideTarget, providerKey: string): boolean {
  if (!item.enabled || item.side !== target.side) return false;
  const { provider } = target;
  const localHost = target.side === 'consumer' ? target.localHost : provider.host;
  if (host !== ANY_HOST && host !== localHost) return false;
  const providers = item.providerAddresses ?? (item.side === 'provider' ? item.addresses : undefined);
  if (providers !== undefined && !providers.some((address) => namesProvider(address, provider.host, provider.port))) return false;
  if (rule.scope === 'application') {
    if (rule.key !== '*' && rule.key !== target.application) return false;
    if (item.services !== undefined && !item.services.some((service) => service === '*' || service === providerKey)) return false;
  } else {
    if (rule.key !== '*' && rule.key !== providerKey) return false;
    if (item.applications !== undefined && !item.applications.some((app) => app === '*' || app === target.application)) return false;
  }
  const match = rule.configVersion === 'v3.0' ? item.match : undefined;
  if (match === undefined) return true;
  if (match.address !== undefined && !match.address(localHost)) return false;
  if (match.providerAddress !== undefined && !match.providerAddress(hostPort(provider.host, provider.port))) return false;
  if (match.service !== undefined && !match.service(providerKey)) return false;
  if (match.application !== undefined && !match.application(target.application)) return false;
  return match.param === undefined || match.param.every(({ key, test }) => test(providerField(provider, key)));
}

/** Dubbo's `providerAddresses` test: `host:port`, `host`, `0.0.0.0`, `0.0.0.0:*` or `0.0.0.0:<port>`. */
function namesProvider(address: string, host: string, port: number): boolean {
  return address === hostPort(host, port) || address === host || address === ANY_HOST || address === `${ANY_HOST}:*` || address === `${ANY_HOST}:${port}`;
}
