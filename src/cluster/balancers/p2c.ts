import type { BalancerOptions, LoadBalancer } from './balancer.js';
import { expectedCost } from './latency.js';
import { effectiveWeights, weightedIndex } from './weight.js';

/**
 * Power of two choices with a peak-EWMA cost, as Finagle's and Linkerd's balancers: draw two
 * distinct providers at random (by weight) and send the call to the cheaper one, where cost =
 * expected latency × (calls in flight + 1) (src/cluster/balancers/latency.ts: it rises at once with
 * a slow call, counts the age of calls in flight and decays while a provider is idle, so a provider
 * found slow is tried again later). A provider not tried yet counts as the cheapest while it has no
 * call in flight, so new providers get probed at once, one call at a time until they answer.
 *
 * Pick it when providers differ in speed or slow down under load: it steers away from slow ones
 * almost as well as checking every provider (`shortestresponse`), yet never herds all clients onto
 * the single best one. Zero-weight providers take nothing unless every provider has weight 0.
 */
export function p2cBalancer(options: BalancerOptions = {}): LoadBalancer {
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const clock = options.monotonicNow ?? (() => performance.now());
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
      const at = clock();
      // On equal cost the first draw wins, which is itself a weighted random choice.
      return expectedCost(b, at) < expectedCost(a, at) ? b : a;
    },
  };
}
