import type { Invocation } from '../../core/invocation.js';
import type { Provider } from '../../registry/provider.js';

/** What a balancer knows of one provider when it picks. */
export interface Candidate {
  readonly provider: Provider;
  /** Calls this client has in flight to the provider now. */
  readonly active: number;
  /** Exponentially weighted moving average of this client's call latency to it, in ms (0 = no data). */
  readonly latencyEwmaMs: number;
}

/** Picks the provider for one call. `candidates` is never empty. */
export interface LoadBalancer {
  select<C extends Candidate>(candidates: readonly C[], call: Invocation): C;
}

export interface BalancerOptions {
  /** consistenthash: indexes of the arguments the key is made of. Default `[0]`. */
  hashArguments?: number[];
  /** consistenthash: points on the ring per provider. Default 160. */
  virtualNodes?: number;
  /** Clock for warm-up; tests pass their own. Default `Date.now`. */
  now?: () => number;
  /** Random source in [0, 1); tests pass a seeded one. Default `Math.random`. */
  random?: () => number;
}
