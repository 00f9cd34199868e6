import { Code } from '../../core/code.js';
import { ExtensionTable } from '../../core/extension-table.js';
import { RpcError } from '../../core/rpc-error.js';
import { broadcast } from './broadcast.js';
import { failback } from './failback.js';
import { failfast } from './failfast.js';
import { failover } from './failover.js';
import { failsafe } from './failsafe.js';
import { forking } from './forking.js';
import type { ClusterStrategy } from './strategy.js';

export type { ClusterContext, ClusterOptions, ClusterStrategy } from './strategy.js';

/** Fault-tolerance strategies by the name clients choose them with. */
const strategies = new ExtensionTable<ClusterStrategy>('cluster strategy', 'name', (value): value is ClusterStrategy => typeof value === 'function', [
  ['failover', failover],
  ['failfast', failfast],
  ['failsafe', failsafe],
  ['failback', failback],
  ['forking', forking],
  ['broadcast', broadcast],
]);

/** The built-in strategies. */
export type ClusterName = 'failover' | 'failfast' | 'failsafe' | 'failback' | 'forking' | 'broadcast';

/** How options choose a strategy: a built-in or registered name, or the strategy function itself. */
export type ClusterSpec = ClusterName | (string & {}) | ClusterStrategy;

/**
 * Makes `cluster: name` choose `strategy`. A strategy keeps no state of its own (what it needs per
 * method is in its `ClusterContext`), so one function serves every client. A taken name (a built-in
 * included) is refused with INVALID_ARGUMENT, as is an invalid one.
 *
 * ```ts
 * // Always the first provider listed, never another: a strategy decides where each attempt goes.
 * registerClusterStrategy('first', (context, call) => {
 *   const [first] = context.invokers();
 *   return first ? context.send(first, call) : Promise.reject(new RpcError(Code.UNAVAILABLE, 'no provider'));
 * });
 * ```
 */
export function registerClusterStrategy(name: string, strategy: ClusterStrategy): void {
  strategies.register(name, strategy);
}

/** The strategy a `cluster` option asks for. */
export function clusterStrategy(spec: ClusterSpec): ClusterStrategy {
  if (typeof spec === 'string') return strategies.get(spec);
  if (typeof spec !== 'function') {
    throw new RpcError(Code.INVALID_ARGUMENT, 'cluster must be a strategy name or a function (context, call) => Promise');
  }
  return spec;
}
