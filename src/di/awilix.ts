import { asFunction, type AwilixContainer } from 'awilix';
import type { CallOptions, Client, ServiceProxy } from '../client.js';
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import type { ServiceDefinition } from '../core/service.js';
import type { ReferenceOptions } from '../reference.js';
import type { CloseOptions, Server } from '../server.js';
import { expectDefinition } from './decorator-context.js';
import { Endpoints, type EndpointOptions } from './endpoints.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the definition of any service
type AnyDefinition = ServiceDefinition<any>;

/** A proxy to register: a definition, or a definition with the options of `client.proxy`. */
export type AwilixReference = AnyDefinition | readonly [AnyDefinition, (ReferenceOptions & CallOptions)?];

/** The cradle entries that `references` adds: `{ calculator: ServiceProxy<Calculator> }`. */
export type ReferenceProxies<R extends Record<string, AwilixReference>> = {
  [K in keyof R]: R[K] extends readonly [ServiceDefinition<infer T>, unknown?] ? ServiceProxy<T> : R[K] extends ServiceDefinition<infer T> ? ServiceProxy<T> : never;
};

export interface AwilixSwitchyardOptions<R extends Record<string, AwilixReference>> extends EndpointOptions {
  /**
   * Proxies to register as singletons, by name: `{ calculator: CalculatorService }`, or with
   * reference and call options `{ calculator: [CalculatorService, { version: '^2.0.0' }] }`.
   */
  references?: R;
  /**
   * Registrations the server provides, by name, each with the service (or services) it
   * implements: `{ calculatorImpl: CalculatorService }`. They are resolved from the container by
   * `start()`, so they may depend on anything registered, proxies included.
   */
  providers?: Record<string, AnyDefinition | readonly AnyDefinition[]>;
  /** The name of the lifecycle object registered in the container. Default `switchyard`. */
  name?: string;
}

/** The lifecycle of what `registerSwitchyard` added; also registered under its `name`. */
export interface AwilixSwitchyard {
  readonly client: Client;
  readonly server: Server | undefined;
  /** Resolves the providers, provides them and starts the server; resolves with its addresses. */
  start(): Promise<string[]>;
  /** The server drains, then the client closes (what was made from options, or started). Also run by `container.dispose()`. */
  close(options?: CloseOptions): Promise<void>;
}

/**
 * Registers Switchyard proxies in an awilix container and provides services resolved from it.
 * `container.dispose()` closes the server, then the client; awilix runs disposers at the same
 * time, so when providers need other disposable registrations while they drain, call
 * `await switchyard.close()` before `container.dispose()`.
 *
 * ```ts
 * const switchyard = registerSwitchyard(container, {
 *   server: { listen: ['tcp://127.0.0.1:0'] },
 *   references: { calculator: [CalculatorService, { version: '^2.0.0' }] },
 *   providers: { billing: BillingService },     // registered in `container` by you
 * });
 * await switchyard.start();
 * ```
 */
export function registerSwitchyard<R extends Record<string, AwilixReference> = Record<never, never>>(
  container: AwilixContainer, options: AwilixSwitchyardOptions<R> = {}): AwilixSwitchyard {
  const name = options.name ?? 'switchyard';
  const providers = Object.entries(options.providers ?? {}).map(([registration, services]) => {
    const definitions: readonly ServiceDefinition[] = Array.isArray(services) ? services : [services as ServiceDefinition];
    for (const definition of definitions) expectDefinition(definition, `providers.${registration}`);
    return { registration, definitions };
  });
  const references = Object.entries(options.references ?? {}).map(([registration, entry]) => {
    const [definition, referenceOptions] = Array.isArray(entry) ? entry as [ServiceDefinition, (ReferenceOptions & CallOptions)?] : [entry as ServiceDefinition];
    expectDefinition(definition, `references.${registration}`);
    return { registration, definition, referenceOptions };
  });
  const endpoints = new Endpoints(options);
  let started = false;
  const switchyard: AwilixSwitchyard = {
    get client() {
      return endpoints.client;
    },
    get server() {
      return endpoints.server;
    },
    async start() {
      if (started) throw new RpcError(Code.FAILED_PRECONDITION, 'registerSwitchyard: already started');
      const server = endpoints.server;
      if (server === undefined && providers.length > 0) {
        throw new RpcError(Code.FAILED_PRECONDITION, `${providers[0]!.registration} is to be provided, but no server was given: pass { server: { listen: [...] } }`);
      }
      started = true;
      if (server === undefined) return [];
      for (const { registration, definitions } of providers) {
        const implementation: unknown = container.resolve(registration);
        for (const definition of definitions) server.provide(definition, implementation);
      }
      return endpoints.listen();
    },
    close: onlyOnce((closeOptions?: CloseOptions) => endpoints.close(closeOptions)),
  };
  for (const { registration, definition, referenceOptions } of references) {
    container.register(registration, asFunction(() => endpoints.client.proxy(definition, referenceOptions)).singleton());
  }
  container.register(name, asFunction(() => switchyard).singleton().disposer((value) => value.close()));
  // Resolved now, so that it sits in the cache whose entries dispose() disposes of.
  container.resolve(name);
  return switchyard;
}

function onlyOnce<A extends unknown[]>(run: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  let running: Promise<void> | undefined;
  return (...args) => (running ??= run(...args));
}
