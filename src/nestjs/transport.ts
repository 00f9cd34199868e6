import { Logger } from '@nestjs/common';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import type { ServiceDefinition } from '../core/service.js';
import { createServer, type CloseOptions, type Server as SwitchyardServer, type ServerOptions } from '../server.js';
import { implementationOf } from './implementation.js';
import { nestLogger } from './nest-logger.js';
import { SWITCHYARD_TRANSPORT, patternOfRoute } from './pattern.js';

export interface SwitchyardTransportOptions extends ServerOptions {
  /**
   * The services the microservice serves. Every method of each needs a handler (`@SwitchyardMethod`
   * or `@MessagePattern({ service, method })`); nothing else is callable.
   */
  services: ServiceDefinition[];
  /** How `close()` drains the calls in flight (default: up to 5000 ms). */
  close?: CloseOptions;
}

/** `listening` once the Switchyard server listens, `draining` while it closes, then `closed`. */
export type SwitchyardStatus = 'listening' | 'draining' | 'closed';

/**
 * A Nest custom transport that serves Switchyard services from the application's handlers, on
 * Switchyard's listeners (tcp, http, grpc, amqp) and registry:
 *
 * ```ts
 * const app = await NestFactory.createMicroservice(AppModule, {
 *   strategy: new SwitchyardTransport({ listen: ['tcp://0.0.0.0:20880'], registry: 'zookeeper://zk:2181', services: [CalculatorService] }),
 * });
 * app.useGlobalFilters(new SwitchyardExceptionFilter());
 * await app.listen();   // resolves with the bound addresses
 * ```
 *
 * A handler gets the call's arguments as one array (its payload) and a `SwitchyardContext`, and
 * answers with a value, a promise or an Observable (its last value; every value, for a method
 * declared `stream: 'server'` or `'bidi'`). `close()` drains the server: it leaves the registry, lets
 * calls in flight finish, then closes its listeners. Nest calls it before the shutdown hooks on
 * `app.close()` of a microservice, and between `beforeApplicationShutdown` and `onApplicationShutdown`
 * on a signal (`enableShutdownHooks`) or in a hybrid application (docs/nestjs.md, "Shutdown").
 */
export class SwitchyardTransport extends Server<Record<string, never>, SwitchyardStatus> implements CustomTransportStrategy {
  override transportId = SWITCHYARD_TRANSPORT;
  private server: SwitchyardServer | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: SwitchyardTransportOptions) {
    super();
    if (options.services.length === 0) throw new RpcError(Code.INVALID_ARGUMENT, 'SwitchyardTransport needs at least one service');
  }

  /** Called by Nest (`app.listen()`); reports the bound addresses, or why it could not start. */
  listen(callback: (error?: unknown, addresses?: string[]) => void): void {
    this.start().then((addresses) => callback(undefined, addresses), (error: unknown) => callback(error));
  }

  /** Called by Nest when the application closes (see the class's comment for when): drains the server, once. */
  close(): Promise<void> {
    this.closing ??= this.drain();
    return this.closing;
  }

  /** The bound addresses once listening, in the order of `listen`. */
  get addresses(): readonly string[] {
    return this.server?.addresses ?? [];
  }

  /** The Switchyard server (`refusals()`, `adminAddress`, ...), once `listen` has been called. */
  unwrap<T = SwitchyardServer>(): T {
    if (this.server === undefined) throw new Error('SwitchyardTransport is not listening yet: call app.listen() first');
    return this.server as T;
  }

  on(): never {
    throw new Error('SwitchyardTransport emits no events: watch `status`, or unwrap() the Switchyard server');
  }

  private async start(): Promise<string[]> {
    if (this.server !== undefined || this.closing !== undefined) throw new RpcError(Code.FAILED_PRECONDITION, 'SwitchyardTransport was started already');
    const { services, close: _close, ...serverOptions } = this.options;
    const implementations = services.map((definition) => [definition, implementationOf(definition, this.handlersOf(definition))] as const);
    this.refuseUndeclared(services);
    const server = createServer({ ...serverOptions, logger: serverOptions.logger ?? nestLogger(new Logger('Switchyard')) });
    for (const [definition, implementation] of implementations) server.provide(definition, implementation);
    this.server = server;
    const addresses = await server.listen();
    this._status$.next('listening');
    return addresses;
  }

  private async drain(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this._status$.next('draining');
    await server.close(this.options.close);
    this._status$.next('closed');
  }

  /** The handler of each method, by the service's id or bare name; fails naming every method that has none. */
  private handlersOf(definition: ServiceDefinition): Map<string, MessageHandler> {
    const handlers = new Map<string, MessageHandler>();
    const missing: string[] = [];
    for (const method of definition.methods.keys()) {
      const handler = this.handlerFor(definition.id, method) ?? this.handlerFor(definition.key.name, method);
      if (handler === undefined) missing.push(method);
      else handlers.set(method, handler);
    }
    if (missing.length > 0) {
      throw new RpcError(Code.FAILED_PRECONDITION, `no handler serves ${missing.map((method) => `${definition.id} ${method}`).join(', ')}: ` +
        `declare them with @SwitchyardMethod(definition, method) on a controller of the microservice`);
    }
    return handlers;
  }

  private handlerFor(service: string, method: string): MessageHandler | undefined {
    return this.messageHandlers.get(this.normalizePattern({ method, service }));
  }

  /** A handler for a method its service does not declare is a mistake that would never be called: refused. */
  private refuseUndeclared(services: ServiceDefinition[]): void {
    for (const route of this.messageHandlers.keys()) {
      const pattern = patternOfRoute(route);
      if (pattern === undefined) continue;
      const definition = services.find((each) => each.id === pattern.service || each.key.name === pattern.service);
      if (definition !== undefined && !definition.methods.has(pattern.method)) {
        throw new RpcError(Code.FAILED_PRECONDITION, `a handler serves ${pattern.service} ${pattern.method}, which ${definition.id} does not declare`);
      }
    }
  }
}
