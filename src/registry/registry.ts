import type { ServiceKey } from '../core/service.js';
import type { RuleStore } from '../rules/types.js';
import type { Provider } from './provider.js';

export type Unsubscribe = () => void;

/**
 * Where providers announce themselves and consumers find them. Implementations: `embedded` (one
 * machine, no server) and `zookeeper`.
 */
export interface Registry {
  /** Announces a provider until `unregister`, `close`, or the death of this process. */
  register(provider: Provider): Promise<void>;
  unregister(provider: Provider): Promise<void>;
  /**
   * Calls `onChange` with the full current list of providers of the service *name* (every version
   * and group: routing picks among them), at once when known and again on every change.
   */
  subscribe(service: ServiceKey, onChange: (providers: Provider[]) => void): Unsubscribe;
  /**
   * The names of the services the registry holds entries for, sorted; a name may have no live
   * provider left. Optional: tools that browse a registry (`switchyard ls`) use it.
   */
  services?(): Promise<string[]>;
  /**
   * Where the registry keeps traffic rules (Dubbo's configurators, condition and tag routers) as
   * YAML documents, for every consumer and provider to follow while running. Optional: a registry
   * without it has no rules. ZooKeeper keeps them where Dubbo's config center does
   * (`/dubbo/config/dubbo/<key>.<kind>`, which Dubbo Admin reads and writes), the embedded registry
   * in its folder's `rules/`. See docs/registry.md (Rule store).
   */
  readonly rules?: RuleStore;
  /**
   * The consumers a registry records for a service, as URLs (`consumer://host/name?…`), sorted.
   * Optional: ZooKeeper records them (Dubbo's `consumers` nodes); the embedded registry does not.
   */
  consumersOf?(service: string): Promise<string[]>;
  /** Unregisters what this instance registered and releases its resources. */
  close(): Promise<void>;
}
