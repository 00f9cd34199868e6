import { RpcError } from '../../core/rpc-error.js';
import type { Invocation } from '../../core/invocation.js';
import type { Invoker } from '../invoker.js';
import { budgetAllows } from './budget.js';
import { pick, timeLeft } from './pick.js';
import type { ClusterContext, ClusterStrategy } from './strategy.js';

/**
 * Retry on another provider, up to `retries` times, when the call may run again (it never ran,
 * or its method is idempotent), its deadline allows and the retry budget has a retry left (else the
 * last attempt's error is the call's). The default, and right for reads.
 */
export const failover: ClusterStrategy = (context, call) => {
  const first = pick(context, call);
  // The first attempt goes out without the bookkeeping that only a retry needs.
  return context.send(first, call).catch((error: unknown) => retry(context, call, first, RpcError.from(error)));
};

async function retry(context: ClusterContext, call: Invocation, first: Invoker, firstError: RpcError): Promise<unknown> {
  const tried = new Set<Invoker>([first]);
  let error = firstError;
  for (let attempt = 1; ; attempt++) {
    if (attempt > context.options.retries || !context.mayRetry(error) || !timeLeft(call)) throw error;
    if (context.invokers().every((other) => tried.has(other))) throw error;
    if (!budgetAllows(context, error)) throw error;
    const invoker = pick(context, call, tried);
    context.logger.debug({ provider: invoker.provider.address, code: error.code, attempt }, 'failing over');
    tried.add(invoker);
    try {
      return await context.send(invoker, call);
    } catch (next) {
      error = RpcError.from(next);
    }
  }
}
