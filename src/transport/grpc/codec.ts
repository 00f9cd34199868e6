import { Code } from '../../core/code.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';
import type { Serializer } from '../../serialization/serializer.js';

/**
 * How the messages of one method are written: requests carry the call's arguments, responses its
 * result (or one item of a server stream); each message of a request stream (client and bidi
 * streaming) carries one item.
 */
export interface MethodCodec {
  /** `proto`, or the name of the serializer (the content-type's subtype). */
  readonly name: string;
  encodeRequest(args: unknown[]): Uint8Array;
  decodeRequest(bytes: Uint8Array): unknown[];
  /** One item of a request stream; an `RpcError` INVALID_ARGUMENT when it cannot be written. */
  encodeRequestItem(value: unknown): Uint8Array;
  /** One item of a request stream; an `RpcError` INVALID_ARGUMENT when it cannot be read. */
  decodeRequestItem(bytes: Uint8Array): unknown;
  encodeResponse(value: unknown): Uint8Array;
  decodeResponse(bytes: Uint8Array): unknown;
}

const empty = new Uint8Array(0);
const codecs = new WeakMap<Serializer, MethodCodec>();

/**
 * Services defined without a `.proto`: the request message is the serialized argument array, the
 * response message the serialized result (empty for `undefined`), as on the TCP transport. An item
 * of a request stream is serialized alone, like a response.
 */
export function serializerCodec(serializer: Serializer): MethodCodec {
  let codec = codecs.get(serializer);
  if (codec === undefined) {
    codec = {
      name: serializer.name,
      encodeRequest: (args) => serializer.encode(args),
      decodeRequest: (bytes) => {
        let args: unknown;
        try {
          args = bytes.length === 0 ? [] : serializer.decode(bytes);
        } catch (error) {
          throw new RpcError(Code.INVALID_ARGUMENT, `cannot decode arguments: ${errorMessage(error)}`);
        }
        if (!Array.isArray(args)) throw new RpcError(Code.INVALID_ARGUMENT, 'arguments must be an array');
        return args;
      },
      encodeRequestItem: (value) => {
        try {
          return value === undefined ? empty : serializer.encode(value);
        } catch (error) {
          throw new RpcError(Code.INVALID_ARGUMENT, `cannot encode a request stream item: ${errorMessage(error)}`);
        }
      },
      decodeRequestItem: (bytes) => {
        try {
          return bytes.length === 0 ? undefined : serializer.decode(bytes);
        } catch (error) {
          throw new RpcError(Code.INVALID_ARGUMENT, `cannot decode a request stream item: ${errorMessage(error)}`);
        }
      },
      encodeResponse: (value) => (value === undefined ? empty : serializer.encode(value)),
      decodeResponse: (bytes) => (bytes.length === 0 ? undefined : serializer.decode(bytes)),
    };
    codecs.set(serializer, codec);
  }
  return codec;
}
