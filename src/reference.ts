import { balancerFor, type BalancerSpec } from './cluster/balancers/index.js';
import type { Directory } from './cluster/directory.js';
import { clusterStrategy, type ClusterContext, type ClusterOptions, type ClusterSpec, type ClusterStrategy } from './cluster/fault-tolerance/index.js';
import { Code } from './core/code.js';
import type { Invocation } from './core/invocation.js';
import type { Logger } from './core/logger.js';
import { RpcError } from './core/rpc-error.js';
import type { CircuitBreakerOptions, CircuitEvent } from './cluster/circuit-breaker.js';
import { takesStream, type ServiceDefinition } from './core/service.js';
import type { Invoker } from './cluster/invoker.js';
import { RoutedContext } from './cluster/routed-context.js';
import { guards } from './cluster/guards.js';
import { withDeadline } from './cluster/attempt-deadline.js';
import { ClientCall } from './core/client-call.js';
import type { ClientObserver } from './core/observer.js';
import { adaptiveLimitOptions, type AdaptiveLimitOptions } from './cluster/adaptive-limit.js';
import { isAdaptiveRefusal } from './cluster/adaptive-refusal.js';
import { OutlierDetector, type OutlierEjectionOptions } from './cluster/outlier-ejection.js';
import { RetryBudget, retryBudgetOf, type RetryBudgetOptions } from './cluster/retry-budget.js';
import { defaults as globalDefaults } from './options.js';

/** How calls of a method are spread and retried; settable per reference and per method. */
export interface RoutingOptions {
  /**
   * A balancer name (`random`, the default, weighted; `roundrobin`, `leastactive`, `consistenthash`,
   * `p2c`, `shortestresponse`, or one added with `registerBalancer`), or a `LoadBalancer` object. A name gets each method
   * a balancer of its own; an object is shared as it is by every method (and reference) it is set on,
   * so it should keep no per-method state, or be given per method.
   */
  loadBalance?: BalancerSpec;
  /**
   * A fault-tolerance strategy name (`failover`, the default; `failfast`, `failsafe`, `failback`,
   * `forking`, `broadcast`, or one added with `registerClusterStrategy`), or a `ClusterStrategy` function.
   */
  cluster?: ClusterSpec;
  /** failover: further providers to try. Default 2. */
  retries?: number;
  /** forking: providers called at once. Default 2. */
  forks?: number;
  /** consistenthash: indexes of the arguments that make the key. Default `[0]`. */
  hashArguments?: number[];
  /** consistenthash: ring points per provider. Default 160. */
  virtualNodes?: number;
  /** A circuit breaker per provider and method; `{}` for the defaults. Default: none. */
  circuitBreaker?: CircuitBreakerOptions | false;
  /** Calls this client may have in flight to one provider; beyond it, other providers are tried. Default: no limit. */
  maxActivePerProvider?: number;
}

/**
 * What keeps a reference from overloading its providers, and away from failing ones; set on the
 * client or the proxy (not per method: they watch providers, not methods). See docs/cluster.md.
 */
export interface ResilienceOptions {
  /**
   * Retries (failover attempts, failback resends) may add at most `ratio` of the calls made over the
   * last `ttlMs`, plus `minPerSecond`; a retry past it is not made, and the call fails with its last
   * attempt's error. A `RetryBudget` object is shared by every reference given it; `false` budgets
   * nothing. Default `{ ratio: 0.2, minPerSecond: 10, ttlMs: 10000 }`, one budget per proxy.
   */
  retryBudget?: RetryBudgetOptions | RetryBudget | false;
  /**
   * A limit of this client's calls in flight to each provider that follows the provider's latency
   * (Gradient2, `src/cluster/adaptive-limit.ts`): a provider at its limit gets no call while another
   * has room (when none has, the balancer chooses among them all). `true` for the defaults. Default: off.
   */
  adaptiveConcurrency?: boolean | AdaptiveLimitOptions;
  /**
   * Takes providers out of load balancing for a while after consecutive failures, or when their
   * success rate falls far below the others' (Envoy's outlier detection). `{}` for the defaults.
   * Default: off.
   */
  outlierEjection?: OutlierEjectionOptions | false;
}

/** What a proxy is a reference to: which versions and groups, and how to reach them. */
export interface ReferenceOptions extends RoutingOptions, ResilienceOptions {
  /** Exact version, `'*'` for any, or a semver range such as `^1.0.0`. Default: the definition's. */
  version?: string;
  /** Group; `'*'` for any. Default: the definition's. */
  group?: string;
  /**
   * Protocols to reach providers over, best first (`'http'`, or `['grpc', 'http']`); a provider that
   * offers none of them is not used. Default: the client's `protocol`, else each provider's fastest
   * (tcp, then grpc, then http). See docs/registry.md.
   */
  protocol?: string | readonly string[];
  /** Per-method routing that overrides the reference's. */
  methods?: Record<string, RoutingOptions>;
}

/** What traffic rules set for a method (consumer-side overrides, docs/rules.md): routing options and a timeout. */
export interface RuledMethodSettings extends RoutingOptions {
  /** The deadline of the method's calls, in ms from their start, unless a call sets its own. */
  timeoutMs?: number;
}

/** What traffic rules set for a reference: for all its methods, and per method (which wins). */
export interface RuledSettings extends RuledMethodSettings {
  methods?: Readonly<Record<string, RuledMethodSettings>>;
}

interface MethodPlan {
  strategy: ClusterStrategy;
  context: ClusterContext;
  /** The rules' timeout for the method; undefined when they set none. */
  timeoutMs: number | undefined;
  /** The context of the last list that routing by call data kept (routers return the same list for the same answer). */
  routed: { readonly list: readonly Invoker[]; readonly context: ClusterContext } | undefined;
}

const routingKeys = ['loadBalance', 'cluster', 'retries', 'forks', 'hashArguments', 'virtualNodes', 'circuitBreaker', 'maxActivePerProvider'] as const;

/**
 * One service as one client references it: its directory, and per method the balancer and the
 * fault-tolerance strategy that carry a call to a provider.
 */
export class Reference {
  private readonly plans = new Map<string, MethodPlan>();
  /** What traffic rules lay over the options; undefined while none does. */
  private ruled: RuledSettings | undefined;
  /** Whether they set a timeout anywhere: calls ask for one only then. */
  private ruledTimeouts = false;
  /** What every call deposits in and every retry draws on; undefined when retries are not budgeted. */
  readonly retryBudget: RetryBudget | undefined;

  /**
   * What references with equal options share (one directory, one set of balancers): the options as
   * JSON, with each function and balancer object standing for itself, since JSON would drop or
   * flatten it and so make different balancers look equal.
   */
  static keyOf(options: ReferenceOptions): string {
    return JSON.stringify(options, (_key, value: unknown) => (standsForItself(value) ? { [identityKey]: identityOf(value) } : value));
  }

  constructor(
    readonly definition: ServiceDefinition,
    readonly directory: Directory,
    private readonly options: ReferenceOptions,
    private readonly defaults: RoutingOptions & ResilienceOptions & Required<Pick<RoutingOptions, 'loadBalance' | 'cluster' | 'retries' | 'forks'>> & Pick<ClusterOptions, 'failbackRetries' | 'failbackDelayMs'>,
    private readonly logger: Logger,
    private readonly waitForProvidersMs: number,
    private readonly onCircuitChange: (event: CircuitEvent) => void,
    /** Who watches each attempt at a provider (tracing, metrics); undefined for none. */
    private readonly observer?: ClientObserver,
  ) {
    this.retryBudget = retryBudgetOf(options.retryBudget ?? defaults.retryBudget ?? globalDefaults.retryBudget);
    const adaptive = options.adaptiveConcurrency ?? defaults.adaptiveConcurrency ?? false;
    const outliers = options.outlierEjection ?? defaults.outlierEjection ?? false;
    if (adaptive !== false || outliers !== false) {
      directory.protect(
        adaptive === false ? undefined : adaptiveLimitOptions(adaptive === true ? {} : adaptive, 'client'),
        outliers === false ? undefined : new OutlierDetector(outliers, logger),
      );
    }
  }

  send(call: Invocation): Promise<unknown> {
    this.retryBudget?.deposit();
    const plan = this.plan(call.method);
    if (this.directory.routesPerCall) return this.sendRouted(plan, call);
    if (this.directory.route(call.method).length > 0) return plan.strategy(plan.context, call);
    // Whether or not providers turned up, the strategy decides what a caller sees (failsafe swallows
    // "no provider" like any other failure).
    const waitedFrom = Date.now();
    const run = () => this.sendAfterWaiting(call, waitedFrom);
    return this.directory.ready(call, this.waitForProvidersMs).then(run, run);
  }

  /**
   * A call that waited for discovery: the providers came with the traffic rules in force for them
   * (a reference's rules are read before its first providers are used), so it goes as they say now,
   * and a rule's timeout counts from when it was sent, unless the caller gave it a deadline.
   */
  private sendAfterWaiting(call: Invocation, sentAt: number): Promise<unknown> {
    const plan = this.plan(call.method);
    const timeoutMs = plan.timeoutMs;
    const timed = timeoutMs === undefined || !(call instanceof ClientCall) || call.callerDeadline ? call : withDeadline(call, sentAt + timeoutMs);
    if (!this.directory.routesPerCall) return plan.strategy(plan.context, timed);
    const routed = this.directory.routeCall(timed);
    return plan.strategy(routed.length > 0 ? this.contextOf(plan, call.method, routed) : new RoutedContext(plan.context, routed, this.directory.explainCall(timed)), timed);
  }

  /**
   * The strategy context for a call routed by its own data to `routed`: the method's own when routing
   * kept every candidate, else one per list kept, remembered for the next call routed the same way
   * (so that calls allocate nothing while the answer stays the same).
   */
  private contextOf(plan: MethodPlan, method: string, routed: readonly Invoker[]): ClusterContext {
    const last = plan.routed;
    if (last !== undefined && last.list === routed) return last.context;
    const context = routed === this.directory.route(method) ? plan.context : new RoutedContext(plan.context, routed, undefined);
    plan.routed = { list: routed, context };
    return context;
  }

  /**
   * Lays what traffic rules set over the reference's options (undefined: nothing), which win over
   * them; each method's plan is made again on its next call.
   */
  applyRules(settings: RuledSettings | undefined): void {
    this.ruled = settings;
    this.ruledTimeouts = settings !== undefined && (settings.timeoutMs !== undefined || Object.values(settings.methods ?? {}).some((method) => method.timeoutMs !== undefined));
    this.plans.clear();
  }

  /** The timeout traffic rules set for calls of `method`, in ms; undefined without one. */
  ruleTimeoutMs(method: string): number | undefined {
    return this.ruledTimeouts ? this.plan(method).timeoutMs : undefined;
  }

  /** A call whose routing reads its own data: the strategy gets a context with this call's providers. */
  private sendRouted(plan: MethodPlan, call: Invocation): Promise<unknown> {
    const routed = this.directory.routeCall(call);
    if (routed.length > 0) return plan.strategy(this.contextOf(plan, call.method, routed), call);
    // Providers exist and routing left none: waiting for discovery would not change that.
    if (this.directory.route(call.method).length > 0) return plan.strategy(new RoutedContext(plan.context, routed, this.directory.explainCall(call)), call);
    const waitedFrom = Date.now();
    const run = () => this.sendAfterWaiting(call, waitedFrom);
    return this.directory.ready(call, this.waitForProvidersMs).then(run, run);
  }

  private plan(method: string): MethodPlan {
    let plan = this.plans.get(method);
    if (plan === undefined) {
      const ruled = this.ruled;
      const merged = { ...this.defaults, ...definedOnly(this.options), ...definedOnly(this.options.methods?.[method] ?? {}) };
      if (ruled !== undefined) overlay(merged, ruled, ruled.methods?.[method]);
      const declared = this.definition.methods.get(method);
      // A request stream can be sent once, to one provider: such a call is neither retried nor forked.
      const once = takesStream(declared);
      const idempotent = declared?.idempotent === true;
      plan = {
        strategy: clusterStrategy(once ? 'failfast' : merged.cluster),
        context: {
          invokers: () => this.directory.route(method),
          unreachable: () => this.directory.unreachable(method),
          balancer: balancerFor(merged.loadBalance, { hashArguments: merged.hashArguments, virtualNodes: merged.virtualNodes }),
          options: { retries: merged.retries, forks: merged.forks, failbackRetries: merged.failbackRetries, failbackDelayMs: merged.failbackDelayMs, retryBudget: this.retryBudget },
          logger: this.logger,
          ...guards(method, merged.circuitBreaker, merged.maxActivePerProvider === Infinity ? undefined : merged.maxActivePerProvider, this.directory.limitsAdaptively, this.onCircuitChange, this.observer),
          // A provider's adaptive limit refused the call before running it: like a call that never left.
          mayRetry: (error: RpcError) =>
            (error.unprocessed && (error.code === Code.UNAVAILABLE || error.code === Code.RESOURCE_EXHAUSTED)) || (idempotent && error.code === Code.UNAVAILABLE) || isAdaptiveRefusal(error),
        },
        timeoutMs: ruled === undefined ? undefined : (ruled.methods?.[method]?.timeoutMs ?? ruled.timeoutMs),
        routed: undefined,
      };
      this.plans.set(method, plan);
    }
    return plan;
  }
}

// No option is named so: an object carrying it cannot be mistaken for one a caller wrote.
const identityKey = '\0identity';
const identities = new WeakMap<object, number>();
let lastIdentity = 0;

/** A strategy or other function, a balancer object, or a retry budget (whose state is no option). */
function standsForItself(value: unknown): value is object {
  return typeof value === 'function' || value instanceof RetryBudget || (typeof value === 'object' && value !== null && typeof (value as { select?: unknown }).select === 'function');
}

function identityOf(value: object): number {
  let identity = identities.get(value);
  if (identity === undefined) identities.set(value, (identity = ++lastIdentity));
  return identity;
}

/**
 * Puts the rules' settings (the service's, then the method's) over `merged`. A rule's circuit breaker
 * settings change the fields they name and keep the others (`false` turns the breaker off).
 */
function overlay(merged: RoutingOptions, ...layers: Array<RuledMethodSettings | undefined>): void {
  for (const layer of layers) {
    if (layer === undefined) continue;
    for (const key of routingKeys) {
      const value = layer[key];
      if (value === undefined) continue;
      if (key === 'circuitBreaker' && typeof value === 'object' && typeof merged.circuitBreaker === 'object') merged.circuitBreaker = { ...merged.circuitBreaker, ...value };
      else (merged as Record<string, unknown>)[key] = value;
    }
  }
}

function definedOnly(options: RoutingOptions): RoutingOptions {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) if (value !== undefined && key !== 'methods') out[key] = value;
  return out as RoutingOptions;
}
