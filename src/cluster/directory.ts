import { Code } from '../core/code.js';
import type { Invocation } from '../core/invocation.js';
import { RpcError } from '../core/rpc-error.js';
import type { ServiceDefinition } from '../core/service.js';
import { providerUrl, type Provider } from '../registry/provider.js';
import type { AttemptTimeouts } from './attempt-deadline.js';
import type { ChannelPool } from './channel-pool.js';
import { Invoker } from './invoker.js';
import { AdaptiveLimit, type ResolvedAdaptiveLimitOptions } from './adaptive-limit.js';
import type { OutlierDetector } from './outlier-ejection.js';
import { ProtocolChoice, type ProtocolPreference } from './protocol-choice.js';
import { routes, type RouteSpec } from './router.js';
import type { RouterChain } from './rule-routing.js';
import { hasTransport } from '../transport/registry.js';

/** What traffic rules make of one provider entry as this consumer sees it (src/rules/consumer-rules.ts). */
export interface ProviderAdjustment {
  /** The entry with the rules' `weight`, `disabled` and `warmup` in it. */
  readonly provider: Provider;
  /** The rules' timeouts for calls to this provider, where they differ from the service's. */
  readonly timeouts?: AttemptTimeouts;
}

/** Adjusts an entry for the rules in force; undefined leaves it as it is. */
export type ProviderAdjuster = (provider: Provider) => ProviderAdjustment | undefined;

/**
 * The live providers of one service for one client: fed by a registry subscription or by fixed
 * addresses, kept as invokers (whose channels and statistics survive list updates), and routed
 * per method by version and group, then by the routers of traffic rules if any. A provider
 * registered at several addresses (one server on several protocols) is one invoker, on the address
 * of the protocol the client prefers.
 */
export class Directory {
  /** By logical provider id (see `logicalProviderId`). */
  private invokers = new Map<string, Invoker>();
  /** What `route(method)` returns, per method, until the providers or the routers change. */
  private routed = new Map<string, readonly Invoker[]>();
  /** Per method, the invokers that serve it as the consumer asked (version, group), before rule routers. */
  private candidatesByMethod = new Map<string, Invoker[]>();
  private chain: RouterChain | undefined;
  private adjuster: ProviderAdjuster | undefined;
  /**
   * Whether a routing rule reads each call's own data (a tag, an argument): calls are then routed
   * one by one with `routeCall`, and `route(method)` gives the providers before those rules.
   */
  routesPerCall = false;
  /** Every entry of the last list, chosen or not: what providers offer, for error messages. */
  private entries: readonly Provider[] = [];
  private known = false;
  private waiters: Array<() => void> = [];
  private readonly choice: ProtocolChoice;
  /** Adaptive limits per provider address, kept across list updates while the address stays; undefined when off. */
  private adaptive: { readonly options: ResolvedAdaptiveLimitOptions; readonly byAddress: Map<string, AdaptiveLimit> } | undefined;
  /** Outlier ejection over these providers; undefined when off. */
  private outliers: OutlierDetector | undefined;

  constructor(
    private readonly definition: ServiceDefinition,
    private readonly spec: RouteSpec,
    private readonly pool: ChannelPool,
    private readonly closeTimeoutMs: number,
    protocol?: ProtocolPreference,
  ) {
    this.choice = new ProtocolChoice(protocol, pool.tlsConfigured);
  }

  /** Replaces the provider list (registries call this on every change). */
  update(providers: readonly Provider[]): void {
    const adjust = this.adjuster;
    const timeouts = adjust === undefined ? undefined : new Map<Provider, AttemptTimeouts>();
    const adjusted = adjust === undefined ? providers : providers.map((provider) => {
      const adjustment = adjust(provider);
      if (adjustment === undefined) return provider;
      if (adjustment.timeouts !== undefined) timeouts!.set(adjustment.provider, adjustment.timeouts);
      return adjustment.provider;
    });
    // An entry switched off by an operator is never chosen, so its provider is reached over another
    // protocol; one this process has no transport for (a Dubbo peer's dubbo://, say) is passed over.
    const usable = adjusted.filter((provider) => provider.params.disabled !== 'true' && hasTransport(provider.protocol));
    const chosen = this.choice.choose(usable, (id) => this.invokers.get(id)?.provider.address);
    const next = new Map<string, Invoker>();
    for (const [id, provider] of chosen) {
      const existing = this.invokers.get(id);
      let invoker: Invoker;
      if (existing === undefined || existing.provider.address !== provider.address) {
        invoker = new Invoker(provider, this.pool.acquire(provider.address));
      } else {
        // Same address: the connection stays, and so do the statistics unless the entry changed.
        invoker = sameEntry(existing.provider, provider) ? existing : new Invoker(provider, existing.channel);
      }
      invoker.attemptTimeouts = timeouts?.get(provider);
      this.equip(invoker);
      next.set(id, invoker);
    }
    if (this.adaptive !== undefined || this.outliers !== undefined) this.forgetGone(next);
    for (const [id, invoker] of this.invokers) {
      // Released when its provider left, or moved to another of its addresses.
      if (next.get(id)?.channel !== invoker.channel) this.pool.release(invoker.provider.address, this.closeTimeoutMs);
    }
    this.entries = providers;
    this.invokers = next;
    this.routed = new Map();
    this.candidatesByMethod = new Map();
    this.known = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * The invokers that can serve `method` as the consumer asked for it, and as the routing rules
   * send its calls (unless they route each call on its own: see `routesPerCall`).
   */
  route(method: string): readonly Invoker[] {
    let list = this.routed.get(method);
    if (list === undefined) {
      const chain = this.chain;
      if (chain === undefined) list = this.serving(method);
      else list = chain.perCall ? this.candidates(method) : chain.routeMethod(this.candidates(method), method);
      this.routed.set(method, list);
    }
    return list;
  }

  /** The invokers routing rules keep for this call; for directories that route per call. */
  routeCall(call: Invocation): readonly Invoker[] {
    const candidates = this.candidates(call.method);
    return this.chain === undefined ? candidates : this.chain.routeCall(candidates, call);
  }

  /**
   * Why `routeCall(call)` is empty: a routing rule's explanation when providers exist, else what
   * `unreachable` says (undefined when there is simply no provider).
   */
  explainCall(call: Invocation): RpcError | undefined {
    const candidates = this.candidates(call.method);
    if (this.chain === undefined || candidates.length === 0) return this.unreachable(call.method);
    return routedAway(`${this.describe()}.${call.method}`, this.chain.explainCall(candidates, call));
  }

  /**
   * Routes calls through the routers of traffic rules from now on (undefined: none). Until the
   * providers or the routers change, what a router kept is reused.
   */
  setRouting(chain: RouterChain | undefined): void {
    this.chain = chain;
    this.routesPerCall = chain?.perCall ?? false;
    this.routed = new Map();
  }

  /** Whether each provider has an adaptive limit of the calls in flight to it. */
  get limitsAdaptively(): boolean {
    return this.adaptive !== undefined;
  }

  /**
   * Gives every provider, now and on each update, an adaptive limit of this client's calls in flight
   * to it (`adaptive`), and watches them for outliers (`outliers`); undefined leaves either off. Both
   * follow a provider by its address, so a changed registry entry keeps what was learnt of it.
   */
  protect(adaptive: ResolvedAdaptiveLimitOptions | undefined, outliers: OutlierDetector | undefined): void {
    this.adaptive = adaptive === undefined ? undefined : { options: adaptive, byAddress: new Map() };
    this.outliers = outliers;
    for (const invoker of this.invokers.values()) this.equip(invoker);
  }

  private equip(invoker: Invoker): void {
    const address = invoker.provider.address;
    const adaptive = this.adaptive;
    if (adaptive !== undefined) {
      let limiter = adaptive.byAddress.get(address);
      if (limiter === undefined) adaptive.byAddress.set(address, (limiter = new AdaptiveLimit(adaptive.options)));
      invoker.limiter = limiter;
    }
    if (this.outliers !== undefined) invoker.outlier = this.outliers.host(address);
  }

  private forgetGone(invokers: ReadonlyMap<string, Invoker>): void {
    const addresses = new Set([...invokers.values()].map((invoker) => invoker.provider.address));
    const adaptive = this.adaptive;
    if (adaptive !== undefined) for (const address of adaptive.byAddress.keys()) if (!addresses.has(address)) adaptive.byAddress.delete(address);
    this.outliers?.retain(addresses);
  }

  /** Adjusts every entry, now and on each update, for the overrides of traffic rules (undefined: none). */
  setAdjuster(adjuster: ProviderAdjuster | undefined): void {
    if (adjuster === undefined && this.adjuster === undefined) return;
    this.adjuster = adjuster;
    if (this.known) this.update(this.entries);
  }

  /** The invokers that serve `method` for the version and group the consumer asked, before rule routers. */
  private candidates(method: string): readonly Invoker[] {
    if (this.chain === undefined) return this.route(method);
    let list = this.candidatesByMethod.get(method);
    if (list === undefined) {
      list = this.serving(method);
      this.candidatesByMethod.set(method, list);
    }
    return list;
  }

  private serving(method: string): Invoker[] {
    return [...this.invokers.values()].filter((invoker) => routes(invoker.provider, this.definition.key, this.spec, method));
  }

  /**
   * Resolves once some provider can serve the call, waiting for discovery up to `waitMs` (and never
   * past the call's deadline or cancellation); rejects with UNAVAILABLE when none turns up.
   */
  async ready(call: Invocation, waitMs: number): Promise<void> {
    if (this.route(call.method).length > 0) return;
    const until = Math.min(Date.now() + waitMs, call.deadline ?? Infinity);
    while (this.route(call.method).length === 0) {
      // Waiting would not change what the providers offer: the strategy reports it at once.
      if (this.unreachable(call.method) !== undefined) return;
      const left = until - Date.now();
      if (left <= 0 || call.signal?.aborted) {
        const what = this.known ? 'no provider' : 'no answer from the registry yet';
        throw new RpcError(Code.UNAVAILABLE, `${what} for ${this.describe()}.${call.method}`, { unprocessed: true });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Every provider this client uses for the service now, whatever the method. */
  all(): readonly Invoker[] {
    return [...this.invokers.values()];
  }

  close(): void {
    for (const invoker of this.invokers.values()) this.pool.release(invoker.provider.address, this.closeTimeoutMs);
    this.invokers = new Map();
    this.entries = [];
    this.routed = new Map();
    this.candidatesByMethod = new Map();
  }

  /**
   * Why no provider can serve `method` although some exist: they offer none of the protocols the
   * client asked for. Undefined when that is not the case (no provider at all, or some can serve).
   */
  unreachable(method: string): RpcError | undefined {
    if (this.route(method).length > 0) return undefined;
    const chain = this.chain;
    if (chain !== undefined && !chain.perCall) {
      const candidates = this.candidates(method);
      if (candidates.length > 0) return routedAway(`${this.describe()}.${method}`, chain.explainMethod(candidates, method));
    }
    if (this.choice.wanted === undefined) return undefined;
    const offered = this.entries.filter((entry) => !this.choice.accepts(entry.protocol) && routes(entry, this.definition.key, this.spec, method));
    if (offered.length === 0) return undefined;
    return this.choice.mismatch(`${this.describe()}.${method}`, offered.map((entry) => entry.protocol));
  }

  private describe(): string {
    const version = this.spec.version ?? this.definition.key.version;
    const group = this.spec.group ?? this.definition.key.group;
    return `${group ? `${group}/` : ''}${this.definition.key.name}${version ? `:${version}` : ''}`;
  }
}

/** A call that routing rules left with no provider: it never left, and waiting would not help. */
function routedAway(target: string, explanation: string): RpcError {
  return new RpcError(Code.UNAVAILABLE, `no provider for ${target}: ${explanation}`, { unprocessed: true });
}

function sameEntry(a: Provider, b: Provider): boolean {
  return a === b || providerUrl(a) === providerUrl(b);
}
