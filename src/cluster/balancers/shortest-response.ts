import type { BalancerOptions, LoadBalancer } from './balancer.js';
import { expectedCost } from './latency.js';
import { effectiveWeights, weightedIndex } from './weight.js';

/**
 * Shortest response, Dubbo's `shortestresponse`: the provider expected to answer soonest, at a cost
 * of expected latency × (calls in flight from this client + 1); ties (providers not tried yet, equal
 * costs) are broken by weighted random. Dubbo estimates latency by the mean of the last 30 s; here
 * it is a peak EWMA that also counts the age of the calls in flight (src/cluster/balancers/latency.ts),
 * so a provider that stops answering is passed over within a few milliseconds, before any of its
 * slow calls has ended, and one avoided for being slow is tried again once its estimate has decayed
 * (after some 30 s when the others answer in ~1 ms with nothing in flight; sooner under load).
 *
 * Pick it for brown-outs: one provider of several slows down (a bad disk, a noisy neighbour, a slow
 * dependency) and callers should not wait on it. It looks at every provider on every call: with
 * many clients on few providers, `p2c` (the same cost, two providers drawn at random) keeps them
 * from all choosing the same one. Zero-weight providers take nothing unless every provider has
 * weight 0.
 */
export function shortestResponseBalancer(options: BalancerOptions = {}): LoadBalancer {
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const clock = options.monotonicNow ?? (() => performance.now());
  return {
    select(candidates) {
      if (candidates.length === 1) return candidates[0]!;
      const weights = effectiveWeights(candidates, now());
      const anyWeight = weights.some((weight) => weight > 0);
      const at = clock();
      let least = Infinity;
      let tied: number[] = [];
      for (let i = 0; i < candidates.length; i++) {
        if (anyWeight && weights[i]! <= 0) continue;
        const cost = expectedCost(candidates[i]!, at);
        if (cost < least) {
          least = cost;
          tied = [i];
        } else if (cost === least) {
          tied.push(i);
        }
      }
      if (tied.length === 1) return candidates[tied[0]!]!;
      return candidates[tied[weightedIndex(tied.map((i) => weights[i]!), random)]!]!;
    },
  };
}
