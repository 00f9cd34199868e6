import type { Metadata } from './metadata.js';
import type { Principal } from './principal.js';
import type { ServiceDefinition } from './service.js';

/**
 * One call as it passes through interceptors, on the client and on the server alike.
 */
export interface Invocation {
  readonly service: ServiceDefinition;
  readonly method: string;
  args: unknown[];
  /** Request metadata; interceptors may add to it before the call leaves. */
  readonly metadata: Metadata;
  /** Metadata that comes back with the response (client) or goes back with it (server). */
  readonly responseMetadata: Metadata;
  /** Absolute epoch milliseconds, or undefined for no deadline. */
  readonly deadline: number | undefined;
  /** Fires when the caller cancels, the deadline passes or the server shuts down hard. */
  readonly signal: AbortSignal | undefined;
  readonly oneWay: boolean;
  /**
   * On the server, who is calling, as its gate or its client certificate established; undefined
   * for an anonymous caller, and on the client.
   */
  readonly principal?: Principal;
  /** Options of this call for one transport only, under its scheme; absent when the caller gave none. */
  readonly transportOptions?: Readonly<TransportCallOptions>;
}

/**
 * Call options that only one transport understands, each under the transport's URL scheme (the
 * `amqp` entry, say). The core carries them without reading them. A transport declares its entry
 * from its own folder, so that the core names no transport and callers are still type-checked:
 *
 * ```ts
 * declare module '../../core/invocation.js' {
 *   interface TransportCallOptions { amqp?: AmqpCallOptions }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- each transport adds its entry
export interface TransportCallOptions {}

/** The last step of a chain: sends the call (client) or runs the implementation (server). */
export type Handler = (call: Invocation) => Promise<unknown>;

/**
 * Wraps the next step of a call. The same shape serves clients and servers:
 *
 * ```ts
 * const logCalls: Interceptor = (next) => async (call) => {
 *   console.log('calling', call.method);
 *   return next(call);
 * };
 * ```
 */
export type Interceptor = (next: Handler) => Handler;

/** Builds a chain in which the first interceptor is the outermost one. */
export function chain(interceptors: readonly Interceptor[], last: Handler): Handler {
  let handler = last;
  for (let i = interceptors.length - 1; i >= 0; i--) handler = interceptors[i]!(handler);
  return handler;
}
