import type { Invocation } from '../../core/invocation.js';
import { Metadata } from '../../core/metadata.js';
import { RpcError } from '../../core/rpc-error.js';
import { budgetAllows } from './budget.js';
import { pick } from './pick.js';
import type { ClusterContext, ClusterStrategy } from './strategy.js';

/**
 * One attempt; on failure the call resolves `undefined` at once and is tried again in the
 * background (`failbackRetries` times, delays doubling from `failbackDelayMs`), each resend drawing
 * on the retry budget. For notifications that must get through eventually.
 */
export const failback: ClusterStrategy = async (context, call) => {
  const budget = call.deadline === undefined ? undefined : call.deadline - Date.now();
  try {
    return await context.send(pick(context, call), call);
  } catch (error) {
    retryLater(context, call, budget, RpcError.from(error), 1);
    return undefined;
  }
};

/**
 * The call as a background attempt sends it: the caller already has its answer, so the attempt has
 * no signal, and a deadline of the budget the call had, counted from the attempt.
 */
function backgroundCopy(call: Invocation, budget: number | undefined): Invocation {
  return {
    service: call.service,
    method: call.method,
    args: call.args,
    metadata: call.metadata,
    responseMetadata: new Metadata(),
    deadline: budget === undefined ? undefined : Date.now() + Math.max(budget, 0),
    signal: undefined,
    oneWay: call.oneWay,
  };
}

function retryLater(context: ClusterContext, original: Invocation, budget: number | undefined, error: RpcError, attempt: number): void {
  const { options, logger } = context;
  const where = { service: original.service.id, method: original.method, code: error.code, attempt };
  if (attempt > options.failbackRetries) {
    logger.error({ ...where, message: error.message }, 'failback call abandoned');
    return;
  }
  logger.warn({ ...where, message: error.message }, 'failback call failed; retrying in the background');
  setTimeout(() => {
    if (!budgetAllows(context, error)) {
      logger.error({ ...where, message: error.message }, 'failback call abandoned: the retry budget is spent');
      return;
    }
    const call = backgroundCopy(original, budget);
    let next: Promise<unknown>;
    try {
      next = context.send(pick(context, call), call);
    } catch (pickError) {
      next = Promise.reject(pickError);
    }
    next.then(
      () => logger.info(where, 'failback call succeeded'),
      (retryError: unknown) => retryLater(context, original, budget, RpcError.from(retryError), attempt + 1),
    );
  }, options.failbackDelayMs * 2 ** (attempt - 1)).unref();
}
