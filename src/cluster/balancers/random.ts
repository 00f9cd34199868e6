import type { BalancerOptions, LoadBalancer } from './balancer.js';
import { effectiveWeights, weightedIndex } from './weight.js';

/**
 * Weighted random: each call goes to a provider with probability proportional to its (warm-up
 * adjusted) weight; zero-weight providers take nothing unless every provider has weight 0.
 *
 * Pick it as the default: it keeps no state, spreads load evenly over many calls, and handles
 * heterogeneous machines through weights. Prefer `leastactive` or `p2c` when call costs vary a lot,
 * `roundrobin` when short-run evenness matters, `consistenthash` for cache affinity.
 */
export function randomBalancer(options: BalancerOptions = {}): LoadBalancer {
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  return {
    select(candidates) {
      if (candidates.length === 1) return candidates[0]!;
      return candidates[weightedIndex(effectiveWeights(candidates, now()), random)]!;
    },
  };
}
