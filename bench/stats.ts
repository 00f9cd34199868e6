/**
 * Latency histogram and CPU accounting for the benchmark.
 *
 * The histogram has fixed memory whatever the number of calls: buckets on a log scale with
 * `STEPS_PER_DOUBLING` buckets between each power of two, so a reported percentile is within
 * about 0.3% of the true value. Recording is one `Math.log2` and one array increment.
 */

const STEPS_PER_DOUBLING = 128;
/** Latencies above this (in µs) land in the last bucket; a minute is far beyond any sane call. */
const MAX_MICROS = 60_000_000;

export class LatencyHistogram {
  private readonly buckets = new Float64Array(Math.ceil(Math.log2(MAX_MICROS) * STEPS_PER_DOUBLING) + 2);
  count = 0;
  private sum = 0;

  /** Adds one latency, in microseconds. */
  record(micros: number): void {
    let index = 0;
    if (micros >= 1) index = Math.min(this.buckets.length - 1, 1 + Math.floor(Math.log2(micros) * STEPS_PER_DOUBLING));
    this.buckets[index]!++;
    this.count++;
    this.sum += micros;
  }

  reset(): void {
    this.buckets.fill(0);
    this.count = 0;
    this.sum = 0;
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** The latency (µs) below which a fraction `q` (0..1) of the recorded calls fall. */
  percentile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let index = 0; index < this.buckets.length; index++) {
      seen += this.buckets[index]!;
      if (seen >= rank) return bucketValue(index);
    }
    return MAX_MICROS;
  }
}

/** The geometric middle of a bucket. */
function bucketValue(index: number): number {
  if (index === 0) return 0.5;
  return 2 ** ((index - 1 + 0.5) / STEPS_PER_DOUBLING);
}

/** CPU time (user + system, µs) this process used since `start` was taken with `process.cpuUsage()`. */
export function cpuMicrosSince(start: NodeJS.CpuUsage): number {
  const delta = process.cpuUsage(start);
  return delta.user + delta.system;
}

/** Rounds for display: 3 significant digits for small values, whole numbers for large ones. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  if (Math.abs(value) >= 100) return Math.round(value);
  return Number(value.toPrecision(3));
}

/** A plain-text table: the first two columns left-aligned (names), the others right-aligned (figures). */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
