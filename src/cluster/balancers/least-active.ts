import type { BalancerOptions, LoadBalancer } from './balancer.js';
import { effectiveWeights, weightedIndex } from './weight.js';

/**
 * Least active: the provider with the fewest calls in flight from this client; ties are broken by
 * weighted random among the tied. A slow or overloaded provider keeps calls longer, so it is
 * picked less, without any latency measurement.
 *
 * Pick it when call durations vary widely or providers differ in speed and you want load to follow
 * capacity. Zero-weight providers take nothing unless every provider has weight 0.
 */
export function leastActiveBalancer(options: BalancerOptions = {}): LoadBalancer {
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  return {
    select(candidates) {
      if (candidates.length === 1) return candidates[0]!;
      const weights = effectiveWeights(candidates, now());
      const anyWeight = weights.some((weight) => weight > 0);
      let least = Infinity;
      let tied: number[] = [];
      for (let i = 0; i < candidates.length; i++) {
        if (anyWeight && weights[i]! <= 0) continue;
        const active = candidates[i]!.active;
        if (active < least) {
          least = active;
          tied = [i];
        } else if (active === least) {
          tied.push(i);
        }
      }
      if (tied.length === 1) return candidates[tied[0]!]!;
      const pick = weightedIndex(tied.map((i) => weights[i]!), random);
      return candidates[tied[pick]!]!;
    },
  };
}
