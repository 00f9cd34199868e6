import { CallTable } from './core/call-table.js';
import { Code } from './core/code.js';
import type { Interceptor } from './core/invocation.js';
import { RpcError } from './core/rpc-error.js';
import type { ServiceDefinition } from './core/service.js';
import { connectionOptions, defaults, type ConnectionSettings } from './options.js';
import { SerializerSet } from './serialization/registry.js';
import type { Serializer } from './serialization/serializer.js';
import { createServerTransport } from './transport/registry.js';
import type { ServerTransport } from './transport/transport.js';

export interface ServerOptions extends ConnectionSettings {
  /** Addresses to listen on, e.g. `['tcp://127.0.0.1:20880']`; port 0 picks a free port. */
  listen: string[];
  /** Interceptors around every call, the first outermost. */
  interceptors?: Interceptor[];
  /** Serializers requests may use. Default: msgpack and json. */
  serializers?: Array<string | Serializer>;
}

export interface CloseOptions {
  /** How long in-flight calls may take to finish before they are cut off. Default 5000 ms. */
  timeoutMs?: number;
}

/** Exports services on one or more addresses. */
export interface Server {
  /** Makes `implementation` callable as `definition`; only the methods it declares are reachable. */
  provide<T>(definition: ServiceDefinition<T>, implementation: T): this;
  /** Starts every listener; resolves with the bound addresses, in the order given. */
  listen(): Promise<string[]>;
  /** The bound addresses (empty before `listen`). */
  readonly addresses: readonly string[];
  /** Stops accepting, says GOAWAY, lets calls in flight finish up to the timeout, then closes. */
  close(options?: CloseOptions): Promise<void>;
}

/**
 * ```ts
 * const server = createServer({ listen: ['tcp://127.0.0.1:0'] });
 * server.provide(CalculatorService, new CalculatorImpl());
 * const [address] = await server.listen();
 * ```
 */
export function createServer(options: ServerOptions): Server {
  if (options.listen.length === 0) throw new RpcError(Code.INVALID_ARGUMENT, 'a server needs at least one listen address');
  const table = new CallTable();
  const interceptors = options.interceptors ?? [];
  const logger = options.logger ?? defaults.logger;
  const context = { table, serializers: new SerializerSet(options.serializers ?? ['msgpack', 'json']), logger };
  const transportOptions = connectionOptions(options);
  let transports: ServerTransport[] = [];
  let addresses: string[] = [];
  let state: 'new' | 'listening' | 'closing' | 'closed' = 'new';

  const server: Server = {
    provide(definition, implementation) {
      table.provide(definition, implementation, interceptors);
      return server;
    },

    async listen() {
      if (state !== 'new') throw new RpcError(Code.FAILED_PRECONDITION, `server is ${state}`);
      state = 'listening';
      transports = options.listen.map((url) => createServerTransport(url, context, transportOptions));
      try {
        addresses = await Promise.all(transports.map((transport) => transport.listen()));
      } catch (error) {
        for (const transport of transports) transport.forceClose();
        state = 'closed';
        throw RpcError.from(error, Code.UNAVAILABLE);
      }
      logger.info({ addresses, services: table.serviceIds }, 'server listening');
      return addresses;
    },

    get addresses() {
      return addresses;
    },

    async close(closeOptions = {}) {
      if (state === 'closing' || state === 'closed') return;
      state = 'closing';
      const timeoutMs = closeOptions.timeoutMs ?? defaults.closeTimeoutMs;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const outcome = await Promise.race([Promise.all(transports.map((t) => t.drain())), timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        logger.warn({ timeoutMs }, 'close timed out; cutting off calls still in flight');
        for (const transport of transports) transport.forceClose();
      }
      state = 'closed';
    },
  };
  return server;
}
