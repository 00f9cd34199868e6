import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { MetricsRegistry, type ClientOptions } from '../../src/index.js';
import { ProbeService, callMany, freshRegistry, startClient, startProvider, waitForLabels, type ProbeProvider } from '../support/cluster.js';

const LANES = 16;
const CALLS = 6000;

/** Runs `CALLS` calls of `read`, `LANES` at a time; resolves with each call's latency in ms and how many failed. */
async function phase(call: (i: number) => Promise<string>): Promise<{ latencies: number[]; failed: number }> {
  const latencies: number[] = [];
  let failed = 0;
  await callMany(CALLS, LANES, async (i) => {
    const started = performance.now();
    try {
      await call(i);
    } catch {
      failed++;
    } finally {
      latencies.push(performance.now() - started);
    }
  });
  return { latencies, failed };
}

function p99(latencies: number[]): number {
  const sorted = [...latencies].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length * 0.99) - 1]!;
}

/** The `name{...provider="address"...}` value of a metric in Prometheus text. */
function metricOf(text: string, name: string, provider: string): number | undefined {
  const line = text.split('\n').find((row) => row.startsWith(`${name}{`) && row.includes(`provider="${provider}"`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Three providers and a client of them with `options`, warmed up; the third provider is the one that will slow down. */
async function brownOut(t: TestContext, options: Pick<ClientOptions, 'adaptiveConcurrency' | 'outlierEjection' | 'loadBalance'>, callOptions: { timeoutMs?: number } = {}) {
  const { registry } = freshRegistry();
  const providers: ProbeProvider[] = [];
  for (const label of ['a', 'b', 'c']) providers.push(await startProvider(t, label, { registry }));
  const metrics = new MetricsRegistry();
  const client = startClient(t, { registry, metrics, ...options });
  const probe = client.proxy(ProbeService, callOptions);
  await waitForLabels(() => probe.read('warm'), ['a', 'b', 'c']);
  await phase((i) => probe.read(i)); // warm-up: code paths, connections, the limits' long-term RTTs

  const healthy = await phase((i) => probe.read(i));
  const slow = providers[2]!;
  slow.behaviour.delayMs = 200;
  const before = slow.count('read');
  const slowed = await phase((i) => probe.read(i));
  const toSlow = slow.count('read') - before;
  const text = metrics.prometheusText();
  const metric = (name: string) => providers.map((p) => metricOf(text, name, p.address));
  const report = `healthy p99 ${p99(healthy.latencies).toFixed(2)} ms, brown-out p99 ${p99(slowed.latencies).toFixed(2)} ms; ` +
    `${toSlow} of ${CALLS} calls reached the slow provider, ${slowed.failed} failed; limits ${metric('switchyard_provider_concurrency_limit').join(', ')}; ` +
    `ejected ${metric('switchyard_outlier_ejected').join(', ')}`;
  t.diagnostic(report);
  return { healthy, slowed, metric, report, toSlow };
}

describe('brown-out: one of three providers slows down to 200 ms a call, under 16 calls in flight', () => {
  // The p99s are reported, not asserted: on the shared 2-core machine the healthy p99 itself moved
  // from 2 to 33 ms between runs. What moves the p99 is the share of calls that wait on the slow
  // provider, and that is asserted; `bench/adaptive-brownout.ts` measures the p99s over several
  // rounds. Without any of this, a third of the calls would go to the slow provider.

  // The recommended setup (docs/cluster.md): the balancer stops sending to the provider as soon as
  // its calls in flight have been out longer than the others take, before any of them ends.
  test('shortestresponse with adaptive limits: about the calls that were in flight to it when it slowed reach it, none fails', async (t) => {
    const { healthy, slowed, report, toSlow } = await brownOut(t, { loadBalance: 'shortestresponse', adaptiveConcurrency: true });
    assert.equal(healthy.failed + slowed.failed, 0, report);
    // A third of the 16 callers are there when it slows down; a pause of this process can add one
    // call each (every provider's calls in flight then look old), so the bound is one round of
    // calls, against 44–51 with the default balancer below.
    assert.ok(toSlow <= LANES, report);
  });

  // With the default balancer the limits act only once calls to the slow provider end: all 16
  // callers are stuck there within milliseconds of the slowdown, then about 5 a second reach it at a
  // limit of 1.
  test('random with adaptive limits: the limits move the traffic away, under 1% of the calls reach the slow provider, none fails', async (t) => {
    const { healthy, slowed, metric, report, toSlow } = await brownOut(t, { adaptiveConcurrency: true });
    assert.equal(healthy.failed + slowed.failed, 0, report);
    const limits = metric('switchyard_provider_concurrency_limit');
    assert.ok(limits[2]! < limits[0]! && limits[2]! < limits[1]!, `the slow provider's limit is the lowest: ${report}`);
    assert.ok(toSlow < CALLS / 100, report);
  });

  // Ten failures in a row, not five, and two providers of three may be ejected: on a machine this
  // busy (healthy p99 from 8 to 180 ms between runs) a pause of the test process past the deadline
  // fails every call in flight at once, about five per healthy provider, which could eject one of
  // them. For the same reason the failures are reported, not counted: some are the machine's.
  test('random with a 150 ms deadline: the slow provider\'s calls fail and outlier ejection takes it out after the first pile', async (t) => {
    const { metric, report, toSlow } = await brownOut(t, { adaptiveConcurrency: true, outlierEjection: { consecutiveFailures: 10, maxEjectedShare: 0.67 } }, { timeoutMs: 150 });
    assert.equal(metric('switchyard_outlier_ejected')[2], 1, report);
    // The callers stuck there when it slowed down, and no more than as many again.
    assert.ok(toSlow <= 32, report);
  });
});
