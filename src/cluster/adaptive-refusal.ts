import { Code } from '../core/code.js';
import type { RpcError } from '../core/rpc-error.js';

/** The `limit` detail of a server's adaptive-limit refusal, as the fixed limits name theirs (`concurrency`, `rate`). */
export const ADAPTIVE_LIMIT_DETAIL = 'adaptiveConcurrency';

/**
 * Whether a provider refused the call with its adaptive concurrency limit, before running it. The
 * refusal crosses every transport as plain details, so a client can fail it over like a call that
 * never left, while refusals of fixed limits stay final (docs/governance.md).
 */
export function isAdaptiveRefusal(error: RpcError): boolean {
  return error.code === Code.RESOURCE_EXHAUSTED && error.details.limit === ADAPTIVE_LIMIT_DETAIL;
}
