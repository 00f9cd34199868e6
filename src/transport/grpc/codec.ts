import { Code } from '../../core/code.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';
import type { Serializer } from '../../serialization/serializer.js';

/**
 * How the messages of one method are written: requests carry the call's arguments, responses its
 * result (or one item of a server stream).
 */
export interface MethodCodec {
  /** `proto`, or the name of the serializer (the content-type's subtype). */
  readonly name: string;
  encodeRequest(args: unknown[]): Uint8Array;
  decodeRequest(bytes: Uint8Array): unknown[];
  encodeResponse(value: unknown): Uint8Array;
  decodeResponse(bytes: Uint8Array): unknown;
}

const empty = new Uint8Array(0);
const codecs = new WeakMap<Serializer, MethodCodec>();

/**
 * Services defined without a `.proto`: the request message is the serialized argument array, the
 * response message the serialized result (empty for `undefined`), as on the TCP transport.
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
      encodeResponse: (value) => (value === undefined ? empty : serializer.encode(value)),
      decodeResponse: (bytes) => (bytes.length === 0 ? undefined : serializer.decode(bytes)),
    };
    codecs.set(serializer, codec);
  }
  return codec;
}
