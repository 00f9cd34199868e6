import { Code } from '../core/code.js';
import type { RpcError } from '../core/rpc-error.js';

export type CircuitState = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

export interface CircuitBreakerOptions {
  /** Share of failed calls in the window (0..1) that opens the circuit. Default 0.5. */
  failureRateThreshold?: number;
  /** Share of slow calls in the window (0..1) that opens the circuit. Default 1 (slowness alone never opens it). */
  slowCallRateThreshold?: number;
  /** A call slower than this counts as slow. Default 2000 ms. */
  slowCallDurationMs?: number;
  /** The rates are judged only once the window holds this many calls. Default 10. */
  minimumCalls?: number;
  /** Length of the rolling window. Default 10000 ms (kept in 10 buckets). */
  windowMs?: number;
  /** How long an open circuit refuses calls before letting probes through. Default 5000 ms. */
  openMs?: number;
  /** Probe calls let through while half-open; all must succeed to close. Default 3. */
  halfOpenProbes?: number;
  /** Which errors count as failures. Default: UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, UNKNOWN, RESOURCE_EXHAUSTED. */
  isFailure?: (error: RpcError) => boolean;
}

export interface CircuitEvent {
  provider: string;
  method: string;
  from: CircuitState;
  to: CircuitState;
  /** Failure and slow-call rates of the window when the circuit opened. */
  failureRate?: number;
  slowRate?: number;
}

const BUCKETS = 10;
const failureCodes = new Set<number>([Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED, Code.INTERNAL, Code.UNKNOWN, Code.RESOURCE_EXHAUSTED]);

/**
 * A circuit breaker for one provider and method. CLOSED counts outcomes over a rolling window and
 * opens when the failure or slow-call rate passes its threshold; OPEN refuses calls for `openMs`;
 * HALF_OPEN lets `halfOpenProbes` calls through and closes if they all succeed, else opens again.
 */
export class CircuitBreaker {
  private stateNow: CircuitState = 'CLOSED';
  private readonly calls = new Array<number>(BUCKETS).fill(0);
  private readonly failures = new Array<number>(BUCKETS).fill(0);
  private readonly slow = new Array<number>(BUCKETS).fill(0);
  // Running totals of the window, kept with the buckets so a call adds up nothing.
  private totalCalls = 0;
  private totalFailures = 0;
  private totalSlow = 0;
  private bucketStart = 0;
  private bucket = 0;
  private openedAt = 0;
  private probesLeft = 0;
  private probesPending = 0;
  private readonly o: Required<CircuitBreakerOptions>;

  constructor(
    private readonly provider: string,
    private readonly method: string,
    options: CircuitBreakerOptions,
    private readonly onChange: (event: CircuitEvent) => void,
    /** Milliseconds on a monotonic clock; `performance.now()` unless a test brings its own. */
    private readonly now: () => number = () => performance.now(),
  ) {
    this.o = {
      failureRateThreshold: options.failureRateThreshold ?? 0.5,
      slowCallRateThreshold: options.slowCallRateThreshold ?? 1,
      slowCallDurationMs: options.slowCallDurationMs ?? 2000,
      minimumCalls: options.minimumCalls ?? 10,
      windowMs: options.windowMs ?? 10_000,
      openMs: options.openMs ?? 5000,
      halfOpenProbes: options.halfOpenProbes ?? 3,
      isFailure: options.isFailure ?? ((error) => failureCodes.has(error.code)),
    };
  }

  get state(): CircuitState {
    if (this.stateNow === 'OPEN' && this.now() - this.openedAt >= this.o.openMs) this.transition('HALF_OPEN');
    return this.stateNow;
  }

  /** Whether a call may go now; a half-open circuit counts the probe it lets through. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'CLOSED') return true;
    if (state === 'OPEN' || this.probesLeft === 0) return false;
    this.probesLeft--;
    this.probesPending++;
    return true;
  }

  /** Whether a call could go now, without taking a probe: for choosing among providers. */
  get admits(): boolean {
    const state = this.state;
    return state === 'CLOSED' || (state === 'HALF_OPEN' && this.probesLeft > 0);
  }

  /** Counts a call that succeeded; `now` saves reading the clock when the caller just has. */
  onSuccess(elapsedMs: number, now = this.now()): void {
    this.record(false, elapsedMs >= this.o.slowCallDurationMs, now);
  }

  onError(error: RpcError, elapsedMs: number, now = this.now()): void {
    this.record(this.o.isFailure(error), elapsedMs >= this.o.slowCallDurationMs, now);
  }

  private record(failed: boolean, slow: boolean, now: number): void {
    if (this.stateNow === 'HALF_OPEN') {
      if (this.probesPending > 0) this.probesPending--;
      if (failed || slow) this.open(undefined, undefined);
      else if (this.probesLeft === 0 && this.probesPending === 0) this.transition('CLOSED');
      return;
    }
    if (this.stateNow === 'OPEN') return; // a call that left before the circuit opened
    this.rotate(now);
    this.calls[this.bucket]!++;
    this.totalCalls++;
    if (failed) {
      this.failures[this.bucket]!++;
      this.totalFailures++;
    }
    if (slow) {
      this.slow[this.bucket]!++;
      this.totalSlow++;
    }
    const calls = this.totalCalls;
    if (calls < this.o.minimumCalls || (this.totalFailures === 0 && this.totalSlow === 0)) return;
    const failureRate = this.totalFailures / calls;
    const slowRate = this.totalSlow / calls;
    if (failureRate >= this.o.failureRateThreshold || (this.o.slowCallRateThreshold < 1 && slowRate >= this.o.slowCallRateThreshold)) {
      this.open(failureRate, slowRate);
    }
  }

  /** Moves the window on to the current bucket, clearing the buckets that have aged out. */
  private rotate(now: number): void {
    const width = this.o.windowMs / BUCKETS;
    if (this.bucketStart === 0) this.bucketStart = now;
    const steps = Math.floor((now - this.bucketStart) / width);
    if (steps <= 0) return;
    for (let i = 1; i <= Math.min(steps, BUCKETS); i++) {
      const index = (this.bucket + i) % BUCKETS;
      this.totalCalls -= this.calls[index]!;
      this.totalFailures -= this.failures[index]!;
      this.totalSlow -= this.slow[index]!;
      this.calls[index] = 0;
      this.failures[index] = 0;
      this.slow[index] = 0;
    }
    this.bucket = (this.bucket + steps) % BUCKETS;
    this.bucketStart += steps * width;
  }

  private open(failureRate: number | undefined, slowRate: number | undefined): void {
    this.openedAt = this.now();
    this.transition('OPEN', failureRate, slowRate);
  }

  private transition(to: CircuitState, failureRate?: number, slowRate?: number): void {
    const from = this.stateNow;
    if (from === to) return;
    this.stateNow = to;
    if (to === 'HALF_OPEN') {
      this.probesLeft = this.o.halfOpenProbes;
      this.probesPending = 0;
    }
    if (to === 'CLOSED' || to === 'OPEN') {
      this.calls.fill(0);
      this.failures.fill(0);
      this.slow.fill(0);
      this.totalCalls = this.totalFailures = this.totalSlow = 0;
    }
    const event: CircuitEvent = { provider: this.provider, method: this.method, from, to };
    if (failureRate !== undefined) event.failureRate = failureRate;
    if (slowRate !== undefined) event.slowRate = slowRate;
    this.onChange(event);
  }
}
