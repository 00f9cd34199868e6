import { Code } from '../../core/code.js';
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
const strategies = new Map<string, ClusterStrategy>([
  ['failover', failover],
  ['failfast', failfast],
  ['failsafe', failsafe],
  ['failback', failback],
  ['forking', forking],
  ['broadcast', broadcast],
]);

export type ClusterName = 'failover' | 'failfast' | 'failsafe' | 'failback' | 'forking' | 'broadcast';

export function clusterStrategy(name: string): ClusterStrategy {
  const strategy = strategies.get(name);
  if (strategy === undefined) {
    throw new RpcError(Code.INVALID_ARGUMENT, `unknown cluster strategy ${JSON.stringify(name)}; known: ${[...strategies.keys()].join(', ')}`);
  }
  return strategy;
}
