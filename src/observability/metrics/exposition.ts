import type { LabelledSeries, MetricType } from './family.js';
import { HistogramSeries } from './series.js';

/*
 * Metrics as Prometheus reads them (text exposition format 0.0.4) and as plain JSON. Both are made
 * from what a registry holds at the moment it is read; nothing here runs per call.
 */

/** What exposition reads of a metric, whether the registry stores it or a collector reported it. */
export interface ReadableFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  series(): Iterable<LabelledSeries<{ readonly value: number } | HistogramSeries>>;
}

/** The content type of `prometheusText()`, for an HTTP answer. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A registry read as JSON: per metric its type, help and series. */
export interface MetricsSnapshot {
  metrics: MetricSnapshot[];
}

export interface MetricSnapshot {
  name: string;
  help: string;
  type: MetricType;
  series: Array<ValueSnapshot | HistogramSnapshot>;
}

export interface ValueSnapshot {
  labels: Record<string, string>;
  value: number;
}

export interface HistogramSnapshot {
  labels: Record<string, string>;
  /** Cumulative counts by upper bound as exposition writes it: `{ "0.005": 3, …, "+Inf": 7 }`. */
  buckets: Record<string, number>;
  sum: number;
  count: number;
}

export function prometheusText(families: Iterable<ReadableFamily>): string {
  const lines: string[] = [];
  for (const family of families) {
    const { name } = family;
    lines.push(`# HELP ${name} ${escapeHelp(family.help)}`, `# TYPE ${name} ${family.type}`);
    for (const { rendered, series } of family.series()) {
      if (!(series instanceof HistogramSeries)) {
        lines.push(`${name}${braced(rendered)} ${formatNumber(series.value)}`);
        continue;
      }
      const prefix = rendered === '' ? '' : `${rendered},`;
      const cumulative = series.cumulative();
      series.bounds.forEach((bound, i) => lines.push(`${name}_bucket{${prefix}le="${formatNumber(bound)}"} ${cumulative[i]}`));
      lines.push(
        `${name}_bucket{${prefix}le="+Inf"} ${cumulative[series.bounds.length]}`,
        `${name}_sum${braced(rendered)} ${formatNumber(series.sum)}`,
        `${name}_count${braced(rendered)} ${series.count}`,
      );
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

export function snapshotOf(families: Iterable<ReadableFamily>): MetricsSnapshot {
  const metrics: MetricSnapshot[] = [];
  for (const family of families) {
    const series: MetricSnapshot['series'] = [];
    for (const { labels, series: values } of family.series()) {
      if (!(values instanceof HistogramSeries)) {
        series.push({ labels: { ...labels }, value: values.value });
        continue;
      }
      const cumulative = values.cumulative();
      const buckets: Record<string, number> = {};
      values.bounds.forEach((bound, i) => (buckets[formatNumber(bound)] = cumulative[i]!));
      buckets['+Inf'] = cumulative[values.bounds.length]!;
      series.push({ labels: { ...labels }, buckets, sum: values.sum, count: values.count });
    }
    metrics.push({ name: family.name, help: family.help, type: family.type, series });
  }
  return { metrics };
}

/** `a="x",b="y"`, values escaped as the format asks (backslash, double quote, line feed). */
export function renderLabels(labels: Readonly<Record<string, string>>): string {
  let out = '';
  for (const name in labels) out += `${out === '' ? '' : ','}${name}="${escapeLabelValue(labels[name]!)}"`;
  return out;
}

export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

function braced(rendered: string): string {
  return rendered === '' ? '' : `{${rendered}}`;
}

/** A sample value as Prometheus parses it: Go's float syntax, with +Inf, -Inf and NaN spelled so. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
