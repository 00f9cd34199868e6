import type * as Protobuf from 'protobufjs';
import { Code } from '../../core/code.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';
import { defineService, type MethodNames, type MethodOptions, type ServiceDefinition } from '../../core/service.js';
import type { MethodCodec } from './codec.js';
import { decodedWithBigInts, encodableLongs, hasLongs, withBigInts } from './proto-int64.js';
import { protoService, registerProtoService, type ProtoMethod } from './proto-registry.js';
import { describeFiles, loadProtoRoot } from './proto-root.js';
import { protobufjs } from './protobufjs.js';

/** What a method of a `.proto` service may be given: everything but `stream`, which the `.proto` decides. */
type ProtoMethodOptions = Omit<MethodOptions, 'stream'>;

/** Options of `defineServiceFromProto`; given the service's interface `T`, `methods` takes only its method names. */
export interface ProtoServiceOptions<T = unknown> {
  version?: string;
  group?: string;
  /**
   * Options per method, by the definition's method name (`sayHello`): `timeoutMs`, `idempotent`,
   * `validate`, ... `stream` comes from the `.proto` and cannot be set here.
   */
  methods?: unknown extends T ? Record<string, ProtoMethodOptions> : { [K in MethodNames<T>]?: ProtoMethodOptions };
  /** Keep field names as written in the `.proto` (`user_id`) instead of lowerCamelCase (`userId`). */
  keepCase?: boolean;
  /** Folders searched for `import`ed files that are not found next to the importing file. */
  includeDirs?: Array<string | URL>;
}

/**
 * How decoded messages become plain objects: enums by name, defaults filled in, oneofs named. 64-bit
 * integers come out as decimal strings, which `decodedWithBigInts` turns into bigints.
 */
const toObjectOptions: Protobuf.IConversionOptions = { longs: String, enums: String, defaults: true, oneofs: true };

/**
 * A service definition made from a `.proto` service. Each method takes one argument, the request
 * message as a plain object, and returns the response message (or, for `returns (stream ...)`, an
 * `AsyncIterable` of them). An rpc taking `(stream ...)` takes an `AsyncIterable` of request
 * messages instead: `stream: 'client'`, or `'bidi'` when it returns a stream too. Method names are
 * the rpc names with a lower-case first letter (`SayHello` → `sayHello`); on gRPC's wire they keep
 * their own (`/helloworld.Greeter/SayHello`).
 *
 * ```ts
 * interface Greeter { sayHello(request: { name: string }): Promise<{ message: string }> }
 * const GreeterService = defineServiceFromProto<Greeter>('protos/helloworld.proto', 'helloworld.Greeter');
 * ```
 *
 * The definition serves any transport; over `grpc://` it speaks Protobuf.
 *
 * 64-bit integer fields (`int64`, `uint64`, `sint64`, `fixed64`, `sfixed64`) are `bigint` on every
 * transport: decoded as bigints, and turned into bigints before a handler sees a request that came
 * as a number or decimal string. Sending, the codec also takes integer numbers and decimal strings,
 * as it did before, and refuses values outside the field's range. `npx switchyard-proto` writes the
 * message and service types, and the typed definition, from the `.proto`.
 */
export function defineServiceFromProto<T>(file: string | URL | Array<string | URL>, serviceName: string, options: ProtoServiceOptions<T> = {}): ServiceDefinition<T> {
  const root = loadProtoRoot(file, { keepCase: options.keepCase, includeDirs: options.includeDirs });
  let service: Protobuf.Service;
  try {
    service = root.lookupService(serviceName);
  } catch {
    throw new RpcError(Code.NOT_FOUND, `no service ${JSON.stringify(serviceName)} in ${describeFiles(file)}`);
  }
  const fullName = service.fullName.replace(/^\./, '');
  const methodOptions: Record<string, MethodOptions> = {};
  const ownOptions = (options.methods ?? {}) as Record<string, ProtoMethodOptions | undefined>;
  const protoMethods: ProtoMethod[] = [];
  for (const rpc of service.methodsArray) {
    rpc.resolve();
    const name = rpc.name[0]!.toLowerCase() + rpc.name.slice(1);
    const own = ownOptions[name] ?? {};
    const requestType = rpc.resolvedRequestType!;
    const takesStream = rpc.requestStream === true;
    methodOptions[name] = { ...own, validate: takesStream ? messageStream(name, requestType, own.validate) : oneMessage(name, requestType, own.validate) };
    if (takesStream) methodOptions[name].stream = rpc.responseStream === true ? 'bidi' : 'client';
    else if (rpc.responseStream === true) methodOptions[name].stream = 'server';
    protoMethods.push({
      name,
      protoName: rpc.name,
      path: `/${fullName}/${rpc.name}`,
      codec: messageCodec(requestType, rpc.resolvedResponseType!),
    });
  }
  for (const name of Object.keys(ownOptions)) {
    if (methodOptions[name] === undefined) throw new RpcError(Code.INVALID_ARGUMENT, `${fullName} has no rpc ${name}`);
  }
  const definition = defineService<T>(fullName, {
    version: options.version,
    group: options.group,
    methods: methodOptions as DefineMethods<T>,
  });
  registerProtoService(definition as ServiceDefinition, protoService(fullName, protoMethods, service));
  return definition;
}

type DefineMethods<T> = Parameters<typeof defineService<T>>[1]['methods'];

/** Requests and responses as Protobuf messages, converted from and to plain objects. */
function messageCodec(request: Protobuf.Type, response: Protobuf.Type): MethodCodec {
  return {
    name: 'proto',
    encodeRequest: (args) => {
      if (args.length !== 1) throw new RpcError(Code.INVALID_ARGUMENT, `a ${request.name} request takes one argument, not ${args.length}`);
      return encode(request, args[0], Code.INVALID_ARGUMENT, 'request');
    },
    decodeRequest: (bytes) => [decode(request, bytes, Code.INVALID_ARGUMENT)],
    encodeRequestItem: (value) => encode(request, value, Code.INVALID_ARGUMENT, 'request'),
    decodeRequestItem: (bytes) => decode(request, bytes, Code.INVALID_ARGUMENT),
    encodeResponse: (value) => encode(response, value, Code.INTERNAL, 'response'),
    decodeResponse: (bytes) => decode(response, bytes, Code.INTERNAL),
  };
}

function encode(type: Protobuf.Type, value: unknown, code: Code, what: string): Uint8Array {
  if (typeof value !== 'object' || value === null) {
    throw new RpcError(code, `${what} must be a ${type.fullName.slice(1)} object, not ${value === null ? 'null' : typeof value}`);
  }
  try {
    const message = hasLongs(type) ? encodableLongs(type, value) : value;
    return type.encode(type.fromObject(message as Record<string, unknown>)).finish();
  } catch (error) {
    throw new RpcError(code, `cannot encode the ${what} as ${type.fullName.slice(1)}: ${errorMessage(error)}`);
  }
}

let StrictReader: (new (buffer: Buffer) => Protobuf.Reader) | undefined;

/**
 * protobufjs's Buffer reader, except that a string running past the end of the message is an
 * error: the stock one cuts such a string short and reads on, so truncated input would pass.
 */
function strictReader(bytes: Uint8Array): Protobuf.Reader {
  StrictReader ??= class extends protobufjs().BufferReader {
    override string(): string {
      const length = this.uint32();
      const start = this.pos;
      if (start + length > this.len) throw new RangeError(`index out of range: ${start} + ${length} > ${this.len}`);
      this.pos = start + length;
      return (this.buf as Buffer).toString('utf8', start, start + length);
    }
  };
  return new StrictReader(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

function decode(type: Protobuf.Type, bytes: Uint8Array, code: Code): unknown {
  try {
    const message = type.toObject(type.decode(strictReader(bytes)), toObjectOptions);
    return hasLongs(type) ? decodedWithBigInts(type, message) : message;
  } catch (error) {
    throw new RpcError(code, `cannot decode ${type.fullName.slice(1)}: ${errorMessage(error)}`);
  }
}

/**
 * Whatever the transport, a method of a `.proto` service takes exactly one message object, and
 * its 64-bit integers are bigints: a request that came over MessagePack or JSON with numbers or
 * decimal strings in those fields is replaced by a copy holding bigints before the handler runs.
 */
function oneMessage(method: string, request: Protobuf.Type, own: ((args: unknown[]) => void) | undefined): (args: unknown[]) => void {
  const longs = hasLongs(request);
  return (args) => {
    if (args.length !== 1 || typeof args[0] !== 'object' || args[0] === null || Array.isArray(args[0])) {
      throw new RpcError(Code.INVALID_ARGUMENT, `${method} takes one argument, the request message as an object`);
    }
    if (longs) {
      try {
        args[0] = withBigInts(request, args[0]);
      } catch (error) {
        throw new RpcError(Code.INVALID_ARGUMENT, `${method}: ${errorMessage(error)}`);
      }
    }
    own?.(args);
  };
}

/**
 * `oneMessage` for an rpc taking a stream: its one argument is an `AsyncIterable`, whose items are
 * checked, and given bigints, as the handler reads them. An item that is not a message object
 * fails the handler's loop with INVALID_ARGUMENT (leaving the stream, which stops the caller).
 */
function messageStream(method: string, request: Protobuf.Type, own: ((args: unknown[]) => void) | undefined): (args: unknown[]) => void {
  const longs = hasLongs(request);
  return (args) => {
    const source = args[0] as AsyncIterable<unknown> | undefined;
    if (args.length !== 1 || typeof source?.[Symbol.asyncIterator] !== 'function') {
      throw new RpcError(Code.INVALID_ARGUMENT, `${method} takes one argument, an AsyncIterable of request messages`);
    }
    args[0] = checkedMessages(method, request, longs, source);
    own?.(args);
  };
}

async function* checkedMessages(method: string, request: Protobuf.Type, longs: boolean, source: AsyncIterable<unknown>): AsyncGenerator<unknown, void, undefined> {
  for await (const item of source) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new RpcError(Code.INVALID_ARGUMENT, `${method} takes a stream of request messages as objects`);
    }
    let message: unknown = item;
    if (longs) {
      try {
        message = withBigInts(request, item);
      } catch (error) {
        throw new RpcError(Code.INVALID_ARGUMENT, `${method}: ${errorMessage(error)}`);
      }
    }
    yield message;
  }
}
