import type { BalancerOptions, Candidate, LoadBalancer } from './balancer.js';
import { effectiveWeights, weightedIndex } from './weight.js';

/**
 * Power of two choices: draw two distinct providers at random (by weight) and send the call to the
 * cheaper one, where cost = latency EWMA × (calls in flight + 1). A provider with no latency data
 * yet counts as the cheapest, so new providers get probed at once.
 *
 * Pick it when providers differ in speed or slow down under load: it steers away from slow ones
 * almost as well as checking every provider, yet never herds all clients onto the single best one.
 * Zero-weight providers take nothing unless every provider has weight 0.
 */
export function p2cBalancer(options: BalancerOptions = {}): LoadBalancer {
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  return {
    select(candidates) {
      if (candidates.length === 1) return candidates[0]!;
      const weights = effectiveWeights(candidates, now());
      let eligible = candidates.map((_, i) => i).filter((i) => weights[i]! > 0);
      if (eligible.length === 0) eligible = candidates.map((_, i) => i);
      if (eligible.length === 1) return candidates[eligible[0]!]!;
      const first = eligible[weightedIndex(eligible.map((i) => weights[i]!), random)]!;
      const rest = eligible.filter((i) => i !== first);
      const second = rest[weightedIndex(rest.map((i) => weights[i]!), random)]!;
      const a = candidates[first]!;
      const b = candidates[second]!;
      // On equal cost the first draw wins, which is itself a weighted random choice.
      return cost(b) < cost(a) ? b : a;
    },
  };
}

function cost(candidate: Candidate): number {
  return candidate.latencyEwmaMs > 0 ? candidate.latencyEwmaMs * (candidate.active + 1) : 0;
}
