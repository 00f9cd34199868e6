import type { Provider } from '../registry/provider.js';
import type { RoutingOverrides } from './routing-overrides.js';

/**
 * A provider entry with what override rules set for it: `weight`, `warmup` and `disabled`, on a
 * consumer's copy of a provider's entry or on the entry a server announces. The entry itself when
 * they change nothing, so that an unchanged entry keeps its identity.
 */
export function withEntryOverrides(provider: Provider, overrides: RoutingOverrides): Provider {
  const weight = overrides.weight ?? provider.weight;
  const warmupMs = overrides.warmupMs ?? provider.warmupMs;
  let params = provider.params;
  if (overrides.disabled !== undefined && overrides.disabled !== (params.disabled === 'true')) params = { ...params, disabled: String(overrides.disabled) };
  if (weight === provider.weight && warmupMs === provider.warmupMs && params === provider.params) return provider;
  return { ...provider, weight, warmupMs, params };
}
