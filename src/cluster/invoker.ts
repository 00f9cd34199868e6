import type { Invocation } from '../core/invocation.js';
import type { AttemptTarget, ClientObserver } from '../core/observer.js';
import { tell } from '../core/observed-call.js';
import { RpcError } from '../core/rpc-error.js';
import { serviceId } from '../core/service.js';
import type { Provider } from '../registry/provider.js';
import { TOKEN_PARAM, withProviderToken } from '../security/provider-token.js';
import type { Channel } from '../transport/transport.js';
import { withAttemptTimeout, type AttemptTimeouts } from './attempt-deadline.js';
import type { Candidate } from './balancers/balancer.js';
import { nextPeakMs, PEAK_ALPHA, PEAK_IDLE_MS } from './balancers/latency.js';
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitEvent, type CircuitState } from './circuit-breaker.js';
import type { AdaptiveLimit } from './adaptive-limit.js';
import type { OutlierHost } from './outlier-ejection.js';
import { Code } from '../core/code.js';

/**
 * One provider as a client sees it: its registry record, the channel to its address, and what the
 * balancers need to know (calls in flight, latency average).
 */
export class Invoker implements Candidate, AttemptTarget {
  active = 0;
  /** Peak-EWMA latency when the last call ended, in ms (balancers/latency.ts). */
  latencyEwmaMs = 0;
  /** When the last call to it ended (`performance.now()`). */
  sampledAt = 0;
  /** Sum of the start times of the calls in flight (`performance.now()`), for their mean age. */
  pendingStartsMs = 0;
  /** Timeouts a traffic rule sets for calls to this provider alone (set by the directory); undefined for none. */
  attemptTimeouts: AttemptTimeouts | undefined = undefined;
  /** This client's adaptive limit of calls in flight to the provider (set by the directory); undefined for none. */
  limiter: AdaptiveLimit | undefined = undefined;
  /** What outlier ejection knows of the provider (set by the directory); undefined when it is off. */
  outlier: OutlierHost | undefined = undefined;
  private readonly target: string;
  /** The token the provider published (Dubbo's `token` parameter), sent with every call to it. */
  private readonly token: string | undefined;
  private breakers: Map<string, BreakerEntry> | undefined;
  private lastBreaker: BreakerEntry | undefined;

  constructor(
    readonly provider: Provider,
    readonly channel: Channel,
  ) {
    this.target = serviceId(provider.service);
    this.token = provider.params[TOKEN_PARAM] || undefined;
  }

  /** The provider's address, as an attempt's target for the client's observers. */
  get address(): string {
    return this.provider.address;
  }

  get protocol(): string {
    return this.provider.protocol;
  }

  /** Not known to be down or leaving; balancers pick among available invokers first. */
  get available(): boolean {
    const state = this.channel.state;
    return state !== 'TRANSIENT_FAILURE' && state !== 'SHUTDOWN' && !this.channel.draining;
  }

  /** Taken out of load balancing by outlier ejection for now. */
  get ejected(): boolean {
    return this.outlier?.ejected === true;
  }

  /**
   * The circuit breaker of one method at this provider, made on first use, and made again when its
   * options change (a traffic rule changed them); options equal to the last ones keep its state.
   */
  breaker(method: string, options: CircuitBreakerOptions, onChange: (event: CircuitEvent) => void): CircuitBreaker {
    // Calls tend to come in runs of one method: the last one asked is answered without a lookup.
    const last = this.lastBreaker;
    if (last !== undefined && method === last.method && options === last.options) return last.breaker;
    this.breakers ??= new Map();
    let entry = this.breakers.get(method);
    if (entry === undefined || !sameBreakerOptions(entry.options, options)) {
      entry = { method, options, breaker: new CircuitBreaker(this.provider.address, method, options, onChange) };
      this.breakers.set(method, entry);
    } else {
      entry.options = options;
    }
    this.lastBreaker = entry;
    return entry.breaker;
  }

  /** The circuit breakers made so far, by method, with their states. */
  breakerStates(): Array<{ method: string; state: CircuitState }> {
    return [...(this.breakers ?? new Map<string, BreakerEntry>())].map(([method, { breaker }]) => ({ method, state: breaker.state }));
  }

  /**
   * Sends the call to this provider, and reports how it went to `breaker` if one guards it and to
   * the attempt's probe if the client's observers watch it (here, where the attempt is awaited
   * anyway, so that watching it costs no promise of its own).
   */
  async invoke(call: Invocation, breaker: CircuitBreaker | undefined, observer?: ClientObserver): Promise<unknown> {
    const timed = this.attemptTimeouts === undefined ? call : withAttemptTimeout(call, this.attemptTimeouts);
    const probe = observer?.attempt(timed, this);
    const sent = withProviderToken(probe?.call ?? timed, this.token);
    this.active++;
    const started = performance.now();
    this.pendingStartsMs += started;
    try {
      const value = await (probe?.run === undefined ? this.channel.call(sent, this.target) : probe.run(() => this.channel.call(sent, this.target)));
      const ended = this.settled(started, false);
      breaker?.onSuccess(ended - started, ended);
      // `active` no longer counts this call; the limit's sample does.
      this.limiter?.onSample(ended - started, this.active + 1, ended);
      this.outlier?.record(undefined, ended);
      if (probe !== undefined) tell(probe, undefined);
      return value;
    } catch (error) {
      const ended = this.settled(started, true);
      const failure = RpcError.from(error);
      breaker?.onError(failure, ended - started, ended);
      if (this.limiter !== undefined && (failure.code === Code.RESOURCE_EXHAUSTED || failure.code === Code.DEADLINE_EXCEEDED)) this.limiter.onDrop(this.active + 1, ended);
      this.outlier?.record(failure, ended);
      if (probe !== undefined) tell(probe, failure);
      throw error;
    }
  }

  /** Counts a call out and keeps the latency figures; returns the time it ended. */
  private settled(started: number, failed: boolean): number {
    // Back to exactly 0 whenever nothing is in flight, so that rounding cannot build up.
    this.pendingStartsMs = --this.active === 0 ? 0 : this.pendingStartsMs - started;
    const ended = performance.now();
    const elapsed = ended - started;
    // nextPeakMs, with its two common cases first, where they cost no call.
    const peak = this.latencyEwmaMs;
    if (elapsed >= peak) this.latencyEwmaMs = elapsed;
    else if (ended - this.sampledAt > PEAK_IDLE_MS) this.latencyEwmaMs = nextPeakMs(peak, this.sampledAt, elapsed, ended, failed);
    else if (!failed) this.latencyEwmaMs = peak + PEAK_ALPHA * (elapsed - peak);
    this.sampledAt = ended;
    return ended;
  }
}

interface BreakerEntry {
  readonly method: string;
  options: CircuitBreakerOptions;
  readonly breaker: CircuitBreaker;
}

const breakerOptionNames = ['failureRateThreshold', 'slowCallRateThreshold', 'slowCallDurationMs', 'minimumCalls', 'windowMs', 'openMs', 'halfOpenProbes', 'isFailure'] as const;

function sameBreakerOptions(a: CircuitBreakerOptions, b: CircuitBreakerOptions): boolean {
  return a === b || breakerOptionNames.every((name) => a[name] === b[name]);
}
