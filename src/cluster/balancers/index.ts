import { Code } from '../../core/code.js';
import { ExtensionTable } from '../../core/extension-table.js';
import { RpcError } from '../../core/rpc-error.js';
import type { BalancerOptions, LoadBalancer } from './balancer.js';
import { consistentHashBalancer } from './consistent-hash.js';
import { leastActiveBalancer } from './least-active.js';
import { p2cBalancer } from './p2c.js';
import { randomBalancer } from './random.js';
import { roundRobinBalancer } from './round-robin.js';
import { shortestResponseBalancer } from './shortest-response.js';

export type { BalancerOptions, Candidate, LoadBalancer } from './balancer.js';
export { effectiveWeight } from './weight.js';

/**
 * Makes a balancer for one method of one client reference: each keeps its own state (round-robin
 * scores, hash rings), so a factory returns a new one every time.
 */
export type BalancerFactory = (options: BalancerOptions) => LoadBalancer;

/** The load-balancing policies, by the name clients choose them with. */
const factories = new ExtensionTable<BalancerFactory>('load balancer', 'name', (value): value is BalancerFactory => typeof value === 'function', [
  ['random', randomBalancer],
  ['roundrobin', roundRobinBalancer],
  ['leastactive', leastActiveBalancer],
  ['consistenthash', consistentHashBalancer],
  ['p2c', p2cBalancer],
  ['shortestresponse', shortestResponseBalancer],
]);

/** The built-in policies. */
export type BalancerName = 'random' | 'roundrobin' | 'leastactive' | 'consistenthash' | 'p2c' | 'shortestresponse';

/**
 * How options choose a balancer: a built-in or registered name (a new balancer per method of each
 * reference), or a balancer object, used as it is by every method the option applies to.
 */
export type BalancerSpec = BalancerName | (string & {}) | LoadBalancer;

/** The built-in names. */
export const balancerNames: readonly BalancerName[] = factories.names as BalancerName[];

/**
 * Makes `loadBalance: name` choose the balancers `factory` makes. A name is registered once:
 * a taken one (a built-in included) is refused with INVALID_ARGUMENT, as is an invalid one.
 *
 * ```ts
 * registerBalancer('first', () => ({ select: (candidates) => candidates[0]! }));
 * client.proxy(CalculatorService, { loadBalance: 'first' });
 * ```
 */
export function registerBalancer(name: string, factory: BalancerFactory): void {
  factories.register(name, factory);
}

/**
 * A new balancer of the named policy. Each balancer keeps its own state (round-robin scores,
 * hash rings), so create one per client.
 *
 * ```ts
 * const balancer = createBalancer('consistenthash', { hashArguments: [0] });
 * const candidate = balancer.select(candidates, call);
 * ```
 */
export function createBalancer(name: BalancerName | (string & {}), options: BalancerOptions = {}): LoadBalancer {
  const balancer = factories.get(name)(options);
  if (!isBalancer(balancer)) {
    throw new RpcError(Code.INVALID_ARGUMENT, `the load balancer factory ${JSON.stringify(name)} made no object with a select(candidates, call) method`);
  }
  return balancer;
}

/** The balancer a `loadBalance` option asks for: a new one for a name, the object itself otherwise. */
export function balancerFor(spec: BalancerSpec, options: BalancerOptions = {}): LoadBalancer {
  if (typeof spec === 'string') return createBalancer(spec, options);
  if (!isBalancer(spec)) {
    throw new RpcError(Code.INVALID_ARGUMENT, 'loadBalance must be a balancer name or an object with a select(candidates, call) method');
  }
  return spec;
}

function isBalancer(value: unknown): value is LoadBalancer {
  return typeof value === 'object' && value !== null && typeof (value as Partial<LoadBalancer>).select === 'function';
}
