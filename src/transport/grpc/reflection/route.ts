import type { ServerHttp2Stream } from 'node:http2';
import type { CallTable, MethodEntry } from '../../../core/call-table.js';
import { Code } from '../../../core/code.js';
import { RpcError } from '../../../core/rpc-error.js';
import { defineService, type ServiceDefinition } from '../../../core/service.js';
import type { Accepted, ExchangeEnv } from '../exchange-env.js';
import type { ExchangeClass, Route } from '../route.js';
import { ReflectionCatalog } from './catalog.js';
import { reflectionCodec, type ReflectionRequest, type ReflectionResponse } from './message-codec.js';
import { REFLECTION_V1, REFLECTION_V1ALPHA } from './reflection-proto.js';
import { ReflectionStream } from './stream.js';

/** The reflection service as the call gate sees it; its one method is a bidirectional stream the transport serves itself. */
interface ServerReflection {
  serverReflectionInfo(request: ReflectionRequest): Promise<ReflectionResponse>;
}

/**
 * `grpc.reflection.v1.ServerReflection` and its `v1alpha` twin, as definitions: what a gate's
 * policy names (`policy: { 'grpc.reflection.v1.ServerReflection': { public: true } }`).
 */
export const ServerReflectionV1Service = defineService<ServerReflection>(REFLECTION_V1, { methods: { serverReflectionInfo: {} } });
export const ServerReflectionV1alphaService = defineService<ServerReflection>(REFLECTION_V1ALPHA, { methods: { serverReflectionInfo: {} } });

const METHOD = 'ServerReflectionInfo';

function entryOf(service: ServiceDefinition): MethodEntry {
  return {
    service,
    method: 'serverReflectionInfo',
    options: {},
    // Never run: the route's own stream handler answers instead of the dispatcher.
    handler: () => Promise.reject(new RpcError(Code.UNIMPLEMENTED, `${service.key.name}/${METHOD} is served by the grpc transport only`)),
  };
}

const entries = new Map<string, MethodEntry>([
  [REFLECTION_V1, entryOf(ServerReflectionV1Service as ServiceDefinition)],
  [REFLECTION_V1ALPHA, entryOf(ServerReflectionV1alphaService as ServiceDefinition)],
]);

/**
 * The routes of server reflection on one listener, for its router: both versions answer from one
 * catalog of the listener's call table. A service of either name that the server provides itself
 * takes precedence (the router asks here only for names the call table lacks).
 */
export class ReflectionRoutes {
  private readonly open = new Set<ReflectionStream>();
  private readonly exchange: ExchangeClass;

  constructor(table: CallTable) {
    const catalog = new ReflectionCatalog(table);
    const open = this.open;
    this.exchange = class extends ReflectionStream {
      constructor(stream: ServerHttp2Stream, accepted: Accepted, env: ExchangeEnv) {
        super(stream, accepted, env, catalog, open);
      }
    };
  }

  /** The route of `/<name>/<method>`, or undefined when `name` is not a reflection service. */
  route(name: string, method: string): Route | RpcError | undefined {
    const entry = entries.get(name);
    if (entry === undefined) return undefined;
    if (method !== METHOD && method !== entry.method) return new RpcError(Code.UNIMPLEMENTED, `method ${JSON.stringify(method)} is not declared by service ${name}`);
    return {
      entry,
      proto: { name: entry.method, protoName: METHOD, path: `/${name}/${METHOD}`, codec: reflectionCodec },
      codecs: new Map(),
      exchange: this.exchange,
    };
  }

  /** The server drains: open reflection streams answer what they have received and end. */
  drain(): void {
    for (const stream of this.open) stream.drain();
  }
}
