import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { CallTable } from './core/call-table.js';
import { ServerHealth, provideBuiltins } from './introspection/index.js';
import type { AdminListener, AdminSources } from './admin/index.js';
import { serverSources } from './admin/server-sources.js';
import { registerConnections, registerRefusals } from './observability/metrics/index.js';
import type { Logger } from './core/logger.js';
import type { RegistrySpec } from './registry/index.js';
import { Announcer } from './registry/announcer.js';
import { ADMIN_PARAM, INSTANCE_PARAM, parseProviderUrl, type Provider } from './registry/provider.js';
import { parseAddress } from './transport/address.js';
import { Code } from './core/code.js';
import { chainGates, type CallGate } from './core/gate.js';
import type { Interceptor } from './core/invocation.js';
import { serverObservers, type ServerObserver } from './core/observer.js';
import { adminOptionsOf, metricsRegistryOf, serverObserversOf, type ObservabilityOptions } from './observability/options.js';
import { RpcError, errorMessage } from './core/rpc-error.js';
import { trackCallsAcrossAwaits } from './core/server-call.js';
import { startTimer, stopTimer, type Timer } from './core/timer.js';
import type { ServiceDefinition } from './core/service.js';
import { connectionOptions, decodeLimits, defaults, serverLimitSettings, type ConnectionSettings, type ServerLimitSettings } from './options.js';
import { Refusals, type RefusalCounts } from './core/refusals.js';
import { ServerLimits } from './transport/limits/server-limits.js';
import { SerializerSet } from './serialization/registry.js';
import type { Serializer } from './serialization/serializer.js';
import { createServerTransport, isAnnounced } from './transport/registry.js';
import type { ServerTlsOptions } from './transport/tls/options.js';
import { TOKEN_PARAM, providerToken, tokenGate } from './security/provider-token.js';
import { authGate, type ServerAuthOptions } from './security/auth-gate.js';
import type { ServerTransport } from './transport/transport.js';
import { APPLICATION_PARAM, checkApplication, defaultApplication } from './rules/identity.js';
import { ProviderRules } from './rules/provider-rules.js';
import { adaptiveConcurrency, type AdaptiveConcurrencyOptions } from './interceptors/adaptive-concurrency.js';
import { registerServerAdaptiveLimit } from './cluster/resilience-metrics.js';

export interface ServerOptions extends ConnectionSettings, ServerLimitSettings, ObservabilityOptions {
  /** Addresses to listen on, e.g. `['tcp://127.0.0.1:20880']`; port 0 picks a free port. */
  listen: string[];
  /**
   * Where to announce the services: `embedded` (the default), `zookeeper://host:port`, a `Registry`,
   * or `false` to announce nothing (clients then need the address).
   */
  registry?: RegistrySpec | false;
  /**
   * The application this server belongs to (Dubbo's `application`), announced as the `application`
   * parameter of its entries: tag routers are kept under it, and the traffic rules of that name
   * (`<application>.configurators`) apply to it. Default: the main script's file name without its
   * extension (docs/rules.md, "How consumers and providers apply rules").
   */
  application?: string;
  /**
   * This server's tag (Dubbo's static tag), announced as the `dubbo.tag` parameter of its entries:
   * calls carrying the tag (`dubbo.tag` metadata) go to the providers that have it, and untagged
   * calls to untagged providers (docs/rules.md, "Tag routing"). Default: none.
   */
  tag?: string;
  /** Share of traffic relative to other providers. Default 100. */
  weight?: number;
  /** After start, the weight ramps up from 1 over this long. Default 30000 ms. */
  warmupMs?: number;
  /** Host announced for listeners bound to 0.0.0.0 or ::. Default: the first non-internal IPv4 address. */
  advertiseHost?: string;
  /**
   * On close, leave the registry first and keep serving this long before draining, so consumers
   * notice the provider is gone before it refuses anything. Default 0 (both at once).
   */
  unregisterDelayMs?: number;
  /** Interceptors around every call, the first outermost. */
  interceptors?: Interceptor[];
  /**
   * A limit of the calls running at once that follows their latency, around every provided service
   * (outside `interceptors`); calls over it are refused with RESOURCE_EXHAUSTED, which Switchyard
   * clients fail over to another provider. `true` for the defaults. Default: off. See docs/governance.md.
   */
  adaptiveConcurrency?: boolean | AdaptiveConcurrencyOptions;
  /** Watchers of every call besides tracing and metrics (docs/extending.md). */
  observers?: ServerObserver[];
  /** Serializers requests may use. Default: msgpack and json. */
  serializers?: Array<string | Serializer>;
  /**
   * TCP: calls whose handlers may run at once on one connection (default 4096). A request past it
   * is refused with RESOURCE_EXHAUSTED, marked unprocessed so that a client may try another provider.
   */
  maxCallsPerConnection?: number;
  /**
   * Make `currentCall()` valid across awaits from the first call on. By default that holds from
   * the first call in the process that reads `currentCall()`, so that a process that never reads
   * it pays nothing for it (on Node 20 the async context costs every promise; see docs/calls.md).
   */
  asyncContext?: boolean;
  /**
   * Key and certificate of the TLS listeners (`tls://`, `https://`, `grpcs://`), as file paths
   * (reloaded when they change) or PEM; `ca` and `requireClientCert` for mutual TLS. See docs/security.md.
   */
  tls?: ServerTlsOptions;
  /**
   * Dubbo's provider token: `true` publishes a random token (new on every start) in this server's
   * registry entries, a string publishes that one; calls that do not present it as `token`
   * metadata are refused with PERMISSION_DENIED. Consumers that found the server in the registry
   * send it; one that dials the address directly does not know it. See docs/security.md.
   */
  token?: boolean | string;
  /**
   * Authentication and authorization of every call, on every listener: bearer tokens, JWTs or TLS
   * client certificates, then rules per service and method. Decided before a call's arguments are
   * decoded. See docs/security.md.
   */
  auth?: ServerAuthOptions;
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
  /**
   * Closes gracefully when the process gets one of `signals` (default SIGTERM and SIGINT), then
   * exits with code 0 (1 if closing failed). Returns a function that removes the handlers.
   */
  closeOnSignals(signals?: NodeJS.Signals[], options?: CloseOptions): () => void;
  /**
   * How many connections, requests and messages each limit has refused since the server was made,
   * by the limit's option name, e.g. `{ maxConnectionsPerAddress: 3, maxDecodeDepth: 1, … }`
   * (docs/security.md, Limits).
   */
  refusals(): RefusalCounts;
  /** The admin listener's URL once `listen()` has resolved (`admin` option), else undefined. */
  readonly adminAddress: string | undefined;
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
  if (options.asyncContext === true) trackCallsAcrossAwaits();
  const logger = options.logger ?? defaults.logger;
  const table = new CallTable(serverObservers([...serverObserversOf(options), ...(options.observers ?? [])]), logger);
  const interceptors = options.interceptors ?? [];
  const adaptive = options.adaptiveConcurrency === undefined || options.adaptiveConcurrency === false ? undefined
    : adaptiveConcurrency({ logger, ...(options.adaptiveConcurrency === true ? {} : options.adaptiveConcurrency) });
  // The built-in services (health, introspection) stay outside the adaptive limit: probes must get through.
  const served = adaptive === undefined ? interceptors : [adaptive, ...interceptors];
  // Ready once registered; grpc.health.v1.Health and switchyard.Introspection on every listener.
  const health = new ServerHealth();
  provideBuiltins(table, health, interceptors);
  const token = providerToken(options.token);
  // Asked in order before any call's arguments are decoded: the provider token, then authentication and authorization.
  const gates: CallGate[] = [];
  if (token !== undefined) gates.push(tokenGate(token));
  const auth = options.auth === undefined ? undefined : authGate(options.auth, logger);
  if (auth !== undefined) gates.push(auth);
  // The limits that protect the process, counting each refusal under the limit's name.
  const refusals = new Refusals(logger);
  const limits = new ServerLimits(serverLimitSettings(options), refusals);
  const serializers = new SerializerSet(options.serializers ?? ['msgpack', 'json'], limits.decodeLimits(decodeLimits(options)));
  const context = { table, serializers, logger, gate: chainGates(gates), refusals, limits };
  const metrics = metricsRegistryOf(options);
  const adminOptions = adminOptionsOf(options);
  let admin: AdminListener | undefined;
  const transportOptions = { ...connectionOptions(options), maxCallsPerConnection: options.maxCallsPerConnection, tls: options.tls };
  const announcer = options.registry === false ? undefined : new Announcer(options.registry ?? 'embedded', logger);
  const application = options.application === undefined ? defaultApplication() : checkApplication(options.application, 'createServer');
  if (options.tag !== undefined && (typeof options.tag !== 'string' || !/^[\w.-]{1,64}$/.test(options.tag))) {
    throw new RpcError(Code.INVALID_ARGUMENT, `createServer: tag must be 1 to 64 letters, digits, '.', '_' or '-', not ${JSON.stringify(options.tag)}`);
  }
  const tag = options.tag;
  // Traffic rules, when the registry keeps them: a registry object without a rule store costs nothing.
  const registryObject = typeof options.registry === 'object' ? options.registry : undefined;
  const providerRules = announcer === undefined || (registryObject !== undefined && registryObject.rules === undefined) ? undefined : new ProviderRules({
    application,
    logger,
    settleMs: defaults.rulesSettleMs,
    reannounce: (changed) => {
      announcer.reannounce(changed).catch((error: unknown) => logger.error({ message: errorMessage(error) }, 'registering again failed'));
    },
  });
  const rulesAttached = providerRules === undefined ? undefined : announcer!.ruleStore().then((store) => {
    if (store === undefined) providerRules.close();
    else providerRules.attach(store);
  });
  const startedAt = Date.now();
  const provided: ServiceDefinition[] = [];
  const implementations: unknown[] = [];
  let transports: ServerTransport[] = [];
  let addresses: string[] = [];
  let state: 'new' | 'listening' | 'closing' | 'closed' = 'new';

  const server: Server = {
    provide(definition, implementation) {
      table.provide(definition, implementation, providerRules === undefined ? served : [providerRules.interceptor(definition as ServiceDefinition), ...served]);
      provided.push(definition as ServiceDefinition);
      implementations.push(implementation);
      if (state === 'listening') {
        announcer?.register(providersOf([definition as ServiceDefinition])).catch((error: unknown) =>
          logger.error({ service: definition.id, message: errorMessage(error) }, 'registration failed'));
      }
      return server;
    },

    async listen() {
      if (state !== 'new') throw new RpcError(Code.FAILED_PRECONDITION, `server is ${state}`);
      state = 'listening';
      transports = options.listen.map((url) => createServerTransport(url, context, transportOptions));
      try {
        addresses = await Promise.all(transports.map((transport) => transport.listen()));
        // Loaded only when asked for: node:http and the admin modules are no part of a server's calls.
        if (adminOptions !== undefined) admin = await (await import('./admin/listener.js')).startAdmin(adminOptions.url, adminSources(), { ...adminOptions, logger });
      } catch (error) {
        for (const transport of transports) transport.forceClose();
        providerRules?.close();
        state = 'closed';
        await Promise.all(implementations.map((implementation) => dispose(implementation, logger)));
        throw RpcError.from(error, Code.UNAVAILABLE);
      }
      logger.info({ addresses, services: table.serviceIds }, 'server listening');
      if (providerRules !== undefined) {
        // The first announcement already says what the rules in force say (weight, disabled).
        await rulesAttached;
        await providerRules.settled();
      }
      await announcer?.register(providersOf(provided));
      // A rule that changed while registering: the entries are registered again in its form.
      if (providerRules !== undefined) await announcer?.reannounce(providerRules.current());
      health.markRegistered();
      return addresses;
    },

    get addresses() {
      return addresses;
    },

    refusals() {
      return refusals.counts();
    },

    get adminAddress() {
      return admin?.address;
    },

    async close(closeOptions = {}) {
      if (state === 'closing' || state === 'closed') return;
      state = 'closing';
      providerRules?.close();
      health.markDraining();
      // Leave the registry before or while draining: consumers stop choosing this server, and
      // GOAWAY turns away those that still do.
      const leaving = announcer?.close();
      const delayMs = options.unregisterDelayMs ?? 0;
      if (delayMs > 0) {
        await leaving;
        logger.info({ delayMs }, 'left the registry; serving on while consumers notice');
        await new Promise((resolve) => startTimer(delayMs, resolve, undefined));
      }
      const timeoutMs = closeOptions.timeoutMs ?? defaults.closeTimeoutMs;
      table.endResumableStreams();
      // An infinite timeout arms nothing: close then waits for every call, however long.
      let timer: Timer | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = startTimer(timeoutMs, resolve, 'timeout');
      });
      const outcome = await Promise.race([Promise.all(transports.map((t) => t.drain())), timedOut]);
      stopTimer(timer);
      if (outcome === 'timeout') {
        logger.warn({ timeoutMs }, 'close timed out; cutting off calls still in flight');
        for (const transport of transports) transport.forceClose();
      }
      await leaving;
      await Promise.all(implementations.map((implementation) => dispose(implementation, logger)));
      // Last, so that /health says "draining" for as long as the drain lasts.
      for (const remove of collectors.splice(0)) remove();
      await admin?.close();
      state = 'closed';
    },

    closeOnSignals(signals = ['SIGTERM', 'SIGINT'], closeOptions = {}) {
      const onSignal = (signal: NodeJS.Signals) => {
        logger.info({ signal }, 'closing on signal');
        server.close(closeOptions).then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error({ message: errorMessage(error) }, 'close failed');
            process.exit(1);
          },
        );
      };
      for (const signal of signals) process.once(signal, onSignal);
      return () => {
        for (const signal of signals) process.off(signal, onSignal);
      };
    },
  };

  // Gauges read when metrics are scraped: what the limits refused, and the connections by state.
  const collectors = metrics === undefined ? [] : [
    registerRefusals(metrics, refusals),
    registerConnections(metrics, () => transports.flatMap((transport) => transport.connections?.() ?? [])),
    ...(adaptive === undefined ? [] : [registerServerAdaptiveLimit(metrics, () => adaptive.stats())]),
  ];

  function adminSources(): AdminSources {
    return serverSources({
      health,
      table,
      startedAt,
      addresses: () => addresses,
      transports: () => transports,
      metrics,
      gate: auth,
      offline: async () => {
        health.markOffline();
        await announcer?.leave();
      },
      online: async () => {
        await announcer?.register(providersOf(provided));
        health.markOnline();
      },
    });
  }

  // Shared by every entry this server registers, so consumers see one provider per service, not
  // one per address; each consumer then talks to it over a single protocol.
  const instance = randomBytes(8).toString('hex');

  /** The entries to announce for `definitions`, as the traffic rules in force want them. */
  function providersOf(definitions: ServiceDefinition[]): Provider[] {
    const entries = entriesOf(definitions);
    return providerRules === undefined ? entries : providerRules.adjust(entries);
  }

  function entriesOf(definitions: ServiceDefinition[]): Provider[] {
    const serialization = context.serializers.names.join(',');
    return addresses.filter(isAnnounced).flatMap((address) => definitions.map((definition) => {
      const { protocol, host, port } = parseAddress(address);
      const shown = advertised(host, options.advertiseHost);
      const query = new URLSearchParams({ methods: [...definition.methods.keys()].join(','), weight: String(options.weight ?? 100), timestamp: String(startedAt), serialization });
      const warmupMs = options.warmupMs ?? defaults.warmupMs;
      if (warmupMs > 0) query.set('warmup', String(warmupMs));
      if (definition.key.version) query.set('version', definition.key.version);
      if (definition.key.group) query.set('group', definition.key.group);
      query.set(INSTANCE_PARAM, instance);
      query.set(APPLICATION_PARAM, application);
      if (tag !== undefined) query.set('dubbo.tag', tag);
      if (token !== undefined) query.set(TOKEN_PARAM, token);
      // Where the server's metrics and status are read (switchyard console, docs/console.md).
      if (admin !== undefined) query.set(ADMIN_PARAM, advertisedUrl(admin.address, options.advertiseHost));
      return parseProviderUrl(`${protocol}://${shown.includes(':') ? `[${shown}]` : shown}:${port}/${definition.key.name}?${query.toString()}`);
    }));
  }

  return server;
}

/** Releases what an implementation holds (a worker pool, say) if it has `[Symbol.asyncDispose]`. */
async function dispose(implementation: unknown, logger: Logger): Promise<void> {
  const release = (implementation as Partial<AsyncDisposable> | null)?.[Symbol.asyncDispose];
  if (typeof release !== 'function') return;
  try {
    await release.call(implementation);
  } catch (error) {
    logger.warn({ message: errorMessage(error) }, 'releasing an implementation failed');
  }
}

/** An admin listener's URL as others can reach it: a wildcard host becomes the announced one. */
function advertisedUrl(url: string, configured: string | undefined): string {
  const parsed = new URL(url);
  const shown = advertised(parsed.hostname.replace(/^\[(.*)\]$/, '$1'), configured);
  return `${parsed.protocol}//${shown.includes(':') ? `[${shown}]` : shown}:${parsed.port}`;
}

/** The host to announce: the bound one, unless it is a wildcard that no client can dial. */
function advertised(host: string, configured: string | undefined): string {
  if (host !== '0.0.0.0' && host !== '::') return host;
  if (configured !== undefined) return configured;
  for (const addresses of Object.values(networkInterfaces())) {
    const external = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (external !== undefined) return external.address;
  }
  return '127.0.0.1';
}
