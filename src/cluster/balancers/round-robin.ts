import { providerId } from '../../registry/provider.js';
import type { BalancerOptions, LoadBalancer } from './balancer.js';
import { effectiveWeights } from './weight.js';

/**
 * Smooth weighted round-robin, nginx's algorithm: every pick, each provider's running score grows by
 * its weight, the highest score wins and gives back the total. Over any window of `sum(weights)`
 * calls each provider gets exactly its share, and the picks are interleaved (5,1,1 gives
 * `a a b a c a a`) instead of bursts.
 *
 * Pick it when providers should see a steady, predictable share in the short run (few calls,
 * stateful backends, tests of capacity). Scores are kept per provider id, per service, so they
 * survive changes of the candidate list; a provider that leaves the list (or drops to weight 0)
 * is forgotten and starts again from zero when it comes back.
 */
export function roundRobinBalancer(options: BalancerOptions = {}): LoadBalancer {
  const now = options.now ?? Date.now;
  // service id → provider id → running score
  const scores = new Map<string, Map<string, number>>();
  return {
    select(candidates, call) {
      let table = scores.get(call.service.id);
      if (table === undefined) {
        table = new Map();
        scores.set(call.service.id, table);
      }
      let weights = effectiveWeights(candidates, now());
      if (!weights.some((weight) => weight > 0)) weights = weights.map(() => 1);
      const ids = candidates.map((candidate) => providerId(candidate.provider));
      const counted: string[] = [];
      let total = 0;
      let best = -1;
      let bestScore = -Infinity;
      for (let i = 0; i < candidates.length; i++) {
        const weight = weights[i]!;
        if (weight <= 0) continue;
        const score = (table.get(ids[i]!) ?? 0) + weight;
        table.set(ids[i]!, score);
        counted.push(ids[i]!);
        total += weight;
        if (score > bestScore) {
          bestScore = score;
          best = i;
        }
      }
      table.set(ids[best]!, bestScore - total);
      if (table.size > counted.length) forgetAbsent(table, counted);
      return candidates[best]!;
    },
  };
}

function forgetAbsent(table: Map<string, number>, ids: readonly string[]): void {
  const present = new Set(ids);
  for (const id of table.keys()) if (!present.has(id)) table.delete(id);
}
