import { ChannelPool } from './cluster/channel-pool.js';
import type { CircuitEvent } from './cluster/circuit-breaker.js';
import { Directory } from './cluster/directory.js';
import { protocolList, type ProtocolPreference } from './cluster/protocol-choice.js';
import { ClientCall } from './core/client-call.js';
import { propagate } from './core/propagation.js';
import { peekCurrentCall } from './core/server-call.js';
import { requestStreamOf } from './core/request-stream.js';
import { observeCall } from './core/observed-call.js';
import { clientObservers, type ClientObserver } from './core/observer.js';
import { adminOptionsOf, clientObserversOf, metricsRegistryOf, type ObservabilityOptions } from './observability/options.js';
import { registerBreakers, registerConnections } from './observability/metrics/index.js';
import { channelInfo, clientSources } from './admin/client-sources.js';
import { Code } from './core/code.js';
import { chain, type Handler, type Interceptor, type TransportCallOptions } from './core/invocation.js';
import { Metadata, type MetadataInit } from './core/metadata.js';
import { RpcError, errorMessage } from './core/rpc-error.js';
import { buildProxy, streamOf, type ProxyMethodOf, type ServiceProxyOf } from './core/proxy.js';
import { RESUME_KEY, resumableStream, type ResumableOptions } from './core/resumable.js';
import { returnsStream, takesStream, type MethodNames, type ServiceDefinition } from './core/service.js';
import { callDeadline } from './core/timer.js';
import { connectionOptions, decodeLimits, defaults, type ConnectionSettings } from './options.js';
import { Reference, type ReferenceOptions, type ResilienceOptions, type RoutingOptions } from './reference.js';
import { registerClientResilience } from './cluster/resilience-metrics.js';
import { openRegistry, type RegistrySpec } from './registry/index.js';
import { parseProviderUrl, type Provider } from './registry/provider.js';
import type { Registry, Unsubscribe } from './registry/registry.js';
import { SerializerSet } from './serialization/registry.js';
import type { Serializer } from './serialization/serializer.js';
import type { BackoffOptions } from './transport/backoff.js';
import type { ClientTlsOptions } from './transport/tls/options.js';
import type { HttpPoolOptions } from './transport/tcp/client.js';
import { parseAddress } from './transport/address.js';
import { transportOptionsOf } from './transport/registry.js';
import { checkCredentials, sendWithCredentials, type Credentials } from './security/credentials.js';
import { ConsumerRules } from './rules/consumer-rules.js';
import { checkApplication, defaultApplication } from './rules/identity.js';

export interface ClientOptions extends ConnectionSettings, RoutingOptions, ResilienceOptions, ObservabilityOptions {
  /**
   * Fixed provider addresses (`tcp://host:port`, one or several) instead of a registry. Calls are
   * spread over them and failed over between them like registry-found providers.
   */
  url?: string | string[];
  /** Where to find providers when no `url` is given: `embedded` (the default) or `zookeeper://host:port`. */
  registry?: RegistrySpec;
  /**
   * The application this client belongs to (Dubbo's `application`): the traffic rules of that name
   * (`<application>.configurators`, `<application>.condition-router`) apply to it, and so do rule items
   * whose `applications` name it. Default: the main script's file name without its extension
   * (docs/rules.md, "How consumers and providers apply rules").
   */
  application?: string;
  /**
   * Protocols to reach providers over, best first (`'http'`, or `['grpc', 'http']`); a proxy's own
   * `protocol` overrides it. Default: each provider's fastest (tcp, then grpc, then http).
   */
  protocol?: ProtocolPreference;
  /** Serializer of requests. Default `msgpack`. */
  serializer?: string | Serializer;
  /** Deadline of calls whose method and call options set none. Default: no deadline. */
  timeoutMs?: number;
  /**
   * A call made while a handler of this process serves another takes that call's deadline when it
   * is earlier, and is cancelled when that call is. Default true; `false` here or on a call turns
   * it off (docs/calls.md, "Calls made by handlers").
   */
  propagate?: boolean;
  /** Interceptors around every call, the first outermost. */
  interceptors?: Interceptor[];
  /** Watchers of every call and attempt besides tracing and metrics (docs/extending.md). */
  observers?: ClientObserver[];
  /** Told of every circuit breaker state change (also logged at info). */
  onCircuitStateChange?: (event: CircuitEvent) => void;
  /** How long a call waits for discovery to find a provider before UNAVAILABLE. Default 3000 ms. */
  waitForProvidersMs?: number;
  connectTimeoutMs?: number;
  backoff?: Partial<BackoffOptions>;
  /** How to reach TLS providers (`tls://`, `https://`, `grpcs://`, `amqps://`): CAs to trust, a client certificate for mTLS. */
  tls?: ClientTlsOptions;
  /** The connection pool of each `http://` provider: `connections` (default 128) and `pipelining` (default 1, none). */
  http?: HttpPoolOptions;
  /**
   * Sent with every call as `authorization: Bearer <token>` metadata: a token, or a function asked
   * per call for one (`jwtSigner(...)` makes one that signs and refreshes JWTs). A proxy's or a
   * call's own `credentials` replace it. See docs/security.md.
   */
  credentials?: Credentials;
}

/**
 * Options of one call; they override the method's and the client's. Options that only one transport
 * understands go under its scheme, e.g. `amqp: { targetServer: 'warehouse-2' }` (`AmqpCallOptions`);
 * the other transports ignore them.
 */
export interface CallOptions extends TransportCallOptions {
  /** Deadline, counted from now. */
  timeoutMs?: number;
  /** Deadline as absolute epoch milliseconds; wins over `timeoutMs`. */
  deadline?: number;
  /** Cancels the call: the server's handler sees its own signal fire. */
  signal?: AbortSignal;
  /** `false`: a call made by a handler does not take the deadline and cancellation of the call it serves (one meant to outlive it). */
  propagate?: boolean;
  metadata?: MetadataInit;
  /** Send without waiting for (or getting) a response. */
  oneWay?: boolean;
  /** Receives the metadata the server sent back with its response. */
  onResponseMetadata?: (metadata: Metadata) => void;
  /** Credentials of these calls instead of the client's; `false` sends none. */
  credentials?: Credentials | false;
}

/**
 * A remote method: call it like the local one, or `.with(options)` first for per-call options. It
 * returns an `AsyncIterable` if the method is typed to return one, a promise otherwise.
 */
export type ProxyMethod<F> = ProxyMethodOf<F, CallOptions>;

/** The typed stub of a service: exactly its declared methods. */
export type ServiceProxy<T> = ServiceProxyOf<T, CallOptions>;

export interface Client {
  /**
   * A typed stub: `await calc.add(1, 2)`, or with options `await calc.add.with({ timeoutMs: 100 })(1, 2)`.
   * Reference options pick versions, groups, load balancing and fault tolerance; call options given
   * here apply to every call made through this proxy.
   */
  proxy<T>(definition: ServiceDefinition<T>, options?: ReferenceOptions & CallOptions): ServiceProxy<T>;
  /** Calls a method by name, for generic code. */
  invoke<T>(definition: ServiceDefinition<T>, method: MethodNames<T> | string, args: unknown[], options?: CallOptions & ReferenceOptions): Promise<unknown>;
  /** Lets calls in flight finish (up to the timeout, default 5000 ms), then closes every connection. */
  close(options?: { timeoutMs?: number }): Promise<void>;
  /**
   * The URL of the client's admin listener (`admin` option) once it listens; rejects when the
   * client has none or it could not bind.
   */
  admin(): Promise<string>;
}

const referenceKeys = ['version', 'group', 'loadBalance', 'cluster', 'retries', 'forks', 'hashArguments', 'virtualNodes', 'circuitBreaker', 'maxActivePerProvider', 'methods', 'protocol',
  'retryBudget', 'adaptiveConcurrency', 'outlierEjection'] as const;

/**
 * ```ts
 * const client = createClient({ registry: 'zookeeper://127.0.0.1:2181' });   // or { url: 'tcp://127.0.0.1:20880' }
 * const calc = client.proxy(CalculatorService, { loadBalance: 'roundrobin' });
 * await calc.add(1, 2);
 * ```
 */
export function createClient(options: ClientOptions = {}): Client {
  const urls = options.url === undefined ? [] : Array.isArray(options.url) ? options.url : [options.url];
  if (options.url !== undefined && urls.length === 0) throw new RpcError(Code.INVALID_ARGUMENT, 'a client needs at least one provider url');
  for (const url of urls) parseAddress(url);
  checkCredentials(options.credentials, 'createClient');
  const protocol = options.protocol === undefined ? undefined : protocolList(options.protocol);
  const serializers = new SerializerSet([options.serializer ?? defaults.serializer, 'json'], decodeLimits(options));
  const serializer = typeof options.serializer === 'object' ? options.serializer : serializers.named(options.serializer ?? defaults.serializer);
  const closeTimeoutMs = defaults.closeTimeoutMs;
  const pool = new ChannelPool({
    ...connectionOptions(options),
    connectTimeoutMs: options.connectTimeoutMs ?? defaults.connectTimeoutMs,
    backoff: { ...defaults.backoff, ...options.backoff },
    serializers,
    serializer,
    tls: options.tls,
    http: options.http,
  });
  const logger = options.logger ?? defaults.logger;
  const registry = urls.length > 0 ? undefined : openRegistry(options.registry ?? 'embedded', logger);
  registry?.catch((error: unknown) => logger.error({ message: errorMessage(error) }, 'cannot open the registry'));
  const application = options.application === undefined ? defaultApplication() : checkApplication(options.application, 'createClient');
  const onCircuitChange = (event: CircuitEvent) => {
    logger.info({ ...event }, `circuit ${event.from} -> ${event.to}`);
    options.onCircuitStateChange?.(event);
  };
  const references = new Map<string, { reference: Reference; unsubscribe: Unsubscribe | undefined; rules: ConsumerRules | undefined }>();
  const observer = clientObservers([...clientObserversOf(options), ...(options.observers ?? [])]);
  const metrics = metricsRegistryOf(options);
  const startedAt = Date.now();
  const view = { startedAt, references: () => [...references.values()].map((entry) => entry.reference), channels: () => pool.open(), metrics, closed: () => closed };
  const collectors = metrics === undefined ? [] : [
    registerBreakers(metrics, () => view.references().flatMap((reference) => reference.directory.all().flatMap((invoker) =>
      invoker.breakerStates().map(({ method, state }) => ({ provider: invoker.provider.address, method, state }))))),
    registerConnections(metrics, () => view.channels().map(channelInfo)),
    registerClientResilience(metrics, () => view.references().map((reference) => ({ service: reference.definition.id, retryBudget: reference.retryBudget, providers: reference.directory.all() }))),
  ];
  const adminOptions = adminOptionsOf(options);
  // Loaded only when asked for: node:http and the admin modules are no part of a client's calls.
  const adminListener = adminOptions === undefined ? undefined : import('./admin/listener.js').then(({ startAdmin }) => startAdmin(adminOptions.url, clientSources(view), { ...adminOptions, logger }));
  adminListener?.catch((error: unknown) => logger.error({ message: errorMessage(error) }, 'cannot start the admin listener'));
  let closed = false;

  const send: Handler = (call) => {
    if (closed) return Promise.reject(new RpcError(Code.UNAVAILABLE, 'client is closed', { unprocessed: true }));
    // An interceptor may pass on a call object of its own: it then goes by the service's default reference.
    const reference = call instanceof ClientCall ? (call as ClientCall<Reference>).route : referenceFor(call.service, {});
    return reference.send(call);
  };
  const handler = chain(options.interceptors ?? [], send);
  // The options of the calls a resumable stream makes: each is one attempt, not to be wrapped again.
  const resumeAttempts = new WeakSet<object>();

  function referenceFor(definition: ServiceDefinition, referenceOptions: ReferenceOptions): Reference {
    const key = `${definition.id}\0${Reference.keyOf(referenceOptions)}`;
    const known = references.get(key);
    if (known !== undefined && known.reference.definition === definition) return known.reference;
    const directory = new Directory(definition, referenceOptions, pool, closeTimeoutMs, referenceOptions.protocol ?? protocol);
    const reference = new Reference(definition, directory, referenceOptions, {
      loadBalance: options.loadBalance ?? defaults.loadBalance,
      cluster: options.cluster ?? defaults.cluster,
      retries: options.retries ?? defaults.retries,
      forks: options.forks ?? defaults.forks,
      failbackRetries: defaults.failbackRetries,
      failbackDelayMs: defaults.failbackDelayMs,
      circuitBreaker: options.circuitBreaker,
      maxActivePerProvider: options.maxActivePerProvider,
      hashArguments: options.hashArguments,
      virtualNodes: options.virtualNodes,
      retryBudget: options.retryBudget,
      adaptiveConcurrency: options.adaptiveConcurrency,
      outlierEjection: options.outlierEjection,
    }, logger, options.waitForProvidersMs ?? defaults.waitForProvidersMs, onCircuitChange, observer);
    const entry = { reference, unsubscribe: undefined as Unsubscribe | undefined, rules: undefined as ConsumerRules | undefined };
    references.set(key, entry);
    if (registry === undefined) {
      directory.update(urls.map((url) => staticProvider(url, definition, referenceOptions)));
    } else {
      registry.then((opened) => {
        if (closed) return;
        // A registry that keeps traffic rules: the reference follows them (docs/rules.md).
        const store = opened.registry.rules;
        const rules = store === undefined ? undefined : new ConsumerRules({
          store, logger, application, directory, reference, settleMs: defaults.rulesSettleMs,
          service: { name: definition.key.name, version: exactPart(referenceOptions.version, definition.key.version), group: exactPart(referenceOptions.group, definition.key.group) },
        });
        entry.rules = rules;
        entry.unsubscribe = opened.registry.subscribe(definition.key, rules === undefined ? (providers) => directory.update(providers) : (providers) => rules.providers(providers));
      }, () => {});
    }
    return reference;
  }

  function invoke(definition: ServiceDefinition, method: string, args: unknown[], callOptions: CallOptions & ReferenceOptions = {}, known?: () => Reference): Promise<unknown> {
    try {
      return start(definition, method, args, callOptions, known);
    } catch (error) {
      // Bad options (e.g. an invalid metadata key) or a throwing interceptor: still a rejection.
      return Promise.reject(RpcError.from(error));
    }
  }

  function transmit(call: ClientCall<Reference>, credentials: Credentials | undefined): Promise<unknown> {
    return credentials === undefined ? handler(call) : sendWithCredentials(call, credentials, handler);
  }

  function start(definition: ServiceDefinition, method: string, args: unknown[], callOptions: CallOptions & ReferenceOptions, known?: () => Reference): Promise<unknown> {
    const methodOptions = definition.methods.get(method);
    if (methodOptions === undefined) {
      return Promise.reject(new RpcError(Code.UNIMPLEMENTED, `method ${JSON.stringify(method)} is not declared by service ${definition.id}`, { unprocessed: true }));
    }
    if (methodOptions.resumable !== undefined && !resumeAttempts.has(callOptions)) return resume(definition, method, args, callOptions, methodOptions.resumable, known);
    if (!Array.isArray(args)) return Promise.reject(new RpcError(Code.INVALID_ARGUMENT, 'args must be an array', { unprocessed: true }));
    // A request stream can be sent once: wrapped here, it tells every attempt whether it was pulled.
    if (takesStream(methodOptions)) args = [requestStreamOf(args, method)];
    const reference = known?.() ?? referenceFor(definition, pickReferenceOptions(callOptions));
    // The caller's own timeout, then a traffic rule's, then the method's, then the client's.
    const timeoutMs = callOptions.timeoutMs ?? reference.ruleTimeoutMs(method) ?? methodOptions.timeoutMs ?? options.timeoutMs;
    let deadline = callDeadline(timeoutMs, callOptions.deadline);
    let signal = callOptions.signal;
    let callerDeadline = callOptions.timeoutMs !== undefined || callOptions.deadline !== undefined;
    // A handler's own calls give up with the call it serves (known after an await only while the process tracks calls: core/server-call.ts).
    const served = (callOptions.propagate ?? options.propagate) === false ? undefined : peekCurrentCall();
    let release: (() => void) | undefined;
    if (served !== undefined) {
      const propagated = propagate(served, deadline, signal);
      ({ deadline, signal, release } = propagated);
      if (propagated.deadlineInherited) callerDeadline = true;
    }
    const metadata = callOptions.metadata === undefined ? undefined : new Metadata(callOptions.metadata);
    // An AMQP fanout has no one reply to wait for, so it makes the call one-way unless told otherwise.
    const oneWay = callOptions.oneWay ?? (callOptions.amqp?.fanout === true || undefined) ?? methodOptions.oneWay ?? false;
    if (oneWay && methodOptions.stream !== undefined) {
      return Promise.reject(new RpcError(Code.INVALID_ARGUMENT, `${method} streams, so it cannot be called one-way`, { unprocessed: true }));
    }
    const call = new ClientCall(definition, method, args, metadata, deadline, signal, oneWay, reference);
    if (callerDeadline) call.callerDeadline = true;
    const transportOptions = transportOptionsOf(callOptions);
    if (transportOptions !== undefined) call.transportOptions = transportOptions;
    // Put in before the interceptors run, so that they see the call as it will leave.
    const credentials = callOptions.credentials === false ? undefined : (callOptions.credentials ?? options.credentials);
    const probe = observer?.clientCall(call);
    const result = probe === undefined ? transmit(call, credentials) : observeCall(probe, returnsStream(methodOptions), () => transmit(call, credentials));
    // A stream's call goes on after its promise settles: its link lasts as long as the signals do.
    if (release !== undefined && !returnsStream(methodOptions)) result.then(release, release);
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

  /** A resumable stream: each attempt is a call of its own from the last item got, through the whole client path. */
  function resume(definition: ServiceDefinition, method: string, args: unknown[], callOptions: CallOptions & ReferenceOptions, resumable: ResumableOptions, known?: () => Reference): Promise<unknown> {
    const reference = known?.() ?? referenceFor(definition, pickReferenceOptions(callOptions));
    const deadline = callDeadline(callOptions.timeoutMs ?? reference.ruleTimeoutMs(method) ?? definition.methods.get(method)?.timeoutMs ?? options.timeoutMs, callOptions.deadline);
    const open = (after: string | undefined): AsyncIterable<unknown> => {
      const metadata = new Metadata(callOptions.metadata);
      if (after !== undefined) metadata.set(RESUME_KEY, after);
      const attempt: CallOptions & ReferenceOptions = { ...callOptions, timeoutMs: undefined, deadline, metadata };
      resumeAttempts.add(attempt);
      return streamOf(start(definition, method, args, attempt, known));
    };
    return Promise.resolve(resumableStream(open, resumable, deadline, callOptions.signal));
  }

  return {
    proxy<T>(definition: ServiceDefinition<T>, proxyOptions: ReferenceOptions & CallOptions = {}): ServiceProxy<T> {
      const service = definition as ServiceDefinition;
      checkCredentials(proxyOptions.credentials, 'proxy');
      return buildProxy<T, ReferenceOptions & CallOptions, CallOptions>(definition, proxyOptions, {
        sender: (method, callOptions) => {
          // A proxy's reference options are fixed: look its reference up once, not per call.
          let reference: Reference | undefined;
          const known = () => (reference ??= referenceFor(service, pickReferenceOptions(callOptions)));
          return (args) => invoke(service, method, args, callOptions, known);
        },
        merge,
      });
    },

    invoke: (definition, method, args, callOptions) => invoke(definition as ServiceDefinition, method, args, callOptions),

    async close(closeOptions = {}) {
      if (closed) return;
      closed = true;
      for (const { reference, unsubscribe, rules } of references.values()) {
        unsubscribe?.();
        rules?.close();
        reference.directory.close();
      }
      await pool.close(closeOptions.timeoutMs ?? closeTimeoutMs);
      const opened = await registry?.catch(() => undefined);
      if (opened?.owned) await opened.registry.close();
      for (const remove of collectors.splice(0)) remove();
      await (await adminListener?.catch(() => undefined))?.close();
    },

    async admin() {
      if (adminListener === undefined) throw new RpcError(Code.FAILED_PRECONDITION, 'this client has no admin listener: create it with the admin option');
      return (await adminListener).address;
    },
  };
}

function pickReferenceOptions(options: ReferenceOptions): ReferenceOptions {
  const picked: Record<string, unknown> = {};
  for (const key of referenceKeys) if (options[key] !== undefined) picked[key] = options[key];
  return picked as ReferenceOptions;
}

/** The version or group a reference asks for when it names one exactly, else the definition's own. */
function exactPart(wanted: string | undefined, own: string | undefined): string | undefined {
  return wanted === undefined || wanted === '*' || /[\^~<>=x* |]/.test(wanted) ? own : wanted;
}

/** A fixed address standing in for a registry entry of the service the reference asks for. */
function staticProvider(url: string, definition: ServiceDefinition, options: ReferenceOptions): Provider {
  const version = exactPart(options.version, definition.key.version);
  const group = exactPart(options.group, definition.key.group);
  const query = new URLSearchParams();
  if (version) query.set('version', version);
  if (group) query.set('group', group);
  const { protocol, host, port } = parseAddress(url);
  const provider = parseProviderUrl(`${protocol}://${host.includes(':') ? `[${host}]` : host}:${port}/${definition.key.name}?${query.toString()}`);
  // The address is dialled as given: it may carry credentials or options (amqp://user:pass@host/?...).
  return { ...provider, address: url };
}

function merge<T extends CallOptions>(base: T, over: CallOptions): T {
  if (base.metadata === undefined || over.metadata === undefined) return { ...base, ...over };
  const metadata = new Metadata(base.metadata);
  for (const [key, value] of new Metadata(over.metadata)) metadata.set(key, value);
  return { ...base, ...over, metadata };
}

export type { Registry };
