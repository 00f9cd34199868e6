import { createHash } from 'node:crypto';
import { providerId } from '../../registry/provider.js';
import type { BalancerOptions, Candidate, LoadBalancer } from './balancer.js';
import { stableKey } from '../../core/stable-key.js';

/**
 * Consistent hashing on a ketama ring: calls whose key arguments are equal go to the same provider,
 * and when a provider leaves only its own keys move (to the next points on the ring); when one joins
 * it takes about 1/n of the keys, each from whichever provider held it. Weights are not used, except
 * that weight-0 providers take nothing unless every provider has weight 0.
 *
 * Pick it for affinity: providers that cache per key (user, tenant, document), or that must see one
 * key's calls in order. Load is only as even as the keys are.
 *
 * ```ts
 * createBalancer('consistenthash', { hashArguments: [0, 1], virtualNodes: 160 });
 * ```
 */
export function consistentHashBalancer(options: BalancerOptions = {}): LoadBalancer {
  const hashArguments = options.hashArguments ?? [0];
  const wanted = Math.floor(options.virtualNodes ?? 160);
  const virtualNodes = Number.isFinite(wanted) && wanted >= 1 ? wanted : 160;
  // service id → the ring of the last candidate set seen for it
  const rings = new Map<string, Ring>();
  return {
    select(candidates, call) {
      if (candidates.length === 1) return candidates[0]!;
      const members = onRing(candidates);
      if (members.length === 1) return members[0]!;
      const ids = members.map((candidate) => providerId(candidate.provider));
      const joined = ids.join('\n');
      let ring = rings.get(call.service.id);
      if (ring === undefined || ring.joined !== joined) {
        ring = buildRing(ids, joined, virtualNodes);
        rings.set(call.service.id, ring);
      }
      // Arguments without a key (a function, a cycle) all go to one place on the ring.
      const key = stableKey(hashArguments.map((index) => call.args[index])) ?? '';
      return members[ring.owners[search(ring.points, hash32(key))]!]!;
    },
  };
}

interface Ring {
  /** The ids the ring was built for, in candidate order, joined by newlines. */
  readonly joined: string;
  /** Sorted positions on the ring. */
  readonly points: Uint32Array;
  /** For each point, the index (in candidate order) of the provider that owns it. */
  readonly owners: Uint32Array;
}

function onRing<C extends Candidate>(candidates: readonly C[]): readonly C[] {
  const weighted = candidates.filter((candidate) => candidate.provider.weight > 0);
  return weighted.length > 0 ? weighted : candidates;
}

function buildRing(ids: readonly string[], joined: string, virtualNodes: number): Ring {
  const entries: { point: number; owner: number }[] = [];
  for (let owner = 0; owner < ids.length; owner++) {
    // Like ketama: each md5 digest of `id#n` gives four points, from its four 32-bit words.
    for (let n = 0; n * 4 < virtualNodes; n++) {
      const digest = createHash('md5').update(`${ids[owner]}#${n}`).digest();
      for (let word = 0; word < 4 && n * 4 + word < virtualNodes; word++) {
        entries.push({ point: digest.readUInt32LE(word * 4), owner });
      }
    }
  }
  // Equal points go to the smaller id, so the ring does not depend on the candidates' order.
  entries.sort((x, y) => x.point - y.point || compare(ids[x.owner]!, ids[y.owner]!));
  return {
    joined,
    points: Uint32Array.from(entries, (entry) => entry.point),
    owners: Uint32Array.from(entries, (entry) => entry.owner),
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The index of the first point at or after `hash`, wrapping to 0 past the end. */
function search(points: Uint32Array, hash: number): number {
  let low = 0;
  let high = points.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (points[mid]! < hash) low = mid + 1;
    else high = mid;
  }
  return low === points.length ? 0 : low;
}

function hash32(key: string): number {
  return createHash('md5').update(key).digest().readUInt32LE(0);
}
