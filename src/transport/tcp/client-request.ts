import { CallWatch } from '../../core/call-watch.js';
import { requestMetadataOf } from '../../core/client-call.js';
import type { Invocation } from '../../core/invocation.js';
import { RpcError, fromWireError } from '../../core/rpc-error.js';
import type { InboundStream } from '../../core/inbound-stream.js';
import type { RequestStream } from '../../core/request-stream.js';
import type { RequestSink } from './client-input.js';
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
  const user = requestMetadataOf(invocation);
  // A budget too long for :timeout's digits is as good as none; the client's own timer still runs.
  if (timeoutMs !== undefined && timeoutMs > MAX_TIMEOUT_MS) timeoutMs = undefined;
  if (timeoutMs === undefined && (user === undefined || user.size === 0) && extra.length === 0) return target;
  if (timeoutMs !== undefined) extra.push([':timeout', String(Math.ceil(timeoutMs))]);
  if (user !== undefined) for (const entry of user) extra.push(entry);
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


/**
 * A call waiting for its response on one connection. Its deadline and signal are watched from the
 * moment its request is queued; giving the call up goes through the connection's `giveUp`.
 */
export class PendingCall extends CallWatch {
  /** Server- and bidi-streaming calls: where the items go. */
  stream: InboundStream | undefined = undefined;
  /** Client- and bidi-streaming calls: the caller's request stream, and where it is sent. */
  input: { stream: RequestStream; sink: RequestSink } | undefined = undefined;

  constructor(
    readonly id: number,
    readonly invocation: Invocation,
    /** The call's callback arguments, by argument index. */
    readonly callbacks: CallbackArgs | undefined,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: RpcError) => void,
    /** The connection's flush generation when queued: equal to the current one means not yet written. */
    readonly generation: number,
    private readonly giveUp: (id: number, error: RpcError) => void,
  ) {
    super();
  }

  /** The request is queued for `address`: from now on the deadline and the signal can end the call. */
  sent(address: string): void {
    this.watch(this.invocation, address);
  }

  release(): void {
    this.unwatch();
    // A request stream waiting for credit goes on, to find its call over.
    this.input?.sink.credit.stop();
  }

  /** Whether no server can have run this call: its request was not written and none of its request stream was pulled. */
  unsent(flushGeneration: number): boolean {
    return this.generation === flushGeneration && this.input?.stream.pulled !== true;
  }

  /** A failed call: a stream reports it to its reader, any other call rejects. */
  fail(error: RpcError): void {
    if (this.stream !== undefined) this.stream.fail(error);
    else this.reject(error);
  }

  protected override abandon(error: RpcError): void {
    this.giveUp(this.id, error);
  }
}
