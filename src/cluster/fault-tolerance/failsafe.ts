import { RpcError } from '../../core/rpc-error.js';
import { pick } from './pick.js';
import type { ClusterStrategy } from './strategy.js';

/** One attempt; a failure is logged and the call resolves `undefined`. For calls whose result may be lost, such as audit logs. */
export const failsafe: ClusterStrategy = async (context, call) => {
  try {
    return await context.send(pick(context, call), call);
  } catch (error) {
    const rpcError = RpcError.from(error);
    context.logger.warn({ service: call.service.id, method: call.method, code: rpcError.code, message: rpcError.message }, 'failsafe call failed; returning undefined');
    return undefined;
  }
};
