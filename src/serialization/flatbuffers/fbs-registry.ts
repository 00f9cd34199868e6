import type { ServiceDefinition } from '../../core/service.js';
import type { FbsObject } from './schema.js';
import type { SchemaCodec } from './schema-codec.js';

/** One rpc of a `.fbs` service, as serializers and transports need it. */
export interface FbsMethod {
  /** The definition's method name (`place`). */
  readonly name: string;
  /** The name in the `.fbs` (`Place`). */
  readonly fbsName: string;
  readonly request: FbsObject;
  readonly response: FbsObject;
  /** Whether the method takes a stream of requests (`streaming: "client"` or `"bidi"`). */
  readonly takesStream: boolean;
  readonly codec: SchemaCodec;
}

/** The FlatBuffers side of a service definition made from a `.fbs`. */
export interface FbsService {
  /** `namespace.Service`, the definition's name. */
  readonly fullName: string;
  /** By the definition's method name. */
  readonly methods: ReadonlyMap<string, FbsMethod>;
}

// Keyed by the definition itself: two versions of one service may come from different schemas.
const services = new WeakMap<ServiceDefinition, FbsService>();

export function registerFbsService(definition: ServiceDefinition, service: FbsService): void {
  services.set(definition, service);
}

/** The FlatBuffers messages of a definition, or undefined for one not made by `defineServiceFromFbs`. */
export function fbsServiceOf(definition: ServiceDefinition): FbsService | undefined {
  return services.get(definition);
}
