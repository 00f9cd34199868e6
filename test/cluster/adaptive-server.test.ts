import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { adaptiveConcurrency } from '../../src/interceptors/adaptive-concurrency.js';
import { HealthService } from '../../src/introspection/index.js';
import { Code, RpcError } from '../../src/index.js';
import { ProbeService, callMany, freshRegistry, startClient, startProvider, waitForLabels } from '../support/cluster.js';

/** The outcomes of `calls` calls all made at once. */
async function atOnce<T>(count: number, call: (i: number) => Promise<T>): Promise<PromiseSettledResult<T>[]> {
  return Promise.allSettled(Array.from({ length: count }, (_, i) => call(i)));
}

describe('adaptiveConcurrency on a server', () => {
  test('calls over the limit are refused at once with RESOURCE_EXHAUSTED that names the limit, and never run', async (t) => {
    const { registry } = freshRegistry();
    const provider = await startProvider(t, 'a', { registry, adaptiveConcurrency: { initialLimit: 2, minLimit: 1, maxLimit: 2 }, behaviour: { delayMs: 300 } });
    const client = startClient(t, { url: provider.address, retryBudget: false });
    const probe = client.proxy(ProbeService, { cluster: 'failfast' });
    const outcomes = await atOnce(6, (i) => probe.write(i));
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason as RpcError);
    assert.equal(outcomes.length - refused.length, 2);
    assert.equal(refused.length, 4);
    for (const error of refused) {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, Code.RESOURCE_EXHAUSTED);
      assert.deepEqual(error.details, { limit: 'adaptiveConcurrency', max: 2 });
    }
    assert.equal(provider.count('write'), 2, 'the refused calls never reached the handler');
  });

  test('a Switchyard client fails such a refusal over to another provider, even for a method that is not idempotent', async (t) => {
    const { registry } = freshRegistry();
    const limited = await startProvider(t, 'limited', { registry, adaptiveConcurrency: { initialLimit: 2, minLimit: 1, maxLimit: 2 } });
    const other = await startProvider(t, 'other', { registry });
    const client = startClient(t, { registry, loadBalance: 'roundrobin' });
    const probe = client.proxy(ProbeService);
    await waitForLabels(() => probe.whoami(), ['limited', 'other']);
    const before = { limited: limited.count('write'), other: other.count('write') };
    limited.behaviour.delayMs = 300;
    // Round-robin sends four of the eight to `limited`: it runs two and refuses two, which go to `other`.
    const outcomes = await atOnce(8, (i) => probe.write(i));
    assert.deepEqual(outcomes.map((o) => o.status), Array(8).fill('fulfilled'));
    assert.equal(limited.count('write') - before.limited, 2);
    assert.equal(other.count('write') - before.other, 6);
  });

  test('the limit falls when the handlers slow down, and grows again when they are fast', async (t) => {
    const limiter = adaptiveConcurrency({ initialLimit: 20, minLimit: 2, windowMs: 20, windowSamples: 5 });
    const { registry } = freshRegistry();
    const provider = await startProvider(t, 'a', { registry, interceptors: [limiter] });
    const client = startClient(t, { url: provider.address, retryBudget: false });
    const probe = client.proxy(ProbeService, { cluster: 'failfast' });
    // Fast calls, more in flight than half the limit: it grows. How soon depends on how steady the
    // machine's latency is (a loaded machine's first windows can look slow), so in batches, up to ten.
    for (let batch = 0; batch < 10 && limiter.stats().limit <= 20; batch++) await callMany(300, 16, (i) => probe.read(i));
    const grown = limiter.stats().limit;
    assert.ok(grown > 20, `limit ${grown} after fast calls`);
    // Twenty times slower: every call of a window slow, so it is cut to half of those in flight.
    provider.behaviour.delayMs = 40;
    await callMany(200, 16, (i) => probe.read(i));
    const cut = limiter.stats();
    assert.ok(cut.limit < 16, `limit ${cut.limit} after slow calls`);
    assert.ok(cut.rejected > 0, 'calls over the lowered limit were refused');
    provider.behaviour.delayMs = 0;
    for (let batch = 0; batch < 10 && limiter.stats().limit <= cut.limit; batch++) await callMany(1000, 16, (i) => probe.read(i));
    assert.ok(limiter.stats().limit > cut.limit, `limit ${limiter.stats().limit} after fast calls again, ${cut.limit} before`);
  });

  test('the built-in health service is outside the limit', async (t) => {
    const { registry } = freshRegistry();
    const provider = await startProvider(t, 'a', { registry, adaptiveConcurrency: { initialLimit: 1, minLimit: 1, maxLimit: 1 }, behaviour: { delayMs: 300 } });
    const client = startClient(t, { url: provider.address });
    const probe = client.proxy(ProbeService, { cluster: 'failfast' });
    const slow = probe.write('holds the only place');
    const health = client.proxy(HealthService);
    assert.equal((await health.check({ service: '' })).status, 'SERVING');
    assert.equal(await slow, 'a');
  });
});
