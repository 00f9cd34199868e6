import { Code } from '../../core/code.js';
import { RpcError } from '../../core/rpc-error.js';
import type { Invoker } from '../invoker.js';
import { noProvider, pick } from './pick.js';
import type { ClusterStrategy } from './strategy.js';

/**
 * Calls `forks` providers at once and takes the first success; fails only if all fail. Buys
 * latency with load: for reads whose tail latency matters. The extra attempts do not draw on the
 * retry budget: they are the load this strategy is chosen for, the same on every call, not load
 * that failures add.
 */
export const forking: ClusterStrategy = async (context, call) => {
  const available = context.invokers().length;
  if (available === 0) throw noProvider(context, call);
  const chosen = new Set<Invoker>();
  const forks = Math.max(1, context.options.forks);
  while (chosen.size < forks && chosen.size < available) chosen.add(pick(context, call, chosen));
  return Promise.any([...chosen].map((invoker) => context.send(invoker, call))).catch((error: unknown) => {
    const errors = error instanceof AggregateError ? error.errors.map((e) => RpcError.from(e)) : [RpcError.from(error)];
    const first = errors[0] ?? new RpcError(Code.UNAVAILABLE, 'every forked call failed');
    throw new RpcError(first.code, `all ${errors.length} forked calls failed; first: ${first.message}`, { details: first.details, name: first.name });
  });
};
