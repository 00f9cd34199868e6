import type { Sample } from './prometheus-text.js';

/**
 * Call rates of a server's services from two readings of its `/metrics`: the counters
 * `switchyard_server_calls_total{service,method,code}` and the histogram
 * `switchyard_server_call_duration_seconds{service,method}` (docs/observability.md), summed over
 * methods per service id.
 */

/** What one reading holds for one service id. */
export interface ServiceCounters {
  calls: number;
  /** Calls that ended with any code but OK. */
  errors: number;
  /** Cumulative call counts by upper bound in seconds (Infinity for `+Inf`). */
  readonly buckets: Map<number, number>;
}

/** What the console shows for one service of one server. */
export interface CallRates {
  /** Calls served since the server started. */
  readonly calls: number;
  readonly errors: number;
  /** Over the time between the last two readings; null after the first reading. */
  readonly callsPerSecond: number | null;
  readonly errorsPerSecond: number | null;
  /** The 99th percentile of the calls between the last two readings, in ms; null when there were none. */
  readonly p99Ms: number | null;
}

export const SERVER_METRICS_PREFIX = 'switchyard_server_call';

/** The counters of every service id a reading names. */
export function countersByService(samples: readonly Sample[]): Map<string, ServiceCounters> {
  const byService = new Map<string, ServiceCounters>();
  const of = (service: string): ServiceCounters => {
    let counters = byService.get(service);
    if (counters === undefined) byService.set(service, (counters = { calls: 0, errors: 0, buckets: new Map() }));
    return counters;
  };
  for (const { name, labels, value } of samples) {
    const service = labels.service;
    if (service === undefined || !Number.isFinite(value)) continue;
    if (name === 'switchyard_server_calls_total') {
      const counters = of(service);
      counters.calls += value;
      if (labels.code !== 'OK') counters.errors += value;
    } else if (name === 'switchyard_server_call_duration_seconds_bucket') {
      const bound = labels.le === '+Inf' ? Infinity : Number(labels.le);
      if (Number.isNaN(bound)) continue;
      const buckets = of(service).buckets;
      buckets.set(bound, (buckets.get(bound) ?? 0) + value);
    }
  }
  return byService;
}

/** The rates between two readings `seconds` apart; `before` undefined for a first reading. */
export function ratesBetween(before: ServiceCounters | undefined, after: ServiceCounters, seconds: number): CallRates {
  // A counter that went down belongs to a restarted server: count from zero.
  const restarted = before !== undefined && after.calls < before.calls;
  if (before === undefined || !(seconds > 0)) {
    return { calls: after.calls, errors: after.errors, callsPerSecond: null, errorsPerSecond: null, p99Ms: null };
  }
  const base = restarted ? { calls: 0, errors: 0, buckets: new Map<number, number>() } : before;
  const delta = new Map<number, number>();
  for (const [bound, count] of after.buckets) delta.set(bound, Math.max(0, count - (base.buckets.get(bound) ?? 0)));
  const p99 = quantile(0.99, delta);
  return {
    calls: after.calls,
    errors: after.errors,
    callsPerSecond: Math.max(0, after.calls - base.calls) / seconds,
    errorsPerSecond: Math.max(0, after.errors - base.errors) / seconds,
    p99Ms: p99 === null ? null : p99 * 1000,
  };
}

/**
 * The `q` quantile of cumulative bucket counts, interpolated within its bucket as Prometheus'
 * `histogram_quantile` does; the largest finite bound when it falls in `+Inf`; null for no calls.
 */
export function quantile(q: number, buckets: ReadonlyMap<number, number>): number | null {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Infinity) ?? (bounds.length === 0 ? 0 : buckets.get(bounds[bounds.length - 1]!)!);
  if (!(total > 0)) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const bound of bounds) {
    const count = buckets.get(bound)!;
    if (count >= rank) {
      if (bound === Infinity) return lower;
      return count === below ? bound : lower + ((bound - lower) * (rank - below)) / (count - below);
    }
    lower = bound;
    below = count;
  }
  return lower;
}
