import type { Attributes, Span, SpanStatusCode } from '@opentelemetry/api';
import { Code, codeName } from '../../core/code.js';
import type { RpcError } from '../../core/rpc-error.js';
import type { ServiceDefinition } from '../../core/service.js';

/*
 * The OpenTelemetry semantic conventions for RPC spans, as Switchyard fills them in:
 * https://opentelemetry.io/docs/specs/semconv/rpc/rpc-spans/ (and grpc.md beside it).
 */

export const ATTR_RPC_SYSTEM = 'rpc.system';
export const ATTR_RPC_SERVICE = 'rpc.service';
export const ATTR_RPC_METHOD = 'rpc.method';
export const ATTR_RPC_GRPC_STATUS_CODE = 'rpc.grpc.status_code';
export const ATTR_SERVER_ADDRESS = 'server.address';
export const ATTR_SERVER_PORT = 'server.port';
export const ATTR_NETWORK_TRANSPORT = 'network.transport';
export const ATTR_ERROR_TYPE = 'error.type';
/** The call's outcome by code name (`OK`, `NOT_FOUND`, …) on spans whose system is not gRPC. */
export const ATTR_SWITCHYARD_CODE = 'rpc.switchyard.code';
/** The URL scheme an attempt used: `tcp`, `http`, `grpc`, `amqp`, … */
export const ATTR_SWITCHYARD_PROTOCOL = 'rpc.switchyard.protocol';
export const ATTR_SWITCHYARD_VERSION = 'rpc.switchyard.version';
export const ATTR_SWITCHYARD_GROUP = 'rpc.switchyard.group';
/** On a logical call's span: how many attempts it made at providers. */
export const ATTR_SWITCHYARD_ATTEMPTS = 'rpc.switchyard.attempts';
export const ATTR_SWITCHYARD_REQUEST_BYTES = 'rpc.switchyard.request_bytes';
export const ATTR_SWITCHYARD_RESPONSE_BYTES = 'rpc.switchyard.response_bytes';

export const SYSTEM_SWITCHYARD = 'switchyard';
export const SYSTEM_GRPC = 'grpc';

const spanNames = new WeakMap<ServiceDefinition, Map<string, string>>();

/**
 * `<service name>/<method>`, the span name the conventions ask for: `demo.Calculator/add`.
 * Version and group are attributes, so that every version's calls share a name.
 */
export function spanNameOf(service: ServiceDefinition, method: string): string {
  let names = spanNames.get(service);
  if (names === undefined) spanNames.set(service, (names = new Map()));
  let name = names.get(method);
  if (name === undefined) names.set(method, (name = `${service.key.name}/${method}`));
  return name;
}

/** The attributes every span of a call has: system, service, method, and the key's version and group. */
export function callAttributes(service: ServiceDefinition, method: string, system: string): Attributes {
  const attributes: Attributes = { [ATTR_RPC_SYSTEM]: system, [ATTR_RPC_SERVICE]: service.key.name, [ATTR_RPC_METHOD]: method };
  if (service.key.version !== undefined) attributes[ATTR_SWITCHYARD_VERSION] = service.key.version;
  if (service.key.group !== undefined) attributes[ATTR_SWITCHYARD_GROUP] = service.key.group;
  return attributes;
}

/** The `rpc.system` of a protocol: gRPC's own name for `grpc://` and `grpcs://`, Switchyard's for the rest. */
export function systemOf(protocol: string): string {
  return protocol === 'grpc' || protocol === 'grpcs' ? SYSTEM_GRPC : SYSTEM_SWITCHYARD;
}

// Every built-in transport runs over TCP (AMQP to its broker); a scheme not listed gets no attribute.
const overTcp = new Set(['tcp', 'tls', 'http', 'https', 'grpc', 'grpcs', 'amqp', 'amqps']);

/** `network.transport` of a protocol, or undefined when it is not known. */
export function networkTransportOf(protocol: string): string | undefined {
  return overTcp.has(protocol) ? 'tcp' : undefined;
}

/*
 * Codes that are the server's own fault. A server span reports only these as errors; the others
 * (a bad argument, a missing permission, a cancel) are the caller's, as the gRPC conventions say.
 */
const serverFaults: ReadonlySet<number> = new Set([Code.UNKNOWN, Code.DEADLINE_EXCEEDED, Code.UNIMPLEMENTED, Code.INTERNAL, Code.UNAVAILABLE]);

/** Which side of a call a span describes. */
export type Side = 'server' | 'client';

/**
 * Records how a call ended on its span: the code, and for a failure `error.type` and status
 * ERROR with the code's name and the message. A success leaves the status unset, as the API asks
 * of instrumentation (OK is the application's to set).
 */
export function recordOutcome(span: Span, system: string, side: Side, error: RpcError | undefined): void {
  const code = error === undefined ? Code.OK : error.code;
  if (system === SYSTEM_GRPC) span.setAttribute(ATTR_RPC_GRPC_STATUS_CODE, code);
  else span.setAttribute(ATTR_SWITCHYARD_CODE, codeName(code));
  if (error === undefined || (side === 'server' && !serverFaults.has(code))) return;
  const name = codeName(code);
  span.setAttribute(ATTR_ERROR_TYPE, name);
  span.setStatus({ code: 2 as SpanStatusCode.ERROR, message: `${name}: ${error.message}` });
  // On the server the cause carries the handler's own stack: worth an exception event there.
  if (side === 'server') span.recordException(error.cause instanceof Error ? error.cause : error);
}
