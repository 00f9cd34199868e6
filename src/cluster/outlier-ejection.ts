// Outlier ejection, after Envoy's outlier detection: a provider that fails several calls in a row,
// or whose success rate falls far below its peers', is taken out of load balancing for a while,
// longer each time, and never so many at once that too few are left. Written here because no npm
// package does this for a client's own provider list (cockatiel and opossum break circuits per
// operation; they do not compare providers with each other).
import { Code } from '../core/code.js';
import type { Logger } from '../core/logger.js';
import { RpcError } from '../core/rpc-error.js';

/** When providers are ejected, and for how long; every field has a default. */
export interface OutlierEjectionOptions {
  /** Failures in a row that eject a provider; 0 turns this check off. Default 5. */
  consecutiveFailures?: number;
  /** Which errors are failures. Default: UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL and UNKNOWN. */
  isFailure?: (error: RpcError) => boolean;
  /** How often success rates are compared (and ejection counts forgiven). Default 10000 ms. */
  intervalMs?: number;
  /** Success rates are compared only among providers with at least this many calls in the interval... Default 100. */
  successRateRequestVolume?: number;
  /** ...and only when at least this many providers have them; 0 turns the check off. Default 5. */
  successRateMinimumHosts?: number;
  /** A provider below mean − factor × standard deviation of those success rates is ejected. Default 1.9. */
  successRateStdevFactor?: number;
  /** The first ejection lasts this long; each further one this much longer. Default 30000 ms. */
  baseEjectionMs?: number;
  /** No ejection lasts longer. Default 300000 ms. */
  maxEjectionMs?: number;
  /**
   * Share of the providers (0..1) that may be ejected at once, rounded down but at least one, and
   * never every provider: a single provider is never ejected. Default 0.5.
   */
  maxEjectedShare?: number;
  /** Told of every ejection and return (also logged: warn and info). */
  onChange?: (event: OutlierEvent) => void;
}

export interface OutlierEvent {
  provider: string;
  ejected: boolean;
  /** Why it was ejected: `consecutive failures` or `success rate`. */
  reason?: string;
  /** How long this ejection lasts. */
  durationMs?: number;
}

/** One provider as the detector sees it. */
export class OutlierHost {
  /** Out of load balancing now (a balancer still takes it when nothing else is left). */
  ejected = false;
  ejectedUntil = 0;
  /** Ejections not yet forgiven: the next one lasts `baseEjectionMs` × (this + 1). */
  ejections = 0;
  /** Every ejection since the provider was first listed. */
  timesEjected = 0;
  consecutive = 0;
  calls = 0;
  successes = 0;
  private ejectedThisInterval = false;

  constructor(
    readonly address: string,
    private readonly detector: OutlierDetector,
  ) {}

  /** A call to this provider ended at `now` (ms on a monotonic clock): `error` undefined when it succeeded. */
  record(error: RpcError | undefined, now: number): void {
    this.detector.record(this, error, now);
  }

  /** @internal */
  startInterval(): boolean {
    const was = this.ejectedThisInterval;
    this.ejectedThisInterval = false;
    this.calls = this.successes = 0;
    return was;
  }

  /** @internal */
  markEjected(until: number): void {
    this.ejected = true;
    this.ejectedUntil = until;
    this.ejectedThisInterval = true;
    this.ejections++;
    this.timesEjected++;
    this.consecutive = 0;
  }
}

const failureCodes = new Set<number>([Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED, Code.INTERNAL, Code.UNKNOWN]);
// Refusals for overload neither count against a provider nor clear its run of failures: shedding
// load is what a healthy provider under pressure does.
const neutralCodes = new Set<number>([Code.RESOURCE_EXHAUSTED, Code.CANCELLED]);

/**
 * The outlier detector of one provider list. Its work is done as call outcomes are recorded: the
 * interval's success-rate comparison, and the return of providers whose ejection is over, run on
 * the first outcome after they are due, so the detector keeps no timer.
 */
export class OutlierDetector {
  private readonly hosts = new Map<string, OutlierHost>();
  private readonly o: Required<Omit<OutlierEjectionOptions, 'onChange'>>;
  private nextSweep = Number.NaN;
  private nextReturn = Infinity;
  private ejectedNow = 0;
  private ejectionsTotal = 0;
  private readonly onChange: ((event: OutlierEvent) => void) | undefined;

  constructor(
    options: OutlierEjectionOptions,
    private readonly logger?: Logger,
  ) {
    this.o = {
      consecutiveFailures: count(options.consecutiveFailures ?? 5, 'consecutiveFailures'),
      isFailure: options.isFailure ?? ((error) => failureCodes.has(error.code)),
      intervalMs: positive(options.intervalMs ?? 10_000, 'intervalMs'),
      successRateRequestVolume: count(options.successRateRequestVolume ?? 100, 'successRateRequestVolume'),
      successRateMinimumHosts: count(options.successRateMinimumHosts ?? 5, 'successRateMinimumHosts'),
      successRateStdevFactor: atLeastZero(options.successRateStdevFactor ?? 1.9, 'successRateStdevFactor'),
      baseEjectionMs: positive(options.baseEjectionMs ?? 30_000, 'baseEjectionMs'),
      maxEjectionMs: positive(options.maxEjectionMs ?? 300_000, 'maxEjectionMs'),
      maxEjectedShare: share(options.maxEjectedShare ?? 0.5),
    };
    this.onChange = options.onChange;
  }

  /** The state of the provider at `address`, made on first use and kept while it stays listed. */
  host(address: string): OutlierHost {
    let host = this.hosts.get(address);
    if (host === undefined) this.hosts.set(address, (host = new OutlierHost(address, this)));
    return host;
  }

  /** Forgets providers no longer listed. */
  retain(addresses: ReadonlySet<string>): void {
    for (const [address, host] of this.hosts) {
      if (addresses.has(address)) continue;
      if (host.ejected) this.ejectedNow--;
      this.hosts.delete(address);
    }
  }

  /** Providers ejected now, and ejections since the detector was made. */
  stats(): { ejected: number; ejections: number; hosts: Array<{ address: string; ejected: boolean; ejections: number }> } {
    return {
      ejected: this.ejectedNow,
      ejections: this.ejectionsTotal,
      hosts: [...this.hosts.values()].map((host) => ({ address: host.address, ejected: host.ejected, ejections: host.ejections })),
    };
  }

  record(host: OutlierHost, error: RpcError | undefined, now: number): void {
    // Returns first: a provider whose time is up frees its place under the cap for this outcome's.
    if (now >= this.nextReturn) this.returnDue(now);
    if (error !== undefined && neutralCodes.has(error.code)) {
      // neither a success nor a failure
    } else if (error === undefined || !this.o.isFailure(error)) {
      host.calls++;
      host.successes++;
      host.consecutive = 0;
    } else {
      host.calls++;
      host.consecutive++;
      if (!host.ejected && this.o.consecutiveFailures > 0 && host.consecutive >= this.o.consecutiveFailures) this.eject(host, 'consecutive failures', now);
    }
    if (Number.isNaN(this.nextSweep)) this.nextSweep = now + this.o.intervalMs;
    else if (now >= this.nextSweep) this.sweep(now);
  }

  /** How many providers may be ejected at once, of those listed. */
  private maxEjected(): number {
    const listed = this.hosts.size;
    if (listed <= 1 || this.o.maxEjectedShare === 0) return 0;
    return Math.min(listed - 1, Math.max(1, Math.floor(listed * this.o.maxEjectedShare)));
  }

  private eject(host: OutlierHost, reason: string, now: number): boolean {
    if (this.ejectedNow >= this.maxEjected()) return false;
    const durationMs = Math.min(this.o.maxEjectionMs, this.o.baseEjectionMs * (host.ejections + 1));
    host.markEjected(now + durationMs);
    this.ejectedNow++;
    this.ejectionsTotal++;
    if (host.ejectedUntil < this.nextReturn) this.nextReturn = host.ejectedUntil;
    this.logger?.warn({ provider: host.address, reason, durationMs }, 'provider ejected');
    this.onChange?.({ provider: host.address, ejected: true, reason, durationMs });
    return true;
  }

  private returnDue(now: number): void {
    let next = Infinity;
    for (const host of this.hosts.values()) {
      if (!host.ejected) continue;
      if (host.ejectedUntil <= now) {
        host.ejected = false;
        this.ejectedNow--;
        this.logger?.info({ provider: host.address }, 'provider back from ejection');
        this.onChange?.({ provider: host.address, ejected: false });
      } else if (host.ejectedUntil < next) {
        next = host.ejectedUntil;
      }
    }
    this.nextReturn = next;
  }

  /** Once per interval: forgive providers that stayed in, then compare success rates. */
  private sweep(now: number): void {
    this.nextSweep = now + this.o.intervalMs;
    const rated: Array<{ host: OutlierHost; rate: number }> = [];
    for (const host of this.hosts.values()) {
      if (!host.ejected && host.calls >= this.o.successRateRequestVolume) rated.push({ host, rate: host.successes / host.calls });
      const ejectedThisInterval = host.startInterval();
      if (!host.ejected && !ejectedThisInterval && host.ejections > 0) host.ejections--;
    }
    const { successRateMinimumHosts: minimumHosts } = this.o;
    if (minimumHosts === 0 || rated.length < minimumHosts) return;
    const mean = rated.reduce((sum, { rate }) => sum + rate, 0) / rated.length;
    const variance = rated.reduce((sum, { rate }) => sum + (rate - mean) ** 2, 0) / rated.length;
    const threshold = mean - this.o.successRateStdevFactor * Math.sqrt(variance);
    // The worst first, so that the cap on ejections keeps the better of the outliers.
    for (const { host } of rated.filter(({ rate }) => rate < threshold).sort((a, b) => a.rate - b.rate)) {
      if (!this.eject(host, 'success rate', now)) break;
    }
  }
}

function count(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw invalid(`outlierEjection ${name} must be a whole number of at least 0, not ${String(value)}`);
  return value;
}

function positive(value: number, name: string): number {
  if (!(typeof value === 'number' && value > 0 && Number.isFinite(value))) throw invalid(`outlierEjection ${name} must be a number above 0, not ${String(value)}`);
  return value;
}

function atLeastZero(value: number, name: string): number {
  if (!(typeof value === 'number' && value >= 0 && Number.isFinite(value))) throw invalid(`outlierEjection ${name} must be a number of at least 0, not ${String(value)}`);
  return value;
}

function share(value: number): number {
  if (!(typeof value === 'number' && value >= 0 && value <= 1)) throw invalid(`outlierEjection maxEjectedShare must be from 0 to 1, not ${String(value)}`);
  return value;
}

function invalid(message: string): RpcError {
  return new RpcError(Code.INVALID_ARGUMENT, message);
}
