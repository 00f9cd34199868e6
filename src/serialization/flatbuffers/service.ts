/**
 * Services described by a FlatBuffers schema. A `.fbs` declares tables and an `rpc_service`:
 *
 * ```fbs
 * namespace shop;
 * table Order { id: ulong; lines: [Line]; }
 * table Receipt { total_cents: long; }
 * rpc_service Orders { Place(Order): Receipt; Watch(Order): Receipt (streaming: "server"); }
 * ```
 *
 * and `defineServiceFromFbs` makes the service definition from it, as `defineServiceFromProto`
 * does from a `.proto`. How the schema is read is decided here: at run time, from the binary
 * schema flatc writes (`flatc --binary --schema --bfbs-builtins`, a `.bfbs`), which this codec
 * reads with the same checked reader as messages. Given a `.fbs`, the definition runs flatc to get
 * that `.bfbs` (so flatc must be installed where it runs); given a `.bfbs`, nothing but the
 * `flatbuffers` package is needed. There is no generated code to keep in step with the schema, and
 * flatc, the FlatBuffers project's own compiler, stays the one judge of what a schema means. The
 * other way, flatc's TypeScript (`flatc --ts`) compiled at build time, would need flatc and a build
 * step for every schema, give classes rather than the plain objects the other serializers carry,
 * and read through accessors that check no offset.
 */
import { Code } from '../../core/code.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';
import { defineService, type MethodNames, type MethodOptions, type ServiceDefinition } from '../../core/service.js';
import { registerFbsService, type FbsMethod } from './fbs-registry.js';
import { loadFbsSchema, type FbsLoadOptions, type FbsSource } from './load.js';
import { flatbuffersRuntime } from './runtime.js';
import type { FbsObject } from './schema.js';
import { schemaCodec, type SchemaCodec } from './schema-codec.js';

/** What a method of a `.fbs` service may be given: everything but `stream`, which the schema decides. */
type FbsMethodOptions = Omit<MethodOptions, 'stream'>;

/** Options of `defineServiceFromFbs`; given the service's interface `T`, `methods` takes only its method names. */
export interface FbsServiceOptions<T = unknown> extends FbsLoadOptions {
  version?: string;
  group?: string;
  /** Options per method, by the definition's method name (`place`): `timeoutMs`, `idempotent`, `validate`, ... */
  methods?: unknown extends T ? Record<string, FbsMethodOptions> : { [K in MethodNames<T>]?: FbsMethodOptions };
}

/**
 * A service definition made from the `rpc_service` `serviceName` (with its namespace:
 * `shop.Orders`) of a FlatBuffers schema. Each method takes one argument, the request table as a
 * plain object, and returns the response table (for `(streaming: "server")`, an `AsyncIterable`
 * of them); `"client"` and `"bidi"` take an `AsyncIterable` of request tables. Method names are
 * the rpc names with a lower-case first letter (`Place` → `place`), field names lowerCamelCase
 * (`total_cents` → `totalCents`) unless `keepCase`.
 *
 * ```ts
 * interface Orders { place(order: Order): Promise<Receipt> }
 * const OrdersService = defineServiceFromFbs<Orders>('schemas/shop.fbs', 'shop.Orders');
 * ```
 *
 * The definition serves every transport. With `serializer: 'flatbuffers'` on the client (and
 * `'flatbuffers'` among the server's `serializers`) its calls travel as FlatBuffers on `tcp://`
 * and `tls://`, and as `application/grpc+flatbuffers` on `grpc://`; with the other serializers
 * the tables travel as plain objects. Whatever carried it, a handler gets the request as
 * FlatBuffers gives it: a value the table cannot hold is refused with INVALID_ARGUMENT.
 */
export function defineServiceFromFbs<T>(source: FbsSource, serviceName: string, options: FbsServiceOptions<T> = {}): ServiceDefinition<T> {
  // Loaded now, so that a missing package fails the definition (FAILED_PRECONDITION), not a call.
  flatbuffersRuntime();
  const schema = loadFbsSchema(source, options);
  const service = schema.services.find((candidate) => candidate.name === serviceName);
  if (service === undefined) {
    const known = schema.services.map((candidate) => candidate.name).join(', ') || 'none';
    throw new RpcError(Code.NOT_FOUND, `no rpc_service ${JSON.stringify(serviceName)} in the FlatBuffers schema (it has: ${known})`);
  }
  const codec = schemaCodec(schema);
  const ownOptions = (options.methods ?? {}) as Record<string, FbsMethodOptions | undefined>;
  const methodOptions: Record<string, MethodOptions> = {};
  const methods: FbsMethod[] = [];
  for (const call of service.calls) {
    const name = call.name[0]!.toLowerCase() + call.name.slice(1);
    const request = schema.objects[call.request]!;
    const response = schema.objects[call.response]!;
    const takesStream = call.streaming === 'client' || call.streaming === 'bidi';
    const own = ownOptions[name] ?? {};
    methodOptions[name] = { ...own, validate: takesStream ? requestStream(codec, request, name, own.validate) : oneRequest(codec, request, name, own.validate) };
    if (call.streaming !== undefined) methodOptions[name].stream = call.streaming;
    methods.push({ name, fbsName: call.name, request, response, takesStream, codec });
  }
  for (const name of Object.keys(ownOptions)) {
    if (methodOptions[name] === undefined) throw new RpcError(Code.INVALID_ARGUMENT, `${service.name} has no rpc ${name}`);
  }
  const definition = defineService<T>(service.name, {
    version: options.version,
    group: options.group,
    methods: methodOptions as Parameters<typeof defineService<T>>[1]['methods'],
  });
  registerFbsService(definition as ServiceDefinition, { fullName: service.name, methods: new Map(methods.map((method) => [method.name, method])) });
  return definition;
}

/** The request, whatever serializer carried it, as FlatBuffers gives it; INVALID_ARGUMENT if the table cannot hold it. */
function oneRequest(codec: SchemaCodec, request: FbsObject, method: string, own: ((args: unknown[]) => void) | undefined): (args: unknown[]) => void {
  return (args) => {
    if (args.length !== 1 || typeof args[0] !== 'object' || args[0] === null || Array.isArray(args[0])) {
      throw new RpcError(Code.INVALID_ARGUMENT, `${method} takes one argument, the ${request.name} table as an object`);
    }
    args[0] = normalized(codec, request, args[0], method);
    own?.(args);
  };
}

/** `oneRequest` for each item of a request stream, as the handler reads it. */
function requestStream(codec: SchemaCodec, request: FbsObject, method: string, own: ((args: unknown[]) => void) | undefined): (args: unknown[]) => void {
  return (args) => {
    const source = args[0] as AsyncIterable<unknown> | undefined;
    if (args.length !== 1 || typeof source?.[Symbol.asyncIterator] !== 'function') {
      throw new RpcError(Code.INVALID_ARGUMENT, `${method} takes one argument, an AsyncIterable of ${request.name} tables`);
    }
    args[0] = normalizedItems(codec, request, method, source);
    own?.(args);
  };
}

async function* normalizedItems(codec: SchemaCodec, request: FbsObject, method: string, source: AsyncIterable<unknown>): AsyncGenerator<unknown, void, undefined> {
  for await (const item of source) yield normalized(codec, request, item, method);
}

function normalized(codec: SchemaCodec, request: FbsObject, value: unknown, method: string): Record<string, unknown> {
  try {
    return codec.normalize(request, value, `${method} request`);
  } catch (error) {
    throw new RpcError(Code.INVALID_ARGUMENT, errorMessage(error));
  }
}
