import type { RpcError } from '../../core/rpc-error.js';
import type { ClusterContext } from './strategy.js';

/**
 * Whether the retry budget lets a call be sent again after `error`, spending a retry if so. A call
 * that failed `unprocessed` never reached a provider's handler, so sending it again is free; so is
 * every retry when the reference budgets none.
 */
export function budgetAllows(context: ClusterContext, error: RpcError): boolean {
  const budget = context.options.retryBudget;
  if (budget === undefined || error.unprocessed || budget.tryWithdraw()) return true;
  context.logger.debug({ code: error.code }, 'retry budget spent: not retrying');
  return false;
}
