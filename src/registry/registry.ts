import type { ServiceKey } from '../core/service.js';
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
  /** Unregisters what this instance registered and releases its resources. */
  close(): Promise<void>;
}
