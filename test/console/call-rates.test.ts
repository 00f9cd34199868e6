// Rates, error rates and p99 from two readings of a server's /metrics text, as Switchyard's metrics
// registry writes it; and text that is not what it should be.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SERVER_METRICS_PREFIX, countersByService, quantile, ratesBetween } from '../../src/console/call-rates.js';
import { parseSamples } from '../../src/console/prometheus-text.js';
import { MetricsRegistry } from '../../src/observability/metrics/registry.js';
import { CalculatorService, startClient, startServer } from '../support/calculator.js';

describe('console: call rates from /metrics', () => {
  it('counts calls and errors per service id over methods, and the p99 of the calls between two readings', () => {
    const metrics = new MetricsRegistry();
    const calls = metrics.counter('switchyard_server_calls_total', 'Calls.', ['service', 'method', 'code']);
    const durations = metrics.histogram('switchyard_server_call_duration_seconds', 'Durations.', ['service', 'method']);
    const record = (method: string, code: string, seconds: number, times: number) => {
      for (let i = 0; i < times; i++) {
        calls.labels('demo.Calculator:1.0.0', method, code).inc();
        durations.labels('demo.Calculator:1.0.0', method).observe(seconds);
      }
    };
    record('add', 'OK', 0.001, 50);
    const first = countersByService(parseSamples(metrics.prometheusText(), SERVER_METRICS_PREFIX)).get('demo.Calculator:1.0.0')!;
    assert.deepEqual([first.calls, first.errors], [50, 0]);
    assert.deepEqual(ratesBetween(undefined, first, 0), { calls: 50, errors: 0, callsPerSecond: null, errorsPerSecond: null, p99Ms: null });

    record('add', 'OK', 0.001, 90);
    record('divide', 'INVALID_ARGUMENT', 0.002, 8);
    record('divide', 'OK', 0.8, 2);
    const second = countersByService(parseSamples(metrics.prometheusText(), SERVER_METRICS_PREFIX)).get('demo.Calculator:1.0.0')!;
    const rates = ratesBetween(first, second, 2);
    assert.equal(rates.calls, 150);
    assert.equal(rates.errors, 8);
    assert.equal(rates.callsPerSecond, 50);
    assert.equal(rates.errorsPerSecond, 4);
    // 100 calls in the interval: the 99th is one of the two slow ones, in the bucket that holds 0.8 s.
    assert.ok(rates.p99Ms! > 500 && rates.p99Ms! <= 1000, String(rates.p99Ms));
    assert.equal(ratesBetween(second, second, 2).p99Ms, null, 'no calls, no percentile');
    assert.equal(ratesBetween(second, first, 2).callsPerSecond, 25, 'a counter that went down is a restarted server: counted from zero');
  });

  it('a real server\'s metrics name the service by id, as the console looks it up', async (t) => {
    const metrics = new MetricsRegistry();
    const { calc } = startClient(t, (await startServer(t, { registry: false, metrics })).address);
    await calc.add(1, 2);
    await calc.divide(1, 0).catch(() => {});
    const counters = countersByService(parseSamples(metrics.prometheusText(), SERVER_METRICS_PREFIX)).get(CalculatorService.id);
    assert.deepEqual([counters?.calls, counters?.errors], [2, 1]);
    assert.equal(counters?.buckets.get(Infinity), 2);
  });

  it('quantiles interpolate within a bucket as histogram_quantile does', () => {
    const buckets = new Map([[0.1, 10], [0.2, 20], [Infinity, 20]]);
    assert.equal(quantile(0.5, buckets), 0.1);
    assert.ok(Math.abs(quantile(0.75, buckets)! - 0.15) < 1e-9);
    assert.equal(quantile(0.99, new Map([[0.1, 0], [Infinity, 5]])), 0.1, 'in +Inf: the largest finite bound');
    assert.equal(quantile(0.99, new Map()), null);
  });

  it('lines that do not parse are skipped; label values keep their escapes and cannot touch a prototype', () => {
    const text = [
      '# HELP x y',
      'switchyard_server_calls_total{service="a\\"b",method="m",code="OK"} 3',
      'switchyard_server_calls_total{service="broken} 3',
      'switchyard_server_calls_total{__proto__="x",service="s",method="m",code="OK"} 1',
      'switchyard_server_calls_total{service="s",method="m",code="OK"} not-a-number',
      'garbage',
    ].join('\n');
    const samples = parseSamples(text);
    assert.deepEqual(samples.map((s) => s.labels.service), ['a"b', 's']);
    assert.equal(Object.getPrototypeOf(samples[1]!.labels), Object.prototype);
    assert.equal(Object.prototype.hasOwnProperty.call(samples[1]!.labels, '__proto__'), true);
  });
});
