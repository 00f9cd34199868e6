// What a running server says of its services through the built-in `switchyard.Introspection`
// service, read by `switchyard describe <url>` and by `switchyard call` to learn a method's options.
import type { Client } from '../client.js';
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import type { MethodOptions } from '../core/service.js';
import { IntrospectionService, type MethodDescription, type ServiceDescription } from '../introspection/index.js';

/** One method as a server describes it. */
export type MethodInfo = Readonly<MethodDescription>;

/** One provided service (one name, version and group) as a server describes it. */
export type ServiceInfo = Readonly<ServiceDescription>;

/**
 * The services named `service` that the server behind `client` (a client of one address) provides,
 * as it describes them; rejects as the call does: NOT_FOUND when it does not provide the service,
 * UNIMPLEMENTED or NOT_FOUND from a server without the introspection service.
 *
 * ```ts
 * const [calculator] = await introspect(createClient({ url: 'tcp://127.0.0.1:20880' }), 'demo.Calculator', 3000);
 * ```
 */
export async function introspect(client: Client, service: string, timeoutMs: number): Promise<ServiceInfo[]> {
  const answer = await client.invoke(IntrospectionService, 'describe', [{ service }], { timeoutMs });
  const services = (answer as { services?: unknown } | null)?.services;
  if (!Array.isArray(services)) throw new RpcError(Code.INTERNAL, 'the introspection service answered something other than { services: [...] }');
  return services.filter((info): info is ServiceInfo => isServiceInfo(info) && info.name === service);
}

/** The options a client needs to call `info`'s method `name` as the server serves it. */
export function methodOptions(info: MethodInfo | undefined): MethodOptions {
  if (info === undefined) return {};
  const options: MethodOptions = {};
  if (info.stream === 'server' || info.stream === 'client' || info.stream === 'bidi') options.stream = info.stream;
  if (info.oneWay === true) options.oneWay = true;
  if (info.idempotent === true) options.idempotent = true;
  if (typeof info.timeoutMs === 'number' && info.timeoutMs > 0) options.timeoutMs = info.timeoutMs;
  return options;
}

/** Whether an introspection failure only means "nothing to learn here", as opposed to "unreachable". */
export function notDescribed(error: unknown): boolean {
  const code = RpcError.from(error).code;
  return code !== Code.UNAVAILABLE && code !== Code.DEADLINE_EXCEEDED;
}

function isServiceInfo(value: unknown): value is ServiceInfo {
  if (typeof value !== 'object' || value === null) return false;
  const { name, methods } = value as { name?: unknown; methods?: unknown };
  return typeof name === 'string' && Array.isArray(methods) && methods.every((method) => typeof (method as { name?: unknown } | null)?.name === 'string');
}
