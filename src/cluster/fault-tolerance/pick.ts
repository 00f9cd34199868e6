import { Code } from '../../core/code.js';
import type { Invocation } from '../../core/invocation.js';
import { RpcError } from '../../core/rpc-error.js';
import { expectedCost } from '../balancers/latency.js';
import type { Invoker } from '../invoker.js';
import type { ClusterContext } from './strategy.js';

/**
 * The balancer's choice among providers not yet tried for this call, preferring those not known
 * to be down or leaving, not ejected as outliers, and with room under their limits. When every one
 * that is up is at a limit (or its circuit is open), the one that should answer soonest by its
 * expected latency and calls in flight: a random one could be a provider whose limit is low because
 * it is slow. Throws UNAVAILABLE when none is left.
 */
export function pick(context: ClusterContext, call: Invocation, tried?: ReadonlySet<Invoker>): Invoker {
  const all = context.invokers();
  const fresh = tried === undefined || tried.size === 0 ? all : all.filter((invoker) => !tried.has(invoker));
  if (fresh.length === 0) throw noProvider(context, call, tried !== undefined && tried.size > 0);
  if (fresh.length === 1) return fresh[0]!;
  const admits = context.admits;
  const usable = admits === undefined ? (invoker: Invoker) => invoker.available && !invoker.ejected : (invoker: Invoker) => invoker.available && !invoker.ejected && admits(invoker);
  if (!fresh.every(usable)) {
    const available = fresh.filter(usable);
    if (available.length > 0) return context.balancer.select(available, call);
    if (admits !== undefined) {
      const up = fresh.filter((invoker) => invoker.available && !invoker.ejected);
      if (up.length > 0) return soonest(up);
    }
  }
  return context.balancer.select(fresh, call);
}

/** The provider with the least expected latency × (calls in flight + 1), as `p2c` weighs them. */
function soonest(invokers: readonly Invoker[]): Invoker {
  let best = invokers[0]!;
  let bestCost = Infinity;
  const now = performance.now();
  for (const invoker of invokers) {
    const cost = expectedCost(invoker, now);
    if (cost < bestCost) {
      best = invoker;
      bestCost = cost;
    }
  }
  return best;
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
