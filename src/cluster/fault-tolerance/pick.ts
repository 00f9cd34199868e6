import { Code } from '../../core/code.js';
import type { Invocation } from '../../core/invocation.js';
import { RpcError } from '../../core/rpc-error.js';
import type { Invoker } from '../invoker.js';
import type { ClusterContext } from './strategy.js';

/**
 * The balancer's choice among providers not yet tried for this call, preferring those not known
 * to be down or leaving. Throws UNAVAILABLE when none is left.
 */
export function pick(context: ClusterContext, call: Invocation, tried?: ReadonlySet<Invoker>): Invoker {
  const all = context.invokers();
  let fresh = tried === undefined || tried.size === 0 ? all : all.filter((invoker) => !tried.has(invoker));
  if (fresh.length === 0) throw noProvider(context, call, tried !== undefined && tried.size > 0);
  if (fresh.length === 1) return fresh[0]!;
  const admits = context.admits;
  const usable = admits === undefined ? (invoker: Invoker) => invoker.available : (invoker: Invoker) => invoker.available && admits(invoker);
  if (!fresh.every(usable)) {
    const available = fresh.filter(usable);
    if (available.length > 0) fresh = available;
  }
  return context.balancer.select(fresh, call);
}

export function noProvider(context: ClusterContext, call: Invocation, afterTries = false): RpcError {
  const why = afterTries ? undefined : context.unreachable?.();
  if (why !== undefined) return why;
  const reason = afterTries ? 'no other provider left to try' : 'no provider available';
  return new RpcError(Code.UNAVAILABLE, `${reason} for ${call.service.id}.${call.method}`, { unprocessed: !afterTries });
}

/** Whether the call's deadline and signal leave room for another attempt. */
export function timeLeft(call: Invocation): boolean {
  return (call.deadline === undefined || Date.now() < call.deadline) && call.signal?.aborted !== true;
}
