import type { ServerHttp2Stream } from 'node:http2';
import type { CallTable, MethodEntry } from '../../core/call-table.js';
import { Code } from '../../core/code.js';
import { RpcError } from '../../core/rpc-error.js';
import { serviceId } from '../../core/service.js';
import type { SerializerSet } from '../../serialization/registry.js';
import { methodSerializer } from '../../serialization/serializer.js';
import { serializerCodec, type MethodCodec } from './codec.js';
// The Protobuf messages of grpc.health.v1.Health, which every server's call table provides.
import './health.js';
import { protoServiceOf, type ProtoMethod } from './proto-registry.js';
import type { Accepted, ExchangeEnv } from './exchange-env.js';
import { ReflectionRoutes } from './reflection/route.js';

/** A method found for a `:path`, with its codecs by content-subtype as they are asked for. */
export interface Route {
  readonly entry: MethodEntry;
  readonly proto: ProtoMethod | undefined;
  readonly codecs: Map<string, MethodCodec>;
  /** Serves the stream instead of `Exchange`, for a method the transport answers itself (server reflection). */
  readonly exchange?: ExchangeClass;
}

/** A stream handler with the constructor of `Exchange`. */
export type ExchangeClass = new (stream: ServerHttp2Stream, accepted: Accepted, env: ExchangeEnv) => object;

/**
 * Finds the method a request's `:path` (`/<package.Service>/<Method>`) names in the call table.
 * The path has no version or group: a request picks one with the `switchyard-version` and
 * `switchyard-group` headers, and without them gets the one service of that name the server
 * provides (or the one without version and group, if there are several). `.proto` services answer
 * to their rpc names (`SayHello`) and to the definition's method names (`sayHello`).
 */
export class Router {
  // Only methods found are kept, and the call table never loses one, so entries never go stale.
  private readonly found = new Map<string, Route>();
  /** Server reflection's routes, made when a request first names a service the call table lacks. */
  private reflection: ReflectionRoutes | undefined;

  constructor(
    private readonly table: CallTable,
    private readonly serializers: SerializerSet,
  ) {}

  resolve(path: string | undefined, version: string | undefined, group: string | undefined): Route | RpcError {
    const key = version === undefined && group === undefined ? (path ?? '') : `${path}\0${version ?? ''}\0${group ?? ''}`;
    const known = this.found.get(key);
    if (known !== undefined) return known;
    const route = this.lookup(path, version, group);
    if (!(route instanceof RpcError)) this.found.set(key, route);
    return route;
  }

  /** The server drains: open server reflection streams end once they have answered what they received. */
  drain(): void {
    this.reflection?.drain();
  }

  /** The codec for a content-subtype, or why the method cannot be called with it. */
  codec(route: Route, subtype: string): MethodCodec | RpcError {
    const known = route.codecs.get(subtype);
    if (known !== undefined) return known;
    let codec: MethodCodec;
    if (subtype === 'proto') {
      if (route.proto === undefined) {
        return new RpcError(Code.UNIMPLEMENTED, `service ${route.entry.service.key.name} is not described by a .proto; call it with application/grpc+msgpack or application/grpc+json`);
      }
      codec = route.proto.codec;
    } else {
      try {
        codec = serializerCodec(methodSerializer(this.serializers.named(subtype), route.entry.service, route.entry.method, 'server'));
      } catch {
        return new RpcError(Code.INVALID_ARGUMENT, `content-subtype ${JSON.stringify(subtype)} is not a serializer enabled on this server (enabled: proto, ${this.serializers.names.join(', ')})`);
      }
    }
    route.codecs.set(subtype, codec);
    return codec;
  }

  private lookup(path: string | undefined, version: string | undefined, group: string | undefined): Route | RpcError {
    const slash = path === undefined ? -1 : path.lastIndexOf('/');
    if (path === undefined || path[0] !== '/' || slash <= 1 || slash === path.length - 1) {
      return new RpcError(Code.UNIMPLEMENTED, `malformed path ${JSON.stringify(path)}: expected /<package.Service>/<Method>`);
    }
    const name = path.slice(1, slash);
    const method = path.slice(slash + 1);
    const ids = this.table.serviceIds;
    const sameName = ids.filter((id) => nameOf(id) === name);
    if (sameName.length === 0) {
      const reflection = (this.reflection ??= new ReflectionRoutes(this.table)).route(name, method);
      if (reflection !== undefined) return reflection;
    }
    let id: string;
    if (version !== undefined || group !== undefined) {
      id = serviceId({ name, version: version || undefined, group: group || undefined });
    } else if (sameName.length === 1) {
      id = sameName[0]!;
    } else if (sameName.length > 1 && !sameName.includes(name)) {
      return new RpcError(Code.NOT_FOUND, `this server provides ${sameName.join(', ')}: choose one with the switchyard-version and switchyard-group headers`);
    } else {
      id = name;
    }
    let entry = this.table.lookup(id, method);
    if (entry instanceof RpcError && entry.code === Code.UNIMPLEMENTED && /^[A-Z]/.test(method)) {
      const lowered = this.table.lookup(id, method[0]!.toLowerCase() + method.slice(1));
      if (!(lowered instanceof RpcError) && protoServiceOf(lowered.service)?.methods.get(lowered.method)?.protoName === method) entry = lowered;
    }
    if (entry instanceof RpcError) return entry;
    return { entry, proto: protoServiceOf(entry.service)?.methods.get(entry.method), codecs: new Map() };
  }
}

/** The name part of a service id `group/name:version`. */
function nameOf(id: string): string {
  const slash = id.indexOf('/');
  const colon = id.indexOf(':');
  return id.slice(slash + 1, colon === -1 ? undefined : colon);
}
