/*
 * The values of one metric with one set of label values. A caller binds a series once (per method,
 * per code) and keeps it, so that recording a call is arithmetic on fields, with no lookup, string
 * or allocation.
 */

/**
 * Histogram bounds in seconds, as Prometheus clients and OpenTelemetry's RPC guidance use: from half
 * a millisecond, for calls on one machine, to ten seconds.
 */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

/** A value that only goes up: calls, bytes. */
export class CounterSeries {
  value = 0;

  /** Adds `by` (default 1); a counter never goes down, so a negative amount throws. */
  inc(by = 1): void {
    if (by < 0) throw new RangeError(`a counter cannot be decreased (by ${by})`);
    this.value += by;
  }
}

/** A value that goes up and down: calls in flight, queue lengths. */
export class GaugeSeries {
  value = 0;

  inc(by = 1): void {
    this.value += by;
  }

  dec(by = 1): void {
    this.value -= by;
  }

  set(value: number): void {
    this.value = value;
  }
}

/**
 * Observed values counted into buckets by upper bound. Each bucket counts only its own values;
 * the cumulative counts Prometheus wants are summed when the metrics are read, not per observation.
 *
 * ```ts
 * const latency = registry.histogram('job_seconds', 'How long a job took.', ['job']).labels('resize');
 * latency.observe(0.012);
 * ```
 */
export class HistogramSeries {
  /** Per bucket (one per bound, and a last one above every bound), how many values fell in it. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: Float64Array) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const { bounds } = this;
    let bucket = 0;
    while (bucket < bounds.length && value > bounds[bucket]!) bucket++;
    this.counts[bucket]!++;
    this.sum += value;
    this.count++;
  }

  /** The count of values at or below each bound, then the total (`le="+Inf"`). */
  cumulative(): number[] {
    const out: number[] = [];
    let running = 0;
    for (const count of this.counts) out.push((running += count));
    return out;
  }
}

/** Checks bucket bounds once, when a histogram is made: finite, increasing, at least one. */
export function checkedBounds(buckets: readonly number[]): Float64Array {
  if (buckets.length === 0) throw new RangeError('a histogram needs at least one bucket bound');
  for (let i = 0; i < buckets.length; i++) {
    const bound = buckets[i]!;
    if (!Number.isFinite(bound)) throw new RangeError(`histogram bound ${bound} is not finite (+Inf is always added)`);
    if (i > 0 && bound <= buckets[i - 1]!) throw new RangeError(`histogram bounds must increase: ${buckets.join(', ')}`);
  }
  return Float64Array.from(buckets);
}
