import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { OutlierEvent } from '../../src/cluster/outlier-ejection.js';
import { waitUntil } from '../support/calculator.js';
import { ProbeService, callMany, freshRegistry, startClient, startProvider, waitForLabels, type ProbeProvider } from '../support/cluster.js';

describe('outlier ejection on a client', () => {
  /** Three providers, the first failing every call, and a round-robin client ejecting after `baseEjectionMs`. */
  async function oneBad(t: TestContext, baseEjectionMs: number) {
    const { registry } = freshRegistry();
    const providers: ProbeProvider[] = [];
    for (const label of ['a', 'b', 'c']) providers.push(await startProvider(t, label, { registry }));
    const events: OutlierEvent[] = [];
    const client = startClient(t, { registry, loadBalance: 'roundrobin', outlierEjection: { baseEjectionMs, onChange: (event) => events.push(event) } });
    // failfast: every failure reaches the caller, so the test sees each one.
    const probe = client.proxy(ProbeService, { cluster: 'failfast' });
    await waitForLabels(() => probe.read('warm'), ['a', 'b', 'c']);
    const [bad, ...good] = providers as [ProbeProvider, ProbeProvider, ProbeProvider];
    bad.behaviour.failing = true;
    const outcomes = await callMany(60, 1, (i) => probe.read(i));
    return { probe, bad, good, events, failed: outcomes.filter((o) => o.status === 'rejected').length };
  }

  test('a provider failing calls in a row is ejected, and calls go to the others', async (t) => {
    const { probe, bad, good, events, failed } = await oneBad(t, 60_000);
    assert.equal(failed, 5, 'the five failures that ejected it, then none');
    assert.deepEqual(events, [{ provider: bad.address, ejected: true, reason: 'consecutive failures', durationMs: 60_000 }]);
    const reached = bad.count('read');
    await callMany(20, 1, (i) => probe.read(i));
    assert.equal(bad.count('read'), reached, 'no call reaches an ejected provider');
    assert.ok(good.every((p) => p.count('read') > 20));
  });

  test('an ejected provider comes back after its time', async (t) => {
    const { probe, bad, events } = await oneBad(t, 300);
    assert.equal(events[0]?.ejected, true);
    const reached = bad.count('read');
    bad.behaviour.failing = false;
    // Back after its 500 ms, on the first call that completes after that.
    await waitUntil(() => {
      probe.read('after').catch(() => undefined);
      return bad.count('read') > reached;
    }, 5000);
    assert.deepEqual(events.at(-1), { provider: bad.address, ejected: false });
  });

  test('ejection never takes out more than maxEjectedShare of the providers, whatever fails', async (t) => {
    const { registry } = freshRegistry();
    const providers: ProbeProvider[] = [];
    for (const label of ['a', 'b', 'c', 'd']) providers.push(await startProvider(t, label, { registry }));
    const ejected = new Set<string>();
    let most = 0;
    const client = startClient(t, {
      registry,
      retryBudget: false,
      outlierEjection: {
        maxEjectedShare: 0.5,
        onChange: (event) => {
          if (event.ejected) ejected.add(event.provider);
          else ejected.delete(event.provider);
          most = Math.max(most, ejected.size);
        },
      },
    });
    const probe = client.proxy(ProbeService, { cluster: 'failfast' });
    await waitForLabels(() => probe.read('warm'), ['a', 'b', 'c', 'd']);
    // Every provider fails: without the cap, all four would go.
    for (const p of providers) p.behaviour.failing = true;
    await callMany(200, 4, (i) => probe.read(i));
    assert.equal(most, 2, 'two of four at most, and the cap was reached');
    const stillServing = providers.filter((p) => !ejected.has(p.address));
    assert.equal(stillServing.length, 2);
    const before = stillServing.map((p) => p.count('read'));
    await callMany(40, 4, (i) => probe.read(i));
    assert.equal(stillServing.reduce((sum, p, i) => sum + p.count('read') - before[i]!, 0), 40, 'the calls go on to the providers left in');
  });

  test('off by default: a failing provider keeps its share of the calls', async (t) => {
    const { registry } = freshRegistry();
    const providers: ProbeProvider[] = [];
    for (const label of ['a', 'b']) providers.push(await startProvider(t, label, { registry }));
    const client = startClient(t, { registry, loadBalance: 'roundrobin' });
    const probe = client.proxy(ProbeService, { cluster: 'failfast' });
    await waitForLabels(() => probe.read('warm'), ['a', 'b']);
    providers[0]!.behaviour.failing = true;
    const before = providers[0]!.count('read');
    await callMany(40, 1, (i) => probe.read(i));
    assert.equal(providers[0]!.count('read') - before, 20);
  });
});
