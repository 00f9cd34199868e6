import { Code } from '../../core/code.js';
import { RpcError, errorMessage, fromWireError } from '../../core/rpc-error.js';
import type { ServerCall } from '../../core/server-call.js';
import type { Serializer } from '../../serialization/serializer.js';
import type { Connection } from './connection.js';
import { Flags, FrameType, encodeMetadata, type Frame } from './frame.js';

interface Waiting {
  resolve(value: unknown): void;
  reject(error: RpcError): void;
  serializer: Serializer;
}

/**
 * The server's side of callback arguments: each is replaced by a function that calls the caller
 * back over the same connection (a CALLBACK frame, answered by CALLBACK_RESPONSE). A callback works
 * while its call is in flight; afterwards it rejects with FAILED_PRECONDITION.
 */
export class CallbackBridge {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();

  constructor(private readonly connection: Connection) {}

  /** The stand-in function for argument `index` of the call with request id `callId`. */
  proxy(callId: number, index: number, call: ServerCall, serializer: Serializer, isActive: () => boolean) {
    const target = encodeMetadata([[':call', String(callId)], [':index', String(index)]]);
    return (...args: unknown[]): Promise<unknown> => {
      if (!isActive()) return Promise.reject(new RpcError(Code.FAILED_PRECONDITION, 'the call this callback belongs to has ended'));
      if (call.aborted) return Promise.reject(new RpcError(Code.CANCELLED, 'the call this callback belongs to was cancelled'));
      let body: Uint8Array;
      try {
        body = serializer.encode(args);
      } catch (error) {
        return Promise.reject(new RpcError(Code.INVALID_ARGUMENT, `cannot encode callback arguments: ${errorMessage(error)}`));
      }
      const size = target.length + body.length;
      const limit = this.connection.sendLimit;
      if (size > limit) return Promise.reject(new RpcError(Code.RESOURCE_EXHAUSTED, `callback call of ${size} bytes exceeds the frame limit of ${limit}`));
      const id = this.nextId;
      this.nextId = id === 0xffffffff ? 1 : id + 1;
      return new Promise((resolve, reject) => {
        this.waiting.set(id, { resolve, reject, serializer });
        this.connection.send(FrameType.CALLBACK, 0, serializer.id, id, target, body);
      });
    };
  }

  /** A CALLBACK_RESPONSE from the caller. */
  answer(frame: Frame, decoderFor: (id: number) => Serializer | undefined): void {
    const waiting = this.waiting.get(frame.requestId);
    if (waiting === undefined) return;
    this.waiting.delete(frame.requestId);
    try {
      const serializer = decoderFor(frame.serializer);
      if (serializer === undefined) throw new RpcError(Code.INTERNAL, `callback answer in unknown serializer ${frame.serializer}`);
      const value = frame.body.length === 0 ? undefined : serializer.decode(frame.body);
      if ((frame.flags & Flags.ERROR) !== 0) waiting.reject(fromWireError(value));
      else waiting.resolve(value);
    } catch (error) {
      waiting.reject(RpcError.from(error, Code.INTERNAL));
    }
  }

  /** The connection is gone: every callback still waiting fails. */
  close(reason: RpcError): void {
    for (const waiting of this.waiting.values()) waiting.reject(new RpcError(Code.UNAVAILABLE, `callback lost: ${reason.message}`));
    this.waiting.clear();
  }
}
