// An adaptive concurrency limit: how many calls may be in flight at once, found from latency rather
// than set by hand. Used per provider by clients (src/reference.ts) and per server by the
// `adaptiveConcurrency` interceptor (src/interceptors/adaptive-concurrency.ts).
//
// No npm package fits: the registry has no port of Netflix's concurrency-limits, and the resilience
// libraries (cockatiel, opossum, mollitia) offer fixed bulkheads only. The algorithm is small and
// needs to read times the caller already took, so it is written here.
//
// The algorithm is Netflix's Gradient2, chosen over Vegas because it needs no "no-load" round-trip
// time: Vegas compares each sample with the smallest RTT ever seen, which only moves down, so it
// must probe now and then by dropping the limit to find it again, and a provider whose normal
// latency drifts up (a bigger data set, a slower dependency) looks overloaded forever. Gradient2
// compares a short-term RTT with a long-term average of itself instead, so it follows such drift,
// and a tolerance factor keeps ordinary noise from moving the limit at all.
//
// Per window of samples: gradient = clamp(tolerance × longRtt / shortRtt, 0.5, 1), and the limit
// moves to limit × gradient + queue allowance, smoothed (limit × (1 − smoothing) + that × smoothing):
// within tolerance it grows by the allowance, a little beyond it the allowance absorbs the change.
// Three changes to Gradient2, each for a case that Gradient2, built for busy servers, does not meet:
// - When every call of a window was slow, the fastest past tolerance ÷ 0.5 times the long-term
//   average (three times, by default), the limit is cut at once to half the most calls in flight in
//   the window, without smoothing or allowance. A client's limit for one provider mostly sits far
//   above what it uses; smoothed and from there, a provider that slows down to a crawl would keep
//   taking a third of the calls for dozens of windows, and the allowance alone would keep it at 8
//   calls forever. A window with a single fast call in it is no crawl: noise (a busy machine, a
//   pause) and milder rises, such as a provider's latency following the load when traffic shifts
//   onto it, take Gradient2's gentle step, so that they cannot cut a healthy provider's limit below
//   the calls it is sent and turn them away.
// - The short-term RTT is the window's median, not its mean: one garbage-collection pause in a
//   window of fast calls moves a mean by several times and the median not at all.
// - A window without load enough to need the limit (Gradient2's "app-limited" case) still takes
//   the cut; it only keeps the gentle step from moving the limit.
// Calls refused for overload or past their deadline ("drops") count as slow calls when a window is
// judged all slow or not, and a window ends early when it has one.

import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';

/** Tuning of an adaptive limit; every field has a default. */
export interface AdaptiveLimitOptions {
  /** The limit before anything is measured. Default 100. */
  initialLimit?: number;
  /** The limit never falls below this. Default: 5 on a server, 1 on a client. */
  minLimit?: number;
  /** The limit never grows above this. Default 1000. */
  maxLimit?: number;
  /** How many times the long-term RTT the short-term one may be before the limit shrinks. Default 1.5. */
  tolerance?: number;
  /** Share of each increase that is taken at once (0..1]; the rest is left for later windows. Default 0.2. */
  smoothing?: number;
  /** How far the limit may grow in one window while latency holds. Default `max(4, √limit)`. */
  queueSize?: number | ((limit: number) => number);
  /** Windows the long-term RTT averages over (an exponential average). Default 600. */
  longWindows?: number;
  /** A window lasts at least this long. Default 100 ms. */
  windowMs?: number;
  /**
   * ...and holds at least this many samples, or as many as the limit lets be in flight if that is
   * fewer (one round of calls), unless it saw a drop. Default 10.
   */
  windowSamples?: number;
}

/** The options with their defaults filled in. */
export type ResolvedAdaptiveLimitOptions = Required<Omit<AdaptiveLimitOptions, 'queueSize'>> & { queueSize: (limit: number) => number };

/** What an adaptive limit reports about itself. */
export interface AdaptiveLimitState {
  /** Calls that may be in flight now. */
  limit: number;
  /** The long-term RTT in ms (0 before the first window closed). */
  longRttMs: number;
  /** The short-term RTT of the last window that closed, in ms. */
  shortRttMs: number;
  /** Windows closed so far. */
  windows: number;
}

// Samples kept per window for its median; later ones in a busy window are counted but not kept.
const WINDOW_CAPACITY = 64;
const MIN_GRADIENT = 0.5;

/** Fills in the defaults of `options`, checking each value; `side` picks the side's defaults. */
export function adaptiveLimitOptions(options: AdaptiveLimitOptions, side: 'server' | 'client'): ResolvedAdaptiveLimitOptions {
  const minLimit = whole(options.minLimit ?? (side === 'server' ? 5 : 1), 'minLimit', 1);
  const maxLimit = whole(options.maxLimit ?? 1000, 'maxLimit', minLimit);
  const initialLimit = Math.min(maxLimit, Math.max(minLimit, whole(options.initialLimit ?? 100, 'initialLimit', 1)));
  const queue = options.queueSize ?? ((limit: number) => Math.max(4, Math.sqrt(limit)));
  if (typeof queue === 'number' && !(queue >= 0)) throw invalid(`adaptive limit queueSize must be 0 or more, not ${queue}`);
  return {
    initialLimit,
    minLimit,
    maxLimit,
    tolerance: positive(options.tolerance ?? 1.5, 'tolerance', 1),
    smoothing: share(options.smoothing ?? 0.2, 'smoothing'),
    queueSize: typeof queue === 'number' ? () => queue : queue,
    longWindows: whole(options.longWindows ?? 600, 'longWindows', 1),
    windowMs: positive(options.windowMs ?? 100, 'windowMs', 0),
    windowSamples: whole(options.windowSamples ?? 10, 'windowSamples', 1),
  };
}

/**
 * One adaptive limit. It keeps no clock and counts no calls of its own: callers pass the time a
 * call ended and the calls in flight then, so a client reuses the times it reads for its latency
 * average, and a test drives it with made-up times.
 *
 * ```ts
 * const limit = new AdaptiveLimit(adaptiveLimitOptions({}, 'server'));
 * if (inFlight < limit.limit) { ... limit.onSample(rttMs, inFlight, performance.now()); }
 * ```
 */
export class AdaptiveLimit {
  /** Calls that may be in flight now: the estimate, rounded down. */
  limit: number;
  private estimate: number;
  private longRtt = 0;
  private lastShortRtt = 0;
  private windows = 0;
  private windowStart = Number.NaN;
  private readonly samples = new Float64Array(WINDOW_CAPACITY);
  private sampled = 0;
  private drops = 0;
  private inflightMax = 0;
  /** The fastest sample of the window. */
  private fastest = Infinity;

  constructor(
    private readonly o: ResolvedAdaptiveLimitOptions,
    /** Told of each change of `limit`. */
    private readonly onChange?: (limit: number) => void,
  ) {
    this.estimate = o.initialLimit;
    this.limit = o.initialLimit;
  }

  /** A call that completed in `rttMs`, with `inflight` calls in flight (itself included) when it ended at `now`. */
  onSample(rttMs: number, inflight: number, now: number): void {
    if (this.sampled < WINDOW_CAPACITY) this.samples[this.sampled] = rttMs;
    this.sampled++;
    if (rttMs < this.fastest) this.fastest = rttMs;
    this.observe(inflight, now);
  }

  /** A call refused for overload, or past its deadline, at `now`. */
  onDrop(inflight: number, now: number): void {
    this.drops++;
    this.observe(inflight, now);
  }

  state(): AdaptiveLimitState {
    return { limit: this.limit, longRttMs: this.longRtt, shortRttMs: this.lastShortRtt, windows: this.windows };
  }

  private observe(inflight: number, now: number): void {
    if (inflight > this.inflightMax) this.inflightMax = inflight;
    if (Number.isNaN(this.windowStart)) this.windowStart = now;
    if (now - this.windowStart < this.o.windowMs) return;
    if (this.drops === 0 && this.sampled < this.o.windowSamples && this.sampled < this.limit) return;
    this.closeWindow();
    this.windowStart = now;
  }

  private closeWindow(): void {
    const { o } = this;
    const kept = Math.min(this.sampled, WINDOW_CAPACITY);
    // A window of drops alone was all slow; so was one whose fastest call was past the tolerance.
    let crawl = kept === 0;
    let gradient = 1;
    if (kept > 0) {
      const shortRtt = median(this.samples, kept);
      this.lastShortRtt = shortRtt;
      const first = this.windows === 0 || this.longRtt === 0;
      this.longRtt = first ? shortRtt : this.longRtt + (2 / (o.longWindows + 1)) * (shortRtt - this.longRtt);
      // After a long spell of high latency the average lags far behind a recovery: let it catch up.
      if (this.longRtt > 2 * shortRtt) this.longRtt *= 0.95;
      crawl = !first && this.fastest * MIN_GRADIENT >= o.tolerance * this.longRtt && this.fastest > 0;
      gradient = shortRtt <= 0 ? 1 : Math.max(MIN_GRADIENT, Math.min(1, (o.tolerance * this.longRtt) / shortRtt));
    }
    this.windows++;
    let next = this.estimate;
    if (crawl) {
      next = Math.min(this.estimate, this.inflightMax) * MIN_GRADIENT;
    } else if (this.inflightMax >= this.estimate / 2) {
      // Below half of the limit in flight, the limit was not what held calls back: it tells nothing.
      next = this.estimate * (1 - o.smoothing) + o.smoothing * (this.estimate * gradient + o.queueSize(this.estimate));
    }
    this.estimate = Math.max(o.minLimit, Math.min(o.maxLimit, next));
    this.sampled = 0;
    this.drops = 0;
    this.inflightMax = 0;
    this.fastest = Infinity;
    const limit = Math.floor(this.estimate);
    if (limit !== this.limit) {
      this.limit = limit;
      this.onChange?.(limit);
    }
  }
}

function invalid(message: string): RpcError {
  return new RpcError(Code.INVALID_ARGUMENT, message);
}

/** The median of the first `count` values (sorts them in place: the window is done with them). */
function median(values: Float64Array, count: number): number {
  const sorted = values.subarray(0, count).sort();
  const mid = count >> 1;
  return count % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function whole(value: number, name: string, least: number): number {
  if (!Number.isSafeInteger(value) || value < least) throw invalid(`adaptive limit ${name} must be a whole number of at least ${least}, not ${String(value)}`);
  return value;
}

function positive(value: number, name: string, least: number): number {
  if (!(typeof value === 'number' && value >= least && Number.isFinite(value))) throw invalid(`adaptive limit ${name} must be a number of at least ${least}, not ${String(value)}`);
  return value;
}

function share(value: number, name: string): number {
  if (!(typeof value === 'number' && value > 0 && value <= 1)) throw invalid(`adaptive limit ${name} must be above 0 and at most 1, not ${String(value)}`);
  return value;
}
