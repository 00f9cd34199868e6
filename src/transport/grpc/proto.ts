import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Protobuf from 'protobufjs';
import { Code } from '../../core/code.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';
import { defineService, type MethodOptions, type ServiceDefinition } from '../../core/service.js';
import type { MethodCodec } from './codec.js';
import { protoService, registerProtoService, type ProtoMethod } from './proto-registry.js';
import { protobufjs } from './protobufjs.js';

export interface ProtoServiceOptions {
  version?: string;
  group?: string;
  /**
   * Options per method, by the definition's method name (`sayHello`): `timeoutMs`, `idempotent`,
   * `validate`, ... `stream` comes from the `.proto` and cannot be set here.
   */
  methods?: Record<string, Omit<MethodOptions, 'stream'>>;
  /** Keep field names as written in the `.proto` (`user_id`) instead of lowerCamelCase (`userId`). */
  keepCase?: boolean;
  /** Folders searched for `import`ed files that are not found next to the importing file. */
  includeDirs?: string[];
}

/** How decoded messages become plain objects: 64-bit integers as decimal strings, enums by name. */
const toObjectOptions: Protobuf.IConversionOptions = { longs: String, enums: String, defaults: true, oneofs: true };

const roots = new Map<string, Protobuf.Root>();

/**
 * A service definition made from a `.proto` service. Each method takes one argument, the request
 * message as a plain object, and returns the response message (or, for `returns (stream ...)`, an
 * `AsyncIterable` of them). Method names are the rpc names with a lower-case first letter
 * (`SayHello` → `sayHello`); on gRPC's wire they keep their own (`/helloworld.Greeter/SayHello`).
 *
 * ```ts
 * interface Greeter { sayHello(request: { name: string }): Promise<{ message: string }> }
 * const GreeterService = defineServiceFromProto<Greeter>('protos/helloworld.proto', 'helloworld.Greeter');
 * ```
 *
 * Client- and bidirectional-streaming rpcs are left out of the definition (peers calling them get
 * UNIMPLEMENTED). The definition serves any transport; over `grpc://` it speaks Protobuf.
 */
export function defineServiceFromProto<T>(file: string | URL | Array<string | URL>, serviceName: string, options: ProtoServiceOptions = {}): ServiceDefinition<T> {
  const root = loadRoot(file, options);
  let service: Protobuf.Service;
  try {
    service = root.lookupService(serviceName);
  } catch {
    throw new RpcError(Code.NOT_FOUND, `no service ${JSON.stringify(serviceName)} in ${describe(file)}`);
  }
  const fullName = service.fullName.replace(/^\./, '');
  const methodOptions: Record<string, MethodOptions> = {};
  const protoMethods: ProtoMethod[] = [];
  for (const rpc of service.methodsArray) {
    if (rpc.requestStream === true) continue;
    rpc.resolve();
    const name = rpc.name[0]!.toLowerCase() + rpc.name.slice(1);
    const own = options.methods?.[name] ?? {};
    methodOptions[name] = { ...own, validate: oneMessage(name, own.validate) };
    if (rpc.responseStream === true) methodOptions[name].stream = 'server';
    protoMethods.push({
      name,
      protoName: rpc.name,
      path: `/${fullName}/${rpc.name}`,
      codec: messageCodec(rpc.resolvedRequestType!, rpc.resolvedResponseType!),
    });
  }
  for (const name of Object.keys(options.methods ?? {})) {
    if (methodOptions[name] === undefined) throw new RpcError(Code.INVALID_ARGUMENT, `${fullName} has no unary or server-streaming rpc ${name}`);
  }
  const definition = defineService<T>(fullName, {
    version: options.version,
    group: options.group,
    methods: methodOptions as DefineMethods<T>,
  });
  registerProtoService(definition as ServiceDefinition, protoService(fullName, protoMethods));
  return definition;
}

type DefineMethods<T> = Parameters<typeof defineService<T>>[1]['methods'];

function loadRoot(file: string | URL | Array<string | URL>, options: ProtoServiceOptions): Protobuf.Root {
  const files = (Array.isArray(file) ? file : [file]).map((f) => (f instanceof URL ? fileURLToPath(f) : resolve(f)));
  const includeDirs = (options.includeDirs ?? []).map((dir) => resolve(dir));
  const key = JSON.stringify([files, includeDirs, options.keepCase === true]);
  let root = roots.get(key);
  if (root === undefined) {
    const protobuf = protobufjs();
    root = new protobuf.Root();
    root.resolvePath = (origin, target) => {
      if (isAbsolute(target)) return target;
      const beside = origin === '' ? resolve(target) : resolve(dirname(origin), target);
      if (existsSync(beside)) return beside;
      for (const dir of includeDirs) {
        const candidate = resolve(dir, target);
        if (existsSync(candidate)) return candidate;
      }
      return beside;
    };
    try {
      root.loadSync(files, { keepCase: options.keepCase === true });
      root.resolveAll();
    } catch (error) {
      throw new RpcError(Code.INVALID_ARGUMENT, `cannot load ${describe(file)}: ${errorMessage(error)}`, { cause: error });
    }
    roots.set(key, root);
  }
  return root;
}

/** Requests and responses as Protobuf messages, converted from and to plain objects. */
function messageCodec(request: Protobuf.Type, response: Protobuf.Type): MethodCodec {
  return {
    name: 'proto',
    encodeRequest: (args) => {
      if (args.length !== 1) throw new RpcError(Code.INVALID_ARGUMENT, `a ${request.name} request takes one argument, not ${args.length}`);
      return encode(request, args[0], Code.INVALID_ARGUMENT, 'request');
    },
    decodeRequest: (bytes) => [decode(request, bytes, Code.INVALID_ARGUMENT)],
    encodeResponse: (value) => encode(response, value, Code.INTERNAL, 'response'),
    decodeResponse: (bytes) => decode(response, bytes, Code.INTERNAL),
  };
}

function encode(type: Protobuf.Type, value: unknown, code: Code, what: string): Uint8Array {
  if (typeof value !== 'object' || value === null) {
    throw new RpcError(code, `${what} must be a ${type.fullName.slice(1)} object, not ${value === null ? 'null' : typeof value}`);
  }
  try {
    return type.encode(type.fromObject(value as Record<string, unknown>)).finish();
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
    return type.toObject(type.decode(strictReader(bytes)), toObjectOptions);
  } catch (error) {
    throw new RpcError(code, `cannot decode ${type.fullName.slice(1)}: ${errorMessage(error)}`);
  }
}

/** Whatever the transport, a method of a `.proto` service takes exactly one message object. */
function oneMessage(method: string, own: ((args: unknown[]) => void) | undefined): (args: unknown[]) => void {
  return (args) => {
    if (args.length !== 1 || typeof args[0] !== 'object' || args[0] === null || Array.isArray(args[0])) {
      throw new RpcError(Code.INVALID_ARGUMENT, `${method} takes one argument, the request message as an object`);
    }
    own?.(args);
  };
}

function describe(file: string | URL | Array<string | URL>): string {
  return (Array.isArray(file) ? file : [file]).map(String).join(', ');
}
