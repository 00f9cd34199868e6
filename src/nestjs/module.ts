import { Inject, Logger, type DynamicModule, type FactoryProvider, type ModuleMetadata, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { createClient, type CallOptions, type Client, type ClientOptions } from '../client.js';
import type { ServiceDefinition } from '../core/service.js';
import type { ReferenceOptions } from '../reference.js';
import { nestLogger } from './nest-logger.js';

/** The injection token of the module's `Client`, for `client.invoke(...)` or proxies made on the spot. */
export const SWITCHYARD_CLIENT = 'SwitchyardClient';

/**
 * The injection token of the typed proxy of `definition` that `SwitchyardModule` provides:
 *
 * ```ts
 * constructor(@Inject(switchyardToken(CalculatorService)) private readonly calculator: ServiceProxy<Calculator>) {}
 * ```
 */
export function switchyardToken(definition: ServiceDefinition): string {
  return `SwitchyardProxy(${definition.id})`;
}

/** A service to provide a proxy of, with options of its own if need be (version range, balancer, deadline). */
export type SwitchyardServiceEntry = ServiceDefinition | { service: ServiceDefinition; options?: ReferenceOptions & CallOptions };

export interface SwitchyardModuleOptions extends ClientOptions {
  /** The services to provide proxies of, one token each (`switchyardToken(definition)`). */
  services: SwitchyardServiceEntry[];
  /** Provide the client and proxies to every module, not only those that import this one. */
  global?: boolean;
}

export interface SwitchyardModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  services: SwitchyardServiceEntry[];
  /** Makes the client's options from the providers in `inject` (a configuration service, say). */
  useFactory: (...args: never[]) => ClientOptions | Promise<ClientOptions>;
  inject?: FactoryProvider['inject'];
  global?: boolean;
}

/**
 * One Switchyard client for a Nest application, and a typed proxy per service, closed on shutdown.
 *
 * ```ts
 * @Module({ imports: [SwitchyardModule.forRoot({ registry: 'zookeeper://zk:2181', services: [CalculatorService] })] })
 * class AppModule {}
 * ```
 */
export class SwitchyardModule implements OnApplicationShutdown {
  constructor(private readonly client: Client) {}

  /** A client made from `options` (everything `createClient` takes, with `services`). */
  static forRoot(options: SwitchyardModuleOptions): DynamicModule {
    const { services, global, ...clientOptions } = options;
    return moduleOf(services, { provide: SWITCHYARD_CLIENT, useFactory: () => clientOf(clientOptions) }, [], global);
  }

  /** A client whose options a factory makes from other providers. */
  static forRootAsync(options: SwitchyardModuleAsyncOptions): DynamicModule {
    const client: FactoryProvider<Client> = {
      provide: SWITCHYARD_CLIENT,
      useFactory: async (...args: unknown[]) => clientOf(await options.useFactory(...(args as never[]))),
      inject: options.inject ?? [],
    };
    return moduleOf(options.services, client, options.imports ?? [], options.global);
  }

  /** `switchyardToken`, for those who prefer it on the module. */
  static token(definition: ServiceDefinition): string {
    return switchyardToken(definition);
  }

  /** Runs after `beforeApplicationShutdown`, once an HTTP server in front has stopped: lets calls in flight finish, then closes. */
  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}

// The constructor's `@Inject(SWITCHYARD_CLIENT)`, without decorator syntax.
Inject(SWITCHYARD_CLIENT)(SwitchyardModule, undefined, 0);

function clientOf(options: ClientOptions): Client {
  return createClient({ ...options, logger: options.logger ?? nestLogger(new Logger('Switchyard')) });
}

function moduleOf(services: SwitchyardServiceEntry[], client: Provider, imports: NonNullable<ModuleMetadata['imports']>, global = false): DynamicModule {
  const proxies: Provider[] = services.map((entry) => {
    const { service, options } = 'service' in entry ? entry : { service: entry, options: undefined };
    // A proxy is a frozen object with no `then`, so Nest takes it as the value, not a promise.
    return { provide: switchyardToken(service), useFactory: (made: Client) => made.proxy(service, options), inject: [SWITCHYARD_CLIENT] };
  });
  return {
    module: SwitchyardModule,
    global,
    imports,
    providers: [client, ...proxies],
    exports: [SWITCHYARD_CLIENT, ...proxies.map((proxy) => (proxy as FactoryProvider).provide)],
  };
}
