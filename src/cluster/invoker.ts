import type { Invocation } from '../core/invocation.js';
import { RpcError } from '../core/rpc-error.js';
import { serviceId } from '../core/service.js';
import type { Provider } from '../registry/provider.js';
import { TOKEN_PARAM, withProviderToken } from '../security/provider-token.js';
import type { Channel } from '../transport/transport.js';
import type { Candidate } from './balancers/balancer.js';
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitEvent } from './circuit-breaker.js';

// Weight of the newest sample in the latency average: about the last ten calls count.
const EWMA_ALPHA = 0.2;

/**
 * One provider as a client sees it: its registry record, the channel to its address, and what the
 * balancers need to know (calls in flight, latency average).
 */
export class Invoker implements Candidate {
  active = 0;
  latencyEwmaMs = 0;
  private readonly target: string;
  /** The token the provider published (Dubbo's `token` parameter), sent with every call to it. */
  private readonly token: string | undefined;
  private breakers: Map<string, CircuitBreaker> | undefined;
  private lastBreaker: { method: string; breaker: CircuitBreaker } | undefined;

  constructor(
    readonly provider: Provider,
    readonly channel: Channel,
  ) {
    this.target = serviceId(provider.service);
    this.token = provider.params[TOKEN_PARAM] || undefined;
  }

  /** Not known to be down or leaving; balancers pick among available invokers first. */
  get available(): boolean {
    const state = this.channel.state;
    return state !== 'TRANSIENT_FAILURE' && state !== 'SHUTDOWN' && !this.channel.draining;
  }

  /** The circuit breaker of one method at this provider, made on first use. */
  breaker(method: string, options: CircuitBreakerOptions, onChange: (event: CircuitEvent) => void): CircuitBreaker {
    // Calls tend to come in runs of one method: the last one asked is answered without a lookup.
    if (method === this.lastBreaker?.method) return this.lastBreaker.breaker;
    this.breakers ??= new Map();
    let breaker = this.breakers.get(method);
    if (breaker === undefined) {
      breaker = new CircuitBreaker(this.provider.address, method, options, onChange);
      this.breakers.set(method, breaker);
    }
    this.lastBreaker = { method, breaker };
    return breaker;
  }

  /** Sends the call to this provider, and reports how it went to `breaker` if one guards it. */
  async invoke(call: Invocation, breaker: CircuitBreaker | undefined): Promise<unknown> {
    this.active++;
    const started = performance.now();
    try {
      const value = await this.channel.call(withProviderToken(call, this.token), this.target);
      const ended = this.settled(started);
      breaker?.onSuccess(ended - started, ended);
      return value;
    } catch (error) {
      const ended = this.settled(started);
      breaker?.onError(RpcError.from(error), ended - started, ended);
      throw error;
    }
  }

  /** Counts a call out and keeps the latency average; returns the time it ended. */
  private settled(started: number): number {
    this.active--;
    const ended = performance.now();
    const elapsed = ended - started;
    this.latencyEwmaMs = this.latencyEwmaMs === 0 ? elapsed : this.latencyEwmaMs + EWMA_ALPHA * (elapsed - this.latencyEwmaMs);
    return ended;
  }
}
