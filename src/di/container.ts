import type { Client } from '../client.js';
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import type { CloseOptions, Server } from '../server.js';
import { build, type Constructor, type Injector } from './construction.js';
import { nameOf } from './decorator-context.js';
import { Endpoints, type EndpointOptions } from './endpoints.js';
import { providedServices } from './provide.js';
import type { ReferenceDeclaration } from './reference-field.js';

export interface ContainerOptions extends EndpointOptions {
  /** Classes to register at once, as singletons. */
  classes?: readonly Constructor[];
}

export interface RegisterOptions {
  /** `singleton` (the default): one instance for the container's life. `transient`: a new one for each `get` and `@Inject`. */
  lifetime?: 'singleton' | 'transient';
}

/**
 * Builds registered classes with their `@Reference` and `@Inject` fields filled, provides the
 * `@Provide` classes on its server, and closes everything in order.
 *
 * ```ts
 * const container = createContainer({ server: { listen: ['tcp://127.0.0.1:0'] }, classes: [CalculatorImpl, Billing] });
 * await container.start();                       // provides CalculatorImpl, listens
 * await container.get(Billing).total([1, 2]);    // Billing calls through its injected proxy
 * await container.close();                       // the server drains, then the client closes
 * ```
 */
export function createContainer(options: ContainerOptions = {}): Container {
  return new Container(options);
}

export class Container {
  readonly #endpoints: Endpoints;
  readonly #lifetimes = new Map<Constructor<unknown>, 'singleton' | 'transient'>();
  /** In the order they were made, so that they are disposed of in the reverse one. */
  readonly #singletons = new Map<Constructor<unknown>, unknown>();
  /** Instances handed to the server, which disposes of them when it closes. */
  readonly #served = new Set<unknown>();
  readonly #proxies = new Map<ReferenceDeclaration, unknown>();
  /** The classes being built, outermost first: a class met twice depends on itself. */
  readonly #path: Constructor<unknown>[] = [];
  #state: 'new' | 'started' | 'closing' | 'closed' = 'new';
  #closing: Promise<void> | undefined;
  readonly #injector: Injector = {
    reference: (declaration) => this.#proxy(declaration),
    get: (target) => this.get(target),
  };

  constructor(options: ContainerOptions = {}) {
    this.#endpoints = new Endpoints(options);
    for (const target of options.classes ?? []) this.register(target);
  }

  /** The client the proxies come from (made now if it was given as options and not made yet). */
  get client(): Client {
    return this.#endpoints.client;
  }

  /** The server the `@Provide` classes are provided on, if the container has one. */
  get server(): Server | undefined {
    return this.#endpoints.server;
  }

  /** Makes `target` available to `get` and `@Inject`; a `@Provide` class registered after `start()` is provided at once. */
  register(target: Constructor, options: RegisterOptions = {}): this {
    if (typeof target !== 'function') throw new RpcError(Code.INVALID_ARGUMENT, 'register takes a class');
    if (this.#state === 'closing' || this.#state === 'closed') throw new RpcError(Code.FAILED_PRECONDITION, `the container is ${this.#state}`);
    if (this.#lifetimes.has(target)) throw new RpcError(Code.FAILED_PRECONDITION, `${nameOf(target)} is already registered in this container`);
    const lifetime = options.lifetime ?? 'singleton';
    if (lifetime !== 'singleton' && lifetime !== 'transient') throw new RpcError(Code.INVALID_ARGUMENT, `lifetime must be 'singleton' or 'transient', not ${JSON.stringify(lifetime)}`);
    if (lifetime === 'transient' && providedServices(target).length > 0) {
      throw new RpcError(Code.INVALID_ARGUMENT, `${nameOf(target)} has @Provide, so it is a singleton: the server calls one instance`);
    }
    const provideNow = this.#state === 'started' && providedServices(target).length > 0;
    if (provideNow) this.#expectServerFor(target);
    this.#lifetimes.set(target, lifetime);
    if (provideNow) this.#provide(target);
    return this;
  }

  /** The instance of a registered class: the container's one for a singleton, a new one for a transient class. */
  get<T>(target: Constructor<T>): T {
    if (this.#state === 'closed') throw new RpcError(Code.FAILED_PRECONDITION, 'the container is closed');
    const lifetime = this.#lifetimes.get(target);
    if (lifetime === undefined) {
      const name = nameOf(target);
      throw new RpcError(Code.FAILED_PRECONDITION, `${name} is not registered in this container: call container.register(${name}) first`);
    }
    if (this.#singletons.has(target)) return this.#singletons.get(target) as T;
    if (this.#path.includes(target)) {
      const cycle = [...this.#path.slice(this.#path.indexOf(target)), target].map(nameOf).join(' -> ');
      throw new RpcError(Code.FAILED_PRECONDITION, `circular injection: ${cycle}`);
    }
    this.#path.push(target);
    let instance: T;
    try {
      instance = build(target, this.#injector);
    } finally {
      this.#path.pop();
    }
    if (lifetime === 'singleton') this.#singletons.set(target, instance);
    return instance;
  }

  /** Provides every registered `@Provide` class on the server, then starts it; resolves with its addresses. */
  async start(): Promise<string[]> {
    if (this.#state !== 'new') throw new RpcError(Code.FAILED_PRECONDITION, `the container is ${this.#state}`);
    const providers = [...this.#lifetimes.keys()].filter((target) => providedServices(target).length > 0);
    for (const target of providers) this.#expectServerFor(target);
    this.#state = 'started';
    for (const target of providers) this.#provide(target);
    return this.server === undefined ? [] : this.#endpoints.listen();
  }

  /**
   * Closes what the container made or started: the server first (it stops taking calls and lets
   * those in flight finish, which may still call other services), then its singletons that have
   * `[Symbol.asyncDispose]` or `[Symbol.dispose]`, newest first, then the client. `timeoutMs`
   * bounds the server's drain and the client's.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#shutDown(options);
    return this.#closing;
  }

  async #shutDown(options: CloseOptions): Promise<void> {
    this.#state = 'closing';
    try {
      await this.#endpoints.close(options, () => this.#disposeSingletons());
    } finally {
      this.#state = 'closed';
    }
  }

  #expectServerFor(target: Constructor<unknown>): void {
    if (this.server !== undefined) return;
    throw new RpcError(Code.FAILED_PRECONDITION, `${nameOf(target)} has @Provide, but the container has no server: give it one with { server: { listen: [...] } }`);
  }

  #provide(target: Constructor<unknown>): void {
    const server = this.server!;
    const instance = this.get(target);
    for (const definition of providedServices(target)) server.provide(definition, instance);
    this.#served.add(instance);
  }

  #proxy(declaration: ReferenceDeclaration): unknown {
    let proxy = this.#proxies.get(declaration);
    if (proxy === undefined) {
      proxy = this.client.proxy(declaration.definition, declaration.options);
      this.#proxies.set(declaration, proxy);
    }
    return proxy;
  }

  async #disposeSingletons(): Promise<void> {
    const failures: unknown[] = [];
    for (const instance of [...this.#singletons.values()].reverse()) {
      // The server disposes of those it was given when it closes (or fails to start).
      if (this.#served.has(instance)) continue;
      try {
        await disposeOf(instance);
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, 'disposing of the container\'s instances failed');
  }
}

async function disposeOf(instance: unknown): Promise<void> {
  const target = instance as Partial<AsyncDisposable & Disposable> | null;
  const release = target?.[Symbol.asyncDispose] ?? target?.[Symbol.dispose];
  if (typeof release === 'function') await release.call(target);
}
