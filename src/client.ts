import { failover } from './cluster/failover.js';
import { roundRobin } from './cluster/load-balancer.js';
import { ClientCall } from './core/client-call.js';
import { Code } from './core/code.js';
import { chain, type Handler, type Interceptor } from './core/invocation.js';
import { Metadata, type MetadataInit } from './core/metadata.js';
import { RpcError } from './core/rpc-error.js';
import type { MethodNames, ServiceDefinition } from './core/service.js';
import { connectionOptions, defaults, type ConnectionSettings } from './options.js';
import { SerializerSet } from './serialization/registry.js';
import type { Serializer } from './serialization/serializer.js';
import type { BackoffOptions } from './transport/backoff.js';
import { createChannel } from './transport/registry.js';
import type { Channel } from './transport/transport.js';

export interface ClientOptions extends ConnectionSettings {
  /** Provider address, or several for the same services: calls are spread over them. */
  url: string | string[];
  /** Serializer of requests. Default `msgpack`. */
  serializer?: string | Serializer;
  /** Deadline of calls whose method and call options set none. Default: no deadline. */
  timeoutMs?: number;
  /** Interceptors around every call, the first outermost. */
  interceptors?: Interceptor[];
  /** Further providers to try when a call fails before any server ran it. Default 2. */
  retries?: number;
  connectTimeoutMs?: number;
  backoff?: Partial<BackoffOptions>;
}

/** Options of one call; they override the method's and the client's. */
export interface CallOptions {
  /** Deadline, counted from now. */
  timeoutMs?: number;
  /** Deadline as absolute epoch milliseconds; wins over `timeoutMs`. */
  deadline?: number;
  /** Cancels the call: the server's handler sees its own signal fire. */
  signal?: AbortSignal;
  metadata?: MetadataInit;
  /** Send without waiting for (or getting) a response. */
  oneWay?: boolean;
  /** Receives the metadata the server sent back with its response. */
  onResponseMetadata?: (metadata: Metadata) => void;
}

type Method<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;

/** A remote method: call it like the local one, or `.with(options)` first for per-call options. */
export type ProxyMethod<F> = Method<F> & { with(options: CallOptions): Method<F> };

/** The typed stub of a service: exactly its declared methods. */
export type ServiceProxy<T> = { readonly [K in MethodNames<T>]: ProxyMethod<T[K]> };

export interface Client {
  /**
   * A typed stub: `await calc.add(1, 2)`, or with options `await calc.add.with({ timeoutMs: 100 })(1, 2)`.
   * `defaults` apply to every call made through this proxy.
   */
  proxy<T>(definition: ServiceDefinition<T>, defaults?: CallOptions): ServiceProxy<T>;
  /** Calls a method by name, for generic code. */
  invoke<T>(definition: ServiceDefinition<T>, method: MethodNames<T> | string, args: unknown[], options?: CallOptions): Promise<unknown>;
  /** Lets calls in flight finish (up to the timeout, default 5000 ms), then closes every connection. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/**
 * ```ts
 * const client = createClient({ url: 'tcp://127.0.0.1:20880' });
 * const calc = client.proxy(CalculatorService);
 * await calc.add(1, 2);
 * ```
 */
export function createClient(options: ClientOptions): Client {
  const urls = Array.isArray(options.url) ? options.url : [options.url];
  if (urls.length === 0) throw new RpcError(Code.INVALID_ARGUMENT, 'a client needs at least one provider url');
  const serializers = new SerializerSet([options.serializer ?? defaults.serializer, 'json']);
  const serializer = typeof options.serializer === 'object' ? options.serializer : serializers.named(options.serializer ?? defaults.serializer);
  const channelOptions = {
    ...connectionOptions(options),
    connectTimeoutMs: options.connectTimeoutMs ?? defaults.connectTimeoutMs,
    backoff: { ...defaults.backoff, ...options.backoff },
    serializers,
  };
  const channels: Channel[] = urls.map((url) => createChannel(url, channelOptions));
  const balancer = roundRobin();
  const retries = options.retries ?? defaults.retries;
  let closed = false;

  const send: Handler = (call) => {
    if (closed) return Promise.reject(new RpcError(Code.UNAVAILABLE, 'client is closed', { unprocessed: true }));
    return failover(call, channels, balancer, (channel) => channel.call(call, serializer), retries);
  };
  const handler = chain(options.interceptors ?? [], send);

  function invoke(definition: ServiceDefinition, method: string, args: unknown[], callOptions: CallOptions = {}): Promise<unknown> {
    try {
      return start(definition, method, args, callOptions);
    } catch (error) {
      // Bad options (e.g. an invalid metadata key) or a throwing interceptor: still a rejection.
      return Promise.reject(RpcError.from(error));
    }
  }

  function start(definition: ServiceDefinition, method: string, args: unknown[], callOptions: CallOptions): Promise<unknown> {
    const methodOptions = definition.methods.get(method);
    if (methodOptions === undefined) {
      return Promise.reject(new RpcError(Code.UNIMPLEMENTED, `method ${JSON.stringify(method)} is not declared by service ${definition.id}`, { unprocessed: true }));
    }
    if (!Array.isArray(args)) return Promise.reject(new RpcError(Code.INVALID_ARGUMENT, 'args must be an array', { unprocessed: true }));
    const timeoutMs = callOptions.timeoutMs ?? methodOptions.timeoutMs ?? options.timeoutMs;
    const deadline = callOptions.deadline ?? (timeoutMs === undefined ? undefined : Date.now() + timeoutMs);
    const metadata = callOptions.metadata === undefined ? undefined : new Metadata(callOptions.metadata);
    const call = new ClientCall(definition, method, args, metadata, deadline, callOptions.signal, callOptions.oneWay ?? methodOptions.oneWay ?? false);
    const result = handler(call);
    const onResponse = callOptions.onResponseMetadata;
    if (onResponse === undefined) return result;
    const report = () => onResponse(call.receivedMetadata ?? new Metadata());
    return result.then(
      (value) => {
        report();
        return value;
      },
      (error: unknown) => {
        report();
        throw error;
      },
    );
  }

  return {
    proxy<T>(definition: ServiceDefinition<T>, proxyDefaults: CallOptions = {}): ServiceProxy<T> {
      const stub = Object.create(null) as Record<string, unknown>;
      for (const method of definition.methods.keys()) {
        const bound = (callOptions: CallOptions) => (...args: unknown[]) => invoke(definition as ServiceDefinition, method, args, callOptions);
        const plain = bound(proxyDefaults);
        Object.defineProperty(plain, 'with', { value: (callOptions: CallOptions) => bound(merge(proxyDefaults, callOptions)) });
        Object.defineProperty(plain, 'name', { value: method });
        stub[method] = plain;
      }
      return Object.freeze(stub) as ServiceProxy<T>;
    },

    invoke: (definition, method, args, callOptions) => invoke(definition as ServiceDefinition, method, args, callOptions),

    async close(closeOptions = {}) {
      if (closed) return;
      closed = true;
      await Promise.all(channels.map((channel) => channel.close(closeOptions.timeoutMs ?? defaults.closeTimeoutMs)));
    },
  };
}

function merge(base: CallOptions, over: CallOptions): CallOptions {
  if (base.metadata === undefined || over.metadata === undefined) return { ...base, ...over };
  const metadata = new Metadata(base.metadata);
  for (const [key, value] of new Metadata(over.metadata)) metadata.set(key, value);
  return { ...base, ...over, metadata };
}
