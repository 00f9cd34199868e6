import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_BUCKETS, MetricsRegistry, defaultMetrics } from '../../src/observability/metrics/index.js';
import { parsePrometheusText, valueOf, type Family } from './prometheus-text.js';

/** The registry's text, parsed strictly, by metric name. */
function parsed(registry: MetricsRegistry): Map<string, Family> {
  return parsePrometheusText(registry.prometheusText());
}

test('counters, gauges and histograms read back through a Prometheus text parser', () => {
  const registry = new MetricsRegistry();
  const jobs = registry.counter('jobs_total', 'Jobs run.', ['queue', 'outcome']);
  jobs.labels('resize', 'ok').inc();
  jobs.labels('resize', 'ok').inc(2);
  jobs.labels('resize', 'failed').inc();
  const waiting = registry.gauge('jobs_waiting', 'Jobs waiting.').labels();
  waiting.inc(5);
  waiting.dec(2);
  const took = registry.histogram('job_seconds', 'How long a job took.', ['queue'], [0.1, 1]).labels('resize');
  for (const seconds of [0.05, 0.1, 0.5, 3]) took.observe(seconds);

  const families = parsed(registry);
  assert.deepEqual(families.get('jobs_total'), {
    name: 'jobs_total',
    help: 'Jobs run.',
    type: 'counter',
    samples: [
      { name: 'jobs_total', labels: { queue: 'resize', outcome: 'ok' }, value: 3 },
      { name: 'jobs_total', labels: { queue: 'resize', outcome: 'failed' }, value: 1 },
    ],
  });
  assert.deepEqual(families.get('jobs_waiting')?.samples, [{ name: 'jobs_waiting', labels: {}, value: 3 }]);
  const histogram = families.get('job_seconds');
  assert.equal(histogram?.type, 'histogram');
  // Cumulative: a value equal to a bound counts in that bound's bucket (le is "less or equal").
  assert.deepEqual(histogram?.samples, [
    { name: 'job_seconds_bucket', labels: { queue: 'resize', le: '0.1' }, value: 2 },
    { name: 'job_seconds_bucket', labels: { queue: 'resize', le: '1' }, value: 3 },
    { name: 'job_seconds_bucket', labels: { queue: 'resize', le: '+Inf' }, value: 4 },
    { name: 'job_seconds_sum', labels: { queue: 'resize' }, value: 3.65 },
    { name: 'job_seconds_count', labels: { queue: 'resize' }, value: 4 },
  ]);
});

test('label values and help text are escaped as the format asks, and parse back to what was given', () => {
  const registry = new MetricsRegistry();
  const awkward = 'C:\\dir\\"quoted"\nsecond line';
  registry.counter('files_total', 'Files seen \\ by path,\nper directory.', ['path']).labels(awkward).inc();

  const text = registry.prometheusText();
  assert.ok(text.includes('files_total{path="C:\\\\dir\\\\\\"quoted\\"\\nsecond line"} 1'), text);
  assert.ok(text.includes('# HELP files_total Files seen \\\\ by path,\\nper directory.'), text);
  const family = parsed(registry).get('files_total');
  assert.equal(family?.help, 'Files seen \\ by path,\nper directory.');
  assert.deepEqual(family?.samples[0]?.labels, { path: awkward });
});

test('the text has HELP and TYPE before each metric\'s samples, a +Inf bucket, _sum and _count, and ends with a line feed', () => {
  const registry = new MetricsRegistry();
  registry.histogram('rpc_seconds', 'Durations.', ['method']).labels('add').observe(0.003);
  const lines = registry.prometheusText().split('\n');
  assert.equal(lines.at(-1), '', 'the last line ends with a line feed');
  assert.equal(lines[0], '# HELP rpc_seconds Durations.');
  assert.equal(lines[1], '# TYPE rpc_seconds histogram');
  const buckets = lines.filter((line) => line.startsWith('rpc_seconds_bucket'));
  assert.equal(buckets.length, DEFAULT_BUCKETS.length + 1);
  assert.equal(buckets[0], 'rpc_seconds_bucket{method="add",le="0.0005"} 0');
  assert.equal(buckets.find((line) => line.includes('le="0.005"')), 'rpc_seconds_bucket{method="add",le="0.005"} 1');
  assert.equal(buckets.at(-1), 'rpc_seconds_bucket{method="add",le="+Inf"} 1');
  assert.deepEqual(lines.slice(-3, -1), ['rpc_seconds_sum{method="add"} 0.003', 'rpc_seconds_count{method="add"} 1']);
});

test('snapshot() is plain JSON with the same values as the text', () => {
  const registry = new MetricsRegistry();
  registry.counter('calls_total', 'Calls.', ['code']).labels('OK').inc(4);
  registry.histogram('call_seconds', 'Durations.', [], [1]).labels().observe(2);
  const snapshot = registry.snapshot();
  assert.deepEqual(JSON.parse(JSON.stringify(snapshot)), snapshot);
  assert.deepEqual(snapshot.metrics, [
    { name: 'calls_total', help: 'Calls.', type: 'counter', series: [{ labels: { code: 'OK' }, value: 4 }] },
    { name: 'call_seconds', help: 'Durations.', type: 'histogram', series: [{ labels: {}, buckets: { '1': 0, '+Inf': 1 }, sum: 2, count: 1 }] },
  ]);
});

test('a metric asked for again by name is the same metric; a different type, labels or buckets is refused', () => {
  const registry = new MetricsRegistry();
  const first = registry.counter('calls_total', 'Calls.', ['code']);
  assert.equal(registry.counter('calls_total', 'Calls.', ['code']), first);
  assert.equal(first.labels('OK'), first.labels('OK'), 'a series is bound once');
  assert.throws(() => registry.gauge('calls_total', 'Calls.', ['code']), /exists already as a counter/);
  assert.throws(() => registry.counter('calls_total', 'Calls.', ['status']), /exists already/);
  registry.histogram('call_seconds', 'Durations.', [], [1, 2]);
  assert.throws(() => registry.histogram('call_seconds', 'Durations.', [], [1, 5]), /exists already/);
});

test('bad names, bad bounds, wrong label counts and a decreasing counter are refused', () => {
  const registry = new MetricsRegistry();
  assert.throws(() => registry.counter('calls-total', 'Calls.'), /invalid metric name/);
  assert.throws(() => registry.counter('calls_total', 'Calls.', ['__reserved']), /invalid label name/);
  assert.throws(() => registry.counter('calls_total', 'Calls.', ['a', 'a']), /names a label twice/);
  assert.throws(() => registry.histogram('h', 'H.', ['le']), /label named le/);
  assert.throws(() => registry.histogram('h', 'H.', [], [1, 1]), /must increase/);
  assert.throws(() => registry.histogram('h', 'H.', [], [1, Infinity]), /not finite/);
  const calls = registry.counter('calls_total', 'Calls.', ['code']);
  assert.throws(() => calls.labels(), /has labels \(code\), given 0 values/);
  assert.throws(() => calls.labels('OK').inc(-1), RangeError);
});

test('a metric without labels reads 0 before any use; an empty registry reads as nothing', () => {
  assert.equal(new MetricsRegistry().prometheusText(), '');
  const registry = new MetricsRegistry();
  registry.gauge('queue_length', 'Jobs waiting.');
  assert.deepEqual(parsed(registry).get('queue_length')?.samples, [{ name: 'queue_length', labels: {}, value: 0 }]);
});

test('collectors are read at every scrape, equal series are summed, and a removed collector is gone', () => {
  const registry = new MetricsRegistry();
  let queued = 3;
  const removeFirst = registry.addCollector((sink) => sink.gauge('queue_length', 'Jobs waiting.', { queue: 'resize' }, queued));
  registry.addCollector((sink) => {
    sink.gauge('queue_length', 'Jobs waiting.', { queue: 'resize' }, 2);
    sink.counter('refused_total', 'Refused.', {}, 9);
  });
  assert.equal(valueOf(parsed(registry), 'queue_length', { queue: 'resize' }), 5);
  queued = 10;
  assert.equal(valueOf(parsed(registry), 'queue_length', { queue: 'resize' }), 12);
  assert.equal(parsed(registry).get('refused_total')?.type, 'counter');

  removeFirst();
  assert.equal(valueOf(parsed(registry), 'queue_length', { queue: 'resize' }), 2);
  assert.deepEqual(registry.snapshot().metrics.find((metric) => metric.name === 'refused_total')?.series, [{ labels: {}, value: 9 }]);
});

test('a collector that reports a stored metric\'s name or two types for one name is refused when read', () => {
  const registry = new MetricsRegistry();
  registry.counter('calls_total', 'Calls.');
  const remove = registry.addCollector((sink) => sink.counter('calls_total', 'Calls.', {}, 1));
  assert.throws(() => registry.prometheusText(), /also a stored one/);
  remove();
  registry.addCollector((sink) => {
    sink.gauge('mixed', 'Mixed.', {}, 1);
    sink.counter('mixed', 'Mixed.', {}, 1);
  });
  assert.throws(() => registry.snapshot(), /as a gauge and as a counter/);
});

test('defaultMetrics is one registry for the whole process', async () => {
  const again = await import('../../src/observability/metrics/registry.js');
  assert.ok(defaultMetrics instanceof MetricsRegistry);
  assert.equal(again.defaultMetrics, defaultMetrics);
});
