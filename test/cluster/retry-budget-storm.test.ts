import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { Code, MetricsRegistry, RpcError, type ClientOptions } from '../../src/index.js';
import { waitUntil } from '../support/calculator.js';
import {
  ProbeService,
  callMany,
  collectingLogger,
  deadAddress,
  freshRegistry,
  registerByHand,
  startClient,
  startProvider,
  waitForLabels,
  type ProbeProvider,
} from '../support/cluster.js';

const total = (providers: ProbeProvider[], method?: string) => providers.reduce((sum, p) => sum + p.count(method), 0);

/** Providers labelled `labels` in a fresh registry, and a client that has called every one of them. */
async function cluster(t: TestContext, labels: string[], clientOptions: Omit<ClientOptions, 'registry'>) {
  const { registry, dir } = freshRegistry();
  const providers: ProbeProvider[] = [];
  for (const label of labels) providers.push(await startProvider(t, label, { registry }));
  const client = startClient(t, { registry, loadBalance: 'roundrobin', ...clientOptions });
  const probe = client.proxy(ProbeService, { retries: 3 });
  let warmCalls = 0;
  await waitForLabels(() => (warmCalls++, probe.read('warm')), labels);
  return { client, probe, providers, dir, warmCalls };
}

/** Every outcome must be the providers' own UNAVAILABLE: the budget adds no error of its own. */
function assertProvidersErrors(outcomes: PromiseSettledResult<string>[]): void {
  for (const outcome of outcomes) {
    assert.equal(outcome.status, 'rejected');
    const reason = (outcome as PromiseRejectedResult).reason as unknown;
    assert.ok(reason instanceof RpcError);
    assert.equal(reason.code, Code.UNAVAILABLE);
    assert.match(reason.message, /^provider [a-d] is failing$/);
  }
}

describe('retry budget against a retry storm (four providers, all failing, failover with retries: 3)', () => {
  test('attempts on the servers stay within ratio × calls + the floor, and the budget counts them in metrics', async (t) => {
    const metrics = new MetricsRegistry();
    const { probe, providers, warmCalls } = await cluster(t, ['a', 'b', 'c', 'd'], { metrics, retryBudget: { ratio: 0.2, minPerSecond: 1, ttlMs: 60_000 } });
    for (const p of providers) p.behaviour.failing = true;
    const before = total(providers, 'read');
    const calls = 500;
    const outcomes = await callMany(calls, 8, (i) => probe.read(i));
    const attempts = total(providers, 'read') - before;
    assertProvidersErrors(outcomes);
    // Every call deposited (the warm-up calls too); the floor is 1 a second over 60 s.
    const allowed = 0.2 * (calls + warmCalls) + 60;
    assert.ok(attempts <= calls + allowed, `${attempts} attempts for ${calls} calls: more than ${calls} + ${allowed} retries`);
    assert.ok(attempts >= calls + 60, `${attempts} attempts: the budget should have been spent (without it: ${calls * 4})`);
    const text = metrics.prometheusText();
    const counted = (outcome: string) => Number(new RegExp(`switchyard_retry_budget_retries_total\\{service="${ProbeService.id.replace(/\./g, '\\.')}",outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1]);
    assert.equal(counted('allowed'), attempts - calls, 'the warm-up needed no retry');
    assert.ok(counted('refused') > 0);
  });

  test('the default budget is on: failover does not multiply the load of an outage', async (t) => {
    const { probe, providers, warmCalls } = await cluster(t, ['a', 'b', 'c', 'd'], {});
    for (const p of providers) p.behaviour.failing = true;
    const before = total(providers, 'read');
    const calls = 1000;
    const started = performance.now();
    assertProvidersErrors(await callMany(calls, 16, (i) => probe.read(i)));
    const elapsed = performance.now() - started;
    const attempts = total(providers, 'read') - before;
    // Defaults: ratio 0.2, 10 a second over 10 s windows; a run longer than a window gets another window's worth.
    const windows = 1 + Math.floor(elapsed / 9_000);
    const allowed = windows * (0.2 * (calls + warmCalls) + 100);
    assert.ok(attempts <= calls + allowed, `${attempts} attempts for ${calls} calls in ${Math.round(elapsed)} ms: more than ${allowed} retries`);
    assert.ok(attempts < 2 * calls, `${attempts} attempts, without a budget ${calls * 4}`);
  });

  test('without a budget (retryBudget: false) every call makes all its attempts', async (t) => {
    const { probe, providers } = await cluster(t, ['a', 'b', 'c', 'd'], { retryBudget: false });
    for (const p of providers) p.behaviour.failing = true;
    const before = total(providers, 'read');
    assertProvidersErrors(await callMany(100, 8, (i) => probe.read(i)));
    assert.equal(total(providers, 'read') - before, 400);
  });

  test('a call that never reached a provider is retried whatever is left of the budget', async (t) => {
    const { registry, dir } = freshRegistry();
    const live = await startProvider(t, 'live', { registry });
    await registerByHand(t, dir, await deadAddress());
    const client = startClient(t, { registry, loadBalance: 'roundrobin', retryBudget: { ratio: 0, minPerSecond: 0 } });
    const probe = client.proxy(ProbeService);
    const results = await callMany(40, 1, (i) => probe.write(i));
    assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? r.value : 'failed')), Array(40).fill('live'));
    assert.equal(live.count('write'), 40);
  });

  test('failback gives up its background resends when the budget is spent', async (t) => {
    const { logger, entries } = collectingLogger();
    const { registry } = freshRegistry();
    const provider = await startProvider(t, 'a', { registry, behaviour: { failing: true } });
    const client = startClient(t, { registry, logger, cluster: 'failback', retryBudget: { ratio: 0, minPerSecond: 0 } });
    assert.equal(await client.proxy(ProbeService).write('x'), undefined);
    await waitUntil(() => entries.some((entry) => entry.msg === 'failback call abandoned: the retry budget is spent'), 5000);
    assert.equal(provider.count('write'), 1, 'no resend reached the provider');
  });
});
