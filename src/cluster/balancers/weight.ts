import type { Provider } from '../../registry/provider.js';

/**
 * The weight a provider takes traffic with at `now`. A provider that started less than `warmupMs`
 * ago ramps up linearly, as Dubbo's warm-up does, so a cold process (JIT, caches, pools) is not
 * flooded the moment it registers; it still gets at least 1 so it warms at all. Weight 0 stays 0.
 *
 * ```ts
 * // weight 100, warm-up 60 s, started 6 s ago:
 * effectiveWeight(provider, Date.now()); // 10
 * ```
 */
export function effectiveWeight(provider: Provider, now: number): number {
  const { weight, warmupMs, timestamp } = provider;
  if (!(weight > 0)) return 0;
  if (warmupMs > 0) {
    const uptime = now - timestamp;
    // A start time in the future (clocks disagree) counts as just started.
    if (uptime < warmupMs) return Math.max(1, (weight * Math.max(0, uptime)) / warmupMs);
  }
  return weight;
}

/** The effective weights of `candidates`, in their order. */
export function effectiveWeights(candidates: readonly { readonly provider: Provider }[], now: number): number[] {
  return candidates.map((candidate) => effectiveWeight(candidate.provider, now));
}

/**
 * The index of a weighted random choice: index `i` with probability `weights[i] / sum`. Zero weights
 * are never chosen unless every weight is zero, and then the choice is uniform.
 */
export function weightedIndex(weights: readonly number[], random: () => number): number {
  let total = 0;
  let equal = true;
  for (const weight of weights) {
    total += weight;
    if (weight !== weights[0]) equal = false;
  }
  if (equal || !(total > 0)) return Math.min(weights.length - 1, Math.floor(random() * weights.length));
  let point = random() * total;
  let last = 0;
  for (let i = 0; i < weights.length; i++) {
    const weight = weights[i]!;
    if (weight <= 0) continue;
    last = i;
    point -= weight;
    if (point < 0) return i;
  }
  // Only rounding reaches this: the point fell at the very end of the range.
  return last;
}
