import { renderLabels } from './exposition.js';
import { CounterSeries, GaugeSeries, HistogramSeries } from './series.js';

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** One series of a family: its label values as a record and as exposition text, and its values. */
export interface LabelledSeries<S> {
  readonly labels: Readonly<Record<string, string>>;
  /** `service="a",method="b"`, escaped once when the series was bound. */
  readonly rendered: string;
  readonly series: S;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * A metric and its series, one per set of label values. `labels(...)` binds a series: call it once
 * and keep what it returns, since binding looks the values up and recording does not.
 *
 * ```ts
 * const calls = registry.counter('jobs_total', 'Jobs run.', ['queue', 'outcome']);
 * const resizedOk = calls.labels('resize', 'ok');   // once
 * resizedOk.inc();                                   // per job
 * ```
 */
export class MetricFamily<S> {
  private readonly bound = new Map<string, LabelledSeries<S>>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    readonly labelNames: readonly string[],
    private readonly make: () => S,
  ) {
    checkMetricName(name);
    for (const label of labelNames) checkLabelName(label, name);
    if (type === 'histogram' && labelNames.includes('le')) throw new RangeError(`histogram ${name} cannot have a label named le`);
    if (new Set(labelNames).size !== labelNames.length) throw new RangeError(`metric ${name} names a label twice`);
    // A metric without labels has its one series from the start, so that it reads 0 before any use.
    if (labelNames.length === 0) this.labels();
  }

  /** The series for these label values (in the order of `labelNames`), made on first use. */
  labels(...values: string[]): S {
    if (values.length !== this.labelNames.length) {
      throw new RangeError(`metric ${this.name} has labels (${this.labelNames.join(', ')}), given ${values.length} values`);
    }
    const key = values.length === 0 ? '' : values.length === 1 ? values[0]! : JSON.stringify(values);
    let found = this.bound.get(key);
    if (found === undefined) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => (labels[name] = String(values[i])));
      found = { labels, rendered: renderLabels(labels), series: this.make() };
      this.bound.set(key, found);
    }
    return found.series;
  }

  /** Every bound series, in the order they were first bound. */
  series(): IterableIterator<LabelledSeries<S>> {
    return this.bound.values();
  }
}

export type Counter = MetricFamily<CounterSeries>;
export type Gauge = MetricFamily<GaugeSeries>;
export type Histogram = MetricFamily<HistogramSeries>;

export function counterFamily(name: string, help: string, labelNames: readonly string[]): Counter {
  return new MetricFamily(name, help, 'counter', labelNames, () => new CounterSeries());
}

export function gaugeFamily(name: string, help: string, labelNames: readonly string[]): Gauge {
  return new MetricFamily(name, help, 'gauge', labelNames, () => new GaugeSeries());
}

export function histogramFamily(name: string, help: string, labelNames: readonly string[], bounds: Float64Array): Histogram {
  return new MetricFamily(name, help, 'histogram', labelNames, () => new HistogramSeries(bounds));
}

export function checkMetricName(name: string): void {
  if (!METRIC_NAME.test(name)) throw new RangeError(`invalid metric name ${JSON.stringify(name)}`);
}

export function checkLabelName(label: string, metric: string): void {
  if (!LABEL_NAME.test(label) || label.startsWith('__')) {
    throw new RangeError(`invalid label name ${JSON.stringify(label)} on metric ${metric}`);
  }
}
