import { Code } from '../core/code.js';
import type { Invocation } from '../core/invocation.js';
import { RpcError } from '../core/rpc-error.js';
import type { ServiceDefinition } from '../core/service.js';
import { providerId, type Provider } from '../registry/provider.js';
import type { ChannelPool } from './channel-pool.js';
import { Invoker } from './invoker.js';
import { routes, type RouteSpec } from './router.js';

/**
 * The live providers of one service for one client: fed by a registry subscription or by fixed
 * addresses, kept as invokers (whose channels and statistics survive list updates), and routed
 * per method by version and group.
 */
export class Directory {
  private invokers = new Map<string, Invoker>();
  private routed = new Map<string, Invoker[]>();
  private known = false;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly definition: ServiceDefinition,
    private readonly spec: RouteSpec,
    private readonly pool: ChannelPool,
    private readonly closeTimeoutMs: number,
  ) {}

  /** Replaces the provider list (registries call this on every change). */
  update(providers: readonly Provider[]): void {
    const next = new Map<string, Invoker>();
    for (const provider of providers) {
      const id = providerId(provider);
      const existing = this.invokers.get(id);
      next.set(id, existing !== undefined && existing.provider.timestamp === provider.timestamp && existing.provider.weight === provider.weight
        ? existing
        : new Invoker(provider, existing?.channel ?? this.pool.acquire(provider.address)));
    }
    for (const [id, invoker] of this.invokers) {
      if (!next.has(id)) this.pool.release(invoker.provider.address, this.closeTimeoutMs);
    }
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

  close(): void {
    for (const invoker of this.invokers.values()) this.pool.release(invoker.provider.address, this.closeTimeoutMs);
    this.invokers = new Map();
    this.routed = new Map();
  }

  private describe(): string {
    const version = this.spec.version ?? this.definition.key.version;
    const group = this.spec.group ?? this.definition.key.group;
    return `${group ? `${group}/` : ''}${this.definition.key.name}${version ? `:${version}` : ''}`;
  }
}
