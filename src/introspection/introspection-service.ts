import type { CallTable } from '../core/call-table.js';
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { defineService, type MethodOptions, type ServiceDefinition, type StreamKind } from '../core/service.js';
import { answersTo } from './service-name.js';

/** One method as `describe` reports it: the options that matter to a caller. */
export interface MethodDescription {
  name: string;
  stream?: StreamKind;
  oneWay?: boolean;
  idempotent?: boolean;
  timeoutMs?: number;
}

/** One provided service as `describe` reports it. */
export interface ServiceDescription {
  /** `group/name:version` */
  id: string;
  name: string;
  version?: string;
  group?: string;
  methods: MethodDescription[];
}

/** `switchyard.Introspection`: what a running server provides. */
export interface Introspection {
  /** Every service the server provides (its own built-ins left out), or those whose name or id is `service`. */
  describe(request?: { service?: string }): Promise<{ services: ServiceDescription[] }>;
}

/**
 * The built-in service that tells callers what a server provides, on every transport.
 *
 * ```ts
 * const { services } = await client.proxy(IntrospectionService).describe({ service: 'shop.Orders' });
 * ```
 */
export const IntrospectionService = defineService<Introspection>('switchyard.Introspection', {
  methods: { describe: { idempotent: true } },
});

/** Answers `describe` from the call table as it is at the time of the call. */
export function introspectionService(table: CallTable): Introspection {
  return {
    async describe(request) {
      const wanted = typeof request?.service === 'string' && request.service !== '' ? request.service : undefined;
      const described = new Map<string, ServiceDescription>();
      for (const entry of table.entries()) {
        const service = entry.service;
        if (table.isBuiltin(service.id) || (wanted !== undefined && !answersTo(service.id, wanted))) continue;
        if (!described.has(service.id)) described.set(service.id, describeService(service));
      }
      if (wanted !== undefined && described.size === 0) throw new RpcError(Code.NOT_FOUND, `service ${JSON.stringify(wanted)} is not provided here`);
      return { services: [...described.values()] };
    },
  };
}

/** Plain data with no undefined fields, so that every serializer writes the same object. */
function describeService(definition: ServiceDefinition): ServiceDescription {
  const { name, version, group } = definition.key;
  const description: ServiceDescription = { id: definition.id, name, methods: [] };
  if (version !== undefined) description.version = version;
  if (group !== undefined) description.group = group;
  for (const [method, options] of definition.methods) description.methods.push(describeMethod(method, options));
  return description;
}

function describeMethod(name: string, options: Readonly<MethodOptions>): MethodDescription {
  const method: MethodDescription = { name };
  if (options.stream !== undefined) method.stream = options.stream;
  if (options.oneWay === true) method.oneWay = true;
  if (options.idempotent === true) method.idempotent = true;
  if (options.timeoutMs !== undefined) method.timeoutMs = options.timeoutMs;
  return method;
}
