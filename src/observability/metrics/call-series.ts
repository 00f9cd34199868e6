import { codeName } from '../../core/code.js';
import type { CallProbe } from '../../core/observer.js';
import type { RpcError } from '../../core/rpc-error.js';
import type { Counter, Gauge, Histogram } from './family.js';
import type { CounterSeries, GaugeSeries, HistogramSeries } from './series.js';

/** The three metrics every kind of call is counted in: calls by code, durations, calls in flight. */
export interface CallFamilies {
  /** Labels: those of the call, then `code`. */
  readonly calls: Counter;
  readonly duration: Histogram;
  readonly inFlight: Gauge;
}

/**
 * The series of one kind of call (a server's method, a client's method at one provider), bound
 * once when it is first seen. The calls counter is bound per code on the first call that ends
 * with it, so a method shows only the codes it has answered with.
 */
export class CallSeries {
  readonly duration: HistogramSeries;
  readonly inFlight: GaugeSeries;
  /** By code number: the codes are gRPC's small integers, so an array indexed by them. */
  private readonly byCode: Array<CounterSeries | undefined> = [];

  constructor(
    private readonly families: CallFamilies,
    private readonly labelValues: readonly string[],
  ) {
    this.duration = families.duration.labels(...labelValues);
    this.inFlight = families.inFlight.labels(...labelValues);
  }

  /** Counts a call that ended with `error` (undefined: OK) after `seconds`. */
  ended(error: RpcError | undefined, seconds: number): void {
    const code = error === undefined ? 0 : error.code;
    const calls = this.byCode[code] ?? this.bind(code);
    calls.value++;
    this.duration.observe(seconds);
    this.inFlight.value--;
  }

  private bind(code: number): CounterSeries {
    return (this.byCode[code] = this.families.calls.labels(...this.labelValues, codeName(code)));
  }
}

/** One call being timed: counted in flight from its start, in the rest at its end. */
export class TimedCall implements CallProbe {
  private readonly startedAt = performance.now();
  private open = true;

  constructor(protected readonly series: CallSeries) {
    series.inFlight.value++;
  }

  end(error: RpcError | undefined): void {
    // The contract says once; a second end must not count the call twice or unbalance in-flight.
    if (!this.open) return;
    this.open = false;
    this.series.ended(error, (performance.now() - this.startedAt) / 1000);
  }
}
