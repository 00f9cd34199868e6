import type * as Protobuf from 'protobufjs';
import type { ServiceDefinition } from '../../core/service.js';
import type { MethodCodec } from './codec.js';

/** One rpc of a `.proto` service as the gRPC transport needs it. */
export interface ProtoMethod {
  /** The definition's method name (`sayHello`). */
  readonly name: string;
  /** The name in the `.proto` and on the wire (`SayHello`). */
  readonly protoName: string;
  /** `/<package.Service>/<ProtoName>`. */
  readonly path: string;
  readonly codec: MethodCodec;
}

/** The Protobuf side of a service definition made from a `.proto`. */
export interface ProtoService {
  /** `package.Service`, the definition's name. */
  readonly fullName: string;
  /** By the definition's method name. */
  readonly methods: ReadonlyMap<string, ProtoMethod>;
  /** By the name on the wire. */
  readonly byProtoName: ReadonlyMap<string, ProtoMethod>;
  /** The service as protobufjs loaded it, with its file and imports (server reflection describes it). */
  readonly source?: Protobuf.Service;
}

// Keyed by the definition itself: two versions of one service may come from different files.
const services = new WeakMap<ServiceDefinition, ProtoService>();

export function registerProtoService(definition: ServiceDefinition, service: ProtoService): void {
  services.set(definition, service);
}

/** The Protobuf types of a definition, or undefined for one made by `defineService`. */
export function protoServiceOf(definition: ServiceDefinition): ProtoService | undefined {
  return services.get(definition);
}

/** Builds the lookup tables of a service from its methods. */
export function protoService(fullName: string, methods: ProtoMethod[], source?: Protobuf.Service): ProtoService {
  return {
    fullName,
    methods: new Map(methods.map((method) => [method.name, method])),
    byProtoName: new Map(methods.map((method) => [method.protoName, method])),
    source,
  };
}
