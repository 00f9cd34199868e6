import type { Invocation } from '../../core/invocation.js';
import { RpcError } from '../../core/rpc-error.js';
import { pick } from './pick.js';
import type { ClusterContext, ClusterStrategy } from './strategy.js';

/**
 * One attempt; on failure the call resolves `undefined` at once and is tried again in the
 * background (`failbackRetries` times, delays doubling from `failbackDelayMs`). For notifications
 * that must get through eventually.
 */
export const failback: ClusterStrategy = async (context, call) => {
  try {
    return await context.send(pick(context, call), call);
  } catch (error) {
    retryLater(context, call, RpcError.from(error), 1);
    return undefined;
  }
};

function retryLater(context: ClusterContext, call: Invocation, error: RpcError, attempt: number): void {
  const { options, logger } = context;
  const where = { service: call.service.id, method: call.method, code: error.code, attempt };
  if (attempt > options.failbackRetries) {
    logger.error({ ...where, message: error.message }, 'failback call abandoned');
    return;
  }
  logger.warn({ ...where, message: error.message }, 'failback call failed; retrying in the background');
  setTimeout(() => {
    // The caller has its answer: the background attempt is not bound by the original deadline.
    let next: Promise<unknown>;
    try {
      next = context.send(pick(context, call), call);
    } catch (pickError) {
      next = Promise.reject(pickError);
    }
    next.then(
      () => logger.info(where, 'failback call succeeded'),
      (retryError: unknown) => retryLater(context, call, RpcError.from(retryError), attempt + 1),
    );
  }, options.failbackDelayMs * 2 ** (attempt - 1)).unref();
}
