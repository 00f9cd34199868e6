import { createBalancer, type BalancerName } from './cluster/balancers/index.js';
import type { Directory } from './cluster/directory.js';
import { clusterStrategy, type ClusterContext, type ClusterName, type ClusterOptions, type ClusterStrategy } from './cluster/fault-tolerance/index.js';
import { Code } from './core/code.js';
import type { Invocation } from './core/invocation.js';
import type { Logger } from './core/logger.js';
import type { RpcError } from './core/rpc-error.js';
import type { ServiceDefinition } from './core/service.js';
import type { Serializer } from './serialization/serializer.js';
import type { Invoker } from './cluster/invoker.js';

/** How calls of a method are spread and retried; settable per reference and per method. */
export interface RoutingOptions {
  /** Default `random` (weighted). */
  loadBalance?: BalancerName;
  /** Default `failover`. */
  cluster?: ClusterName;
  /** failover: further providers to try. Default 2. */
  retries?: number;
  /** forking: providers called at once. Default 2. */
  forks?: number;
  /** consistenthash: indexes of the arguments that make the key. Default `[0]`. */
  hashArguments?: number[];
  /** consistenthash: ring points per provider. Default 160. */
  virtualNodes?: number;
}

/** What a proxy is a reference to: which versions and groups, and how to reach them. */
export interface ReferenceOptions extends RoutingOptions {
  /** Exact version, `'*'` for any, or a semver range such as `^1.0.0`. Default: the definition's. */
  version?: string;
  /** Group; `'*'` for any. Default: the definition's. */
  group?: string;
  /** Per-method routing that overrides the reference's. */
  methods?: Record<string, RoutingOptions>;
}

interface MethodPlan {
  strategy: ClusterStrategy;
  context: ClusterContext;
}

/**
 * One service as one client references it: its directory, and per method the balancer and the
 * fault-tolerance strategy that carry a call to a provider.
 */
export class Reference {
  private readonly plans = new Map<string, MethodPlan>();

  constructor(
    readonly definition: ServiceDefinition,
    readonly directory: Directory,
    private readonly options: ReferenceOptions,
    private readonly defaults: Required<Pick<RoutingOptions, 'loadBalance' | 'cluster' | 'retries' | 'forks'>> & Pick<ClusterOptions, 'failbackRetries' | 'failbackDelayMs'>,
    private readonly serializer: Serializer,
    private readonly logger: Logger,
    private readonly waitForProvidersMs: number,
  ) {}

  send(call: Invocation): Promise<unknown> {
    const plan = this.plan(call.method);
    if (this.directory.route(call.method).length > 0) return plan.strategy(plan.context, call);
    return this.directory.ready(call, this.waitForProvidersMs).then(() => plan.strategy(plan.context, call));
  }

  private plan(method: string): MethodPlan {
    let plan = this.plans.get(method);
    if (plan === undefined) {
      const merged = { ...this.defaults, ...definedOnly(this.options), ...definedOnly(this.options.methods?.[method] ?? {}) };
      const idempotent = this.definition.methods.get(method)?.idempotent === true;
      const serializer = this.serializer;
      plan = {
        strategy: clusterStrategy(merged.cluster),
        context: {
          invokers: () => this.directory.route(method),
          balancer: createBalancer(merged.loadBalance, { hashArguments: merged.hashArguments, virtualNodes: merged.virtualNodes }),
          options: { retries: merged.retries, forks: merged.forks, failbackRetries: merged.failbackRetries, failbackDelayMs: merged.failbackDelayMs },
          logger: this.logger,
          send: (invoker: Invoker, call: Invocation) => invoker.invoke(call, serializer),
          mayRetry: (error: RpcError) => error.code === Code.UNAVAILABLE && (error.unprocessed || idempotent),
        },
      };
      this.plans.set(method, plan);
    }
    return plan;
  }
}

function definedOnly(options: RoutingOptions): RoutingOptions {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) if (value !== undefined && key !== 'methods') out[key] = value;
  return out as RoutingOptions;
}
