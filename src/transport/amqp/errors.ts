import { Code } from '../../core/code.js';
import { RpcError, errorMessage } from '../../core/rpc-error.js';
import { isTlsFailure, tlsFailure } from '../tls/errors.js';

/**
 * The one place where broker failures become status codes:
 *
 * | broker says | code |
 * | --- | --- |
 * | connection refused, lost, closed by the broker (320), timed out | `UNAVAILABLE` |
 * | login refused (403 during the handshake) | `UNAUTHENTICATED` |
 * | access refused to a vhost, exchange or queue (403, 530) | `PERMISSION_DENIED` |
 * | a name exists with other arguments (406), or is locked by another connection (405) | `FAILED_PRECONDITION` |
 * | a request returned as unroutable (mandatory flag) | `UNAVAILABLE`, never processed |
 * | a request refused by a full queue (negative confirm, `x-overflow: reject-publish`) | `RESOURCE_EXHAUSTED`, never processed |
 */
export function brokerError(error: unknown, doing: string): RpcError {
  if (isRpcError(error)) return error;
  const message = `${doing}: ${errorMessage(error)}`;
  const code = codeOf(error);
  if (code === 403 || code === 530 || /ACCESS[-_]REFUSED/.test(message)) {
    const login = /login|auth|PLAIN|credentials/i.test(message);
    return new RpcError(login ? Code.UNAUTHENTICATED : Code.PERMISSION_DENIED, message, { cause: error, unprocessed: true });
  }
  if (code === 406 || code === 405 || /PRECONDITION[-_]FAILED|RESOURCE[-_]LOCKED/.test(message)) {
    return new RpcError(Code.FAILED_PRECONDITION, message, { cause: error, unprocessed: true });
  }
  return new RpcError(Code.UNAVAILABLE, message, { cause: error, unprocessed: true });
}

/**
 * A failed attempt to connect to the broker: a TLS failure (`amqps://`) names its cause, as every
 * TLS transport does; a plaintext connection the broker dropped or reset before the AMQP handshake
 * finished (what a TLS listener does to a plaintext client) says that it may be a TLS port; the
 * rest as `brokerError`.
 */
export function connectError(error: unknown, url: string, secure: boolean, doing: string): RpcError {
  if (secure && isTlsFailure(error)) return tlsFailure(error, brokerAddress(url));
  const failure = brokerError(error, doing);
  // RabbitMQ's TLS listener ends a plaintext client's connection with a FIN or, as often, a reset.
  if (secure || !/closed abruptly during opening handshake|ECONNRESET/i.test(failure.message)) return failure;
  return new RpcError(failure.code, `${failure.message} (a TLS listener closes or resets a plaintext AMQP connection this way: if it is one, use an amqps:// address)`, { cause: error, unprocessed: true });
}

/** `amqps://host:port` of a broker URL, without credentials, vhost and options. */
function brokerAddress(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}`;
}

export function unroutable(what: string): RpcError {
  return new RpcError(Code.UNAVAILABLE, `no server is bound for ${what} (returned by the broker as unroutable)`, { unprocessed: true });
}

export function queueFull(what: string): RpcError {
  return new RpcError(Code.RESOURCE_EXHAUSTED, `the broker refused the request for ${what}: its queue is full (maxQueueLength)`, { unprocessed: true });
}

export function connectionLost(reason: RpcError, address: string): RpcError {
  return new RpcError(Code.UNAVAILABLE, `${reason.message} (call to ${address})`, { cause: reason });
}

/** The AMQP reply code an amqplib error carries (e.g. 541), read without trusting the value. */
export function codeOf(error: unknown): unknown {
  try {
    return (error as { code?: unknown } | null | undefined)?.code;
  } catch {
    return undefined;
  }
}

// instanceof runs a Proxy's getPrototypeOf trap, which may throw.
function isRpcError(value: unknown): value is RpcError {
  try {
    return value instanceof RpcError;
  } catch {
    return false;
  }
}

/**
 * A streaming method over AMQP: refused by the client before anything is published, and by the
 * server for a caller that sends one anyway. Request-reply over a broker has no flow control
 * between the two ends and loses order across redeliveries, so it carries no streams.
 */
export function noStreams(serviceId: string, method: string): RpcError {
  return new RpcError(Code.UNIMPLEMENTED, `${serviceId}.${method} streams, and amqp:// carries no streams; call it over tcp://, grpc:// or http://`);
}
