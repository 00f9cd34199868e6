import type { ServiceDefinition } from '../../core/service.js';
import { DEFAULT_DECODE_LIMITS, type CallSide, type DecodeLimits, type Serializer } from '../serializer.js';
import { fbsServiceOf, type FbsMethod } from './fbs-registry.js';

/** The wire id of FlatBuffers in frame headers (docs/protocol.md). */
export const FLATBUFFERS_SERIALIZER_ID = 2;
const NAME = 'flatbuffers';
const EMPTY = new Uint8Array(0);

/**
 * FlatBuffers, for services defined from a `.fbs` (`defineServiceFromFbs`). A FlatBuffers message
 * is a table of a schema, so unlike MessagePack and JSON this serializer cannot write just any
 * value: transports ask it for the serializer of each method (`forMethod`), which writes that
 * method's request table (the one argument) and response table. A body is exactly the FlatBuffer
 * of that table, as any FlatBuffers peer writes and reads it. Errors travel in JSON, as they do
 * for every serializer that cannot write them. A method of a service not made from a `.fbs` is
 * refused with INVALID_ARGUMENT before anything is sent: call it with msgpack or json.
 *
 * Enable it by name: `createServer({ serializers: ['msgpack', 'json', 'flatbuffers'] })` and
 * `createClient({ serializer: 'flatbuffers' })`.
 */
export function flatbuffersSerializer(limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Serializer {
  const bound = new WeakMap<FbsMethod, Partial<Record<CallSide, Serializer>>>();
  return {
    id: FLATBUFFERS_SERIALIZER_ID,
    name: NAME,
    encode: () => {
      throw new TypeError('FlatBuffers cannot carry a value outside a method of a .fbs service');
    },
    decode: () => {
      throw new TypeError('FlatBuffers cannot read a message outside a method of a .fbs service');
    },
    forMethod(service: ServiceDefinition, method: string, side: CallSide): Serializer {
      const fbs = fbsServiceOf(service)?.methods.get(method);
      if (fbs === undefined) return notDescribed(service, method);
      const sides = bound.get(fbs) ?? {};
      bound.set(fbs, sides);
      return (sides[side] ??= side === 'client' ? clientSide(fbs, limits, `${service.key.name}.${method}`) : serverSide(fbs, limits, `${service.key.name}.${method}`));
    },
  };
}

/** A caller writes the request (the argument array of one table, or one item of a request stream) and reads responses. */
function clientSide(method: FbsMethod, limits: DecodeLimits, label: string): Serializer {
  const { codec, request, response, takesStream } = method;
  return {
    id: FLATBUFFERS_SERIALIZER_ID,
    name: NAME,
    encode(value) {
      if (!Array.isArray(value)) return codec.encode(request, value, `${label} request`);
      // A method taking a stream sends its items one by one; its call carries no arguments.
      if (takesStream && value.length === 0) return EMPTY;
      if (takesStream || value.length !== 1) {
        throw new TypeError(`FlatBuffers cannot carry ${value.length} arguments: ${label} takes ${takesStream ? 'a stream of' : 'one'} ${request.name} table${takesStream ? 's' : ''}`);
      }
      return codec.encode(request, value[0], `${label} request`);
    },
    decode: (bytes) => codec.decode(response, bytes, limits),
  };
}

/** A server reads the request (as the argument array, or as one item of a request stream) and writes responses. */
function serverSide(method: FbsMethod, limits: DecodeLimits, label: string): Serializer {
  const { codec, request, response, takesStream } = method;
  return {
    id: FLATBUFFERS_SERIALIZER_ID,
    name: NAME,
    encode: (value) => codec.encode(response, value, `${label} response`),
    decode(bytes) {
      const message = codec.decode(request, bytes, limits);
      return takesStream ? message : [message];
    },
  };
}

function notDescribed(service: ServiceDefinition, method: string): Serializer {
  const why = `FlatBuffers cannot carry the messages of ${service.key.name}.${method}: its service is not defined from a .fbs (defineServiceFromFbs); call it with msgpack or json`;
  return {
    id: FLATBUFFERS_SERIALIZER_ID,
    name: NAME,
    encode: () => {
      throw new TypeError(why);
    },
    decode: () => {
      throw new TypeError(why);
    },
  };
}
