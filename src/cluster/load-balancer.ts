import type { Invocation } from '../core/invocation.js';
import type { Channel } from '../transport/transport.js';

/** Picks the provider for one call among those that can take it. */
export interface LoadBalancer {
  select(candidates: readonly Channel[], call: Invocation): Channel;
}

/** Takes each candidate in turn. */
export function roundRobin(): LoadBalancer {
  let counter = 0;
  return {
    select(candidates) {
      const picked = candidates[counter % candidates.length]!;
      counter = (counter + 1) % 0x7fffffff;
      return picked;
    },
  };
}
