import type { Invocation } from '../../core/invocation.js';
import { RpcError, fromWireError } from '../../core/rpc-error.js';
import { Flags, MAX_TIMEOUT_MS, encodeMetadata } from './frame.js';

/** A call's callback arguments, by argument index. */
export type CallbackArgs = Array<((...args: unknown[]) => unknown) | undefined>;

// Encoded :service/:method pairs by service id and method: a call re-encodes neither.
const targetCache = new Map<string, Map<string, Buffer>>();

/** An error RESPONSE; `UNPROCESSED` says the server refused it before running it, so it may go elsewhere. */
export function responseError(body: unknown, flags: number): RpcError {
  const error = fromWireError(body);
  if ((flags & Flags.UNPROCESSED) === 0) return error;
  return new RpcError(error.code, error.message, { name: error.name, details: error.details, unprocessed: true });
}

/** The metadata section of a request: cached pseudo-keys naming the target, then the rest. */
export function requestMetadata(invocation: Invocation, serviceId: string, timeoutMs: number | undefined, extra: Array<[string, string | Uint8Array]>): Buffer {
  let methods = targetCache.get(serviceId);
  if (methods === undefined) {
    methods = new Map();
    targetCache.set(serviceId, methods);
  }
  let target = methods.get(invocation.method);
  if (target === undefined) {
    target = encodeMetadata([[':service', serviceId], [':method', invocation.method]]);
    methods.set(invocation.method, target);
  }
  const user = invocation.metadata;
  // A budget too long for :timeout's digits is as good as none; the client's own timer still runs.
  if (timeoutMs !== undefined && timeoutMs > MAX_TIMEOUT_MS) timeoutMs = undefined;
  if (timeoutMs === undefined && user.size === 0 && extra.length === 0) return target;
  if (timeoutMs !== undefined) extra.push([':timeout', String(Math.ceil(timeoutMs))]);
  for (const entry of user) extra.push(entry);
  return Buffer.concat([target, encodeMetadata(extra)]);
}

/** Takes the function arguments out of a call, to be called back; null stands in their place on the wire. */
export function takeCallbacks(args: unknown[]): { args: unknown[]; callbacks?: CallbackArgs; indexes?: number[] } {
  let out: unknown[] | undefined;
  let callbacks: CallbackArgs | undefined;
  let indexes: number[] | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (typeof arg !== 'function') continue;
    out ??= args.slice();
    (callbacks ??= [])[i] = arg as (...args: unknown[]) => unknown;
    (indexes ??= []).push(i);
    out[i] = null;
  }
  return { args: out ?? args, callbacks, indexes };
}

