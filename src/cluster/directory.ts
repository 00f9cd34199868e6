import { Code } from '../core/code.js';
import type { Invocation } from '../core/invocation.js';
import { RpcError } from '../core/rpc-error.js';
import type { ServiceDefinition } from '../core/service.js';
import { providerUrl, type Provider } from '../registry/provider.js';
import type { ChannelPool } from './channel-pool.js';
import { Invoker } from './invoker.js';
import { ProtocolChoice, type ProtocolPreference } from './protocol-choice.js';
import { routes, type RouteSpec } from './router.js';
import { hasTransport } from '../transport/registry.js';

/**
 * The live providers of one service for one client: fed by a registry subscription or by fixed
 * addresses, kept as invokers (whose channels and statistics survive list updates), and routed
 * per method by version and group. A provider registered at several addresses (one server on
 * several protocols) is one invoker, on the address of the protocol the client prefers.
 */
export class Directory {
  /** By logical provider id (see `logicalProviderId`). */
  private invokers = new Map<string, Invoker>();
  private routed = new Map<string, Invoker[]>();
  /** Every entry of the last list, chosen or not: what providers offer, for error messages. */
  private entries: readonly Provider[] = [];
  private known = false;
  private waiters: Array<() => void> = [];
  private readonly choice: ProtocolChoice;

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
    // An entry switched off by an operator is never chosen, so its provider is reached over another
    // protocol; one this process has no transport for (a Dubbo peer's dubbo://, say) is passed over.
    const usable = providers.filter((provider) => provider.params.disabled !== 'true' && hasTransport(provider.protocol));
    const chosen = this.choice.choose(usable, (id) => this.invokers.get(id)?.provider.address);
    const next = new Map<string, Invoker>();
    for (const [id, provider] of chosen) {
      const existing = this.invokers.get(id);
      if (existing === undefined || existing.provider.address !== provider.address) {
        next.set(id, new Invoker(provider, this.pool.acquire(provider.address)));
      } else {
        // Same address: the connection stays, and so do the statistics unless the entry changed.
        next.set(id, sameEntry(existing.provider, provider) ? existing : new Invoker(provider, existing.channel));
      }
    }
    for (const [id, invoker] of this.invokers) {
      // Released when its provider left, or moved to another of its addresses.
      if (next.get(id)?.channel !== invoker.channel) this.pool.release(invoker.provider.address, this.closeTimeoutMs);
    }
    this.entries = providers;
    this.invokers = next;
    this.routed = new Map();
    this.known = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** The invokers that can serve `method` as the consumer asked for it. */
  route(method: string): readonly Invoker[] {
    let list = this.routed.get(method);
    if (list === undefined) {
      list = [...this.invokers.values()].filter((invoker) => routes(invoker.provider, this.definition.key, this.spec, method));
      this.routed.set(method, list);
    }
    return list;
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
  }

  /**
   * Why no provider can serve `method` although some exist: they offer none of the protocols the
   * client asked for. Undefined when that is not the case (no provider at all, or some can serve).
   */
  unreachable(method: string): RpcError | undefined {
    if (this.choice.wanted === undefined || this.route(method).length > 0) return undefined;
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

function sameEntry(a: Provider, b: Provider): boolean {
  return a === b || providerUrl(a) === providerUrl(b);
}
