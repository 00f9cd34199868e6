import type { Invocation } from '../../core/invocation.js';
import type { Provider } from '../../registry/provider.js';

/** What a balancer knows of one provider when it picks. */
export interface Candidate {
  readonly provider: Provider;
  /** Calls this client has in flight to the provider now. */
  readonly active: number;
  /**
   * This client's call latency to it in ms, a peak EWMA (src/cluster/balancers/latency.ts): it rose to
   * any call slower than itself, moved a fifth of the way toward faster ones, and stands as it was
   * when the last call ended (0 = no data). `expectedLatencyMs` reads it decayed since then.
   */
  readonly latencyEwmaMs: number;
  /** When its last call ended, on the `performance.now()` clock. */
  readonly sampledAt?: number;
  /** The sum of the start times (`performance.now()`) of its calls in flight: with `active`, their mean age. */
  readonly pendingStartsMs?: number;
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
  /** Clock of call latencies and ages, the one calls are timed with; tests pass their own. Default `performance.now`. */
  monotonicNow?: () => number;
}
