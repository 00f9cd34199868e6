/**
 * The browser build: calls Switchyard services over `http://` from a web page. Made only of the
 * core and the HTTP channel (which uses `fetch`), so it bundles without any Node built-in.
 *
 * ```ts
 * import { createHttpClient, defineService } from 'switchyard/browser';
 * const client = createHttpClient({ url: 'https://api.example.com' });
 * const calc = client.proxy(CalculatorService);
 * await calc.add(1, 2);
 * ```
 */
import { ClientCall } from './core/client-call.js';
import { Code } from './core/code.js';
import { chain, type Handler, type Interceptor } from './core/invocation.js';
import { Metadata, type MetadataInit } from './core/metadata.js';
import { buildProxy, type ServiceProxyOf } from './core/proxy.js';
import { RpcError } from './core/rpc-error.js';
import type { MethodNames, ServiceDefinition } from './core/service.js';
import { callDeadline } from './core/timer.js';
import { HttpChannel } from './transport/http/client.js';

export { Code, codeName } from './core/code.js';
export { RpcError, type ErrorDetails } from './core/rpc-error.js';
export { Metadata, type MetadataInit, type MetadataValue } from './core/metadata.js';
export { defineService, serviceId, type ServiceDefinition, type ServiceKey, type MethodOptions } from './core/service.js';
// Declares the `http` method option, so definitions shared with the server type-check here too.
export type { HttpRoute } from './transport/http/method-options.js';
export type { Invocation, Handler, Interceptor } from './core/invocation.js';

export interface HttpClientOptions {
  /** The server's address (`https://api.example.com`), or several, called in turn. */
  url: string | string[];
  /** Deadline of calls whose method and call options set none. */
  timeoutMs?: number;
  /** Interceptors around every call, the first outermost. */
  interceptors?: Interceptor[];
  /** Largest response read. Default 16 MiB. */
  maxResponseBytes?: number;
}

/** Options of one call, as with `createClient`. */
export interface HttpCallOptions {
  timeoutMs?: number;
  deadline?: number;
  signal?: AbortSignal;
  metadata?: MetadataInit;
  oneWay?: boolean;
  onResponseMetadata?: (metadata: Metadata) => void;
}

/** The typed stub of a service, as `createClient` makes it: an `AsyncIterable` only from methods typed to return one. */
export type HttpProxy<T> = ServiceProxyOf<T, HttpCallOptions>;

export interface HttpClient {
  proxy<T>(definition: ServiceDefinition<T>, options?: HttpCallOptions): HttpProxy<T>;
  invoke<T>(definition: ServiceDefinition<T>, method: MethodNames<T> | string, args: unknown[], options?: HttpCallOptions): Promise<unknown>;
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** A client of Switchyard HTTP servers for browsers (and anything else with `fetch`). */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const urls = Array.isArray(options.url) ? options.url : [options.url];
  if (urls.length === 0) throw new RpcError(Code.INVALID_ARGUMENT, 'a client needs at least one url');
  const channels = urls.map((url) => new HttpChannel(url, { maxResponseBytes: options.maxResponseBytes }));
  let next = 0;
  let closed = false;

  // Round robin; a call that provably never reached a server goes to the next one.
  const send: Handler = async (call) => {
    for (let attempt = 0; ; attempt++) {
      if (closed) throw new RpcError(Code.UNAVAILABLE, 'client is closed', { unprocessed: true });
      const channel = channels[next++ % channels.length]!;
      try {
        return await channel.call(call, call.service.id);
      } catch (error) {
        const retry = error instanceof RpcError && error.code === Code.UNAVAILABLE && error.unprocessed && attempt + 1 < channels.length;
        if (!retry) throw error;
      }
    }
  };
  const handler = chain(options.interceptors ?? [], send);

  function invoke(definition: ServiceDefinition, method: string, args: unknown[], callOptions: HttpCallOptions = {}): Promise<unknown> {
    const methodOptions = definition.methods.get(method);
    if (methodOptions === undefined) {
      return Promise.reject(new RpcError(Code.UNIMPLEMENTED, `method ${JSON.stringify(method)} is not declared by service ${definition.id}`, { unprocessed: true }));
    }
    let call: ClientCall;
    try {
      const timeoutMs = callOptions.timeoutMs ?? methodOptions.timeoutMs ?? options.timeoutMs;
      const deadline = callDeadline(timeoutMs, callOptions.deadline);
      const metadata = callOptions.metadata === undefined ? undefined : new Metadata(callOptions.metadata);
      call = new ClientCall(definition, method, args, metadata, deadline, callOptions.signal, callOptions.oneWay ?? methodOptions.oneWay ?? false, undefined);
    } catch (error) {
      return Promise.reject(RpcError.from(error));
    }
    const result = handler(call);
    const report = callOptions.onResponseMetadata;
    if (report === undefined) return result;
    return result.finally(() => report(call.receivedMetadata ?? new Metadata()));
  }

  return {
    proxy<T>(definition: ServiceDefinition<T>, proxyOptions: HttpCallOptions = {}): HttpProxy<T> {
      const service = definition as ServiceDefinition;
      return buildProxy<T, HttpCallOptions, HttpCallOptions>(definition, proxyOptions, {
        sender: (method, callOptions) => (args) => invoke(service, method, args, callOptions),
        merge: (base, over) => ({ ...base, ...over }),
      });
    },
    invoke: (definition, method, args, callOptions) => invoke(definition as ServiceDefinition, method, args, callOptions),
    async close(closeOptions = {}) {
      closed = true;
      await Promise.all(channels.map((channel) => channel.close(closeOptions.timeoutMs)));
    },
  };
}

