import { Code } from '../../core/code.js';
import { RpcError } from '../../core/rpc-error.js';
import type { BalancerOptions, LoadBalancer } from './balancer.js';
import { consistentHashBalancer } from './consistent-hash.js';
import { leastActiveBalancer } from './least-active.js';
import { p2cBalancer } from './p2c.js';
import { randomBalancer } from './random.js';
import { roundRobinBalancer } from './round-robin.js';

export type { BalancerOptions, Candidate, LoadBalancer } from './balancer.js';
export { effectiveWeight } from './weight.js';

/** The load-balancing policies, by the name clients choose them with. */
const factories = new Map<string, (options: BalancerOptions) => LoadBalancer>([
  ['random', randomBalancer],
  ['roundrobin', roundRobinBalancer],
  ['leastactive', leastActiveBalancer],
  ['consistenthash', consistentHashBalancer],
  ['p2c', p2cBalancer],
]);

export type BalancerName = 'random' | 'roundrobin' | 'leastactive' | 'consistenthash' | 'p2c';

/** The names `createBalancer` knows. */
export const balancerNames: readonly BalancerName[] = [...factories.keys()] as BalancerName[];

/**
 * A new balancer of the named policy. Each balancer keeps its own state (round-robin scores,
 * hash rings), so create one per client.
 *
 * ```ts
 * const balancer = createBalancer('consistenthash', { hashArguments: [0] });
 * const candidate = balancer.select(candidates, call);
 * ```
 */
export function createBalancer(name: BalancerName, options: BalancerOptions = {}): LoadBalancer {
  const factory = factories.get(name);
  if (factory === undefined) {
    throw new RpcError(
      Code.INVALID_ARGUMENT,
      `unknown load balancer ${JSON.stringify(name)}; known: ${[...factories.keys()].join(', ')}`,
    );
  }
  return factory(options);
}
