import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitUntil } from '../support/calculator.js';
import {
  ProbeService,
  callMany,
  freshRegistry,
  registerByHand,
  startClient,
  startProvider,
  tally,
  waitForLabels,
  type ProbeProvider,
} from '../support/cluster.js';

/** Providers labelled `labels`, all registered before the returned client subscribes. */
async function cluster(t: TestContext, labels: string[]) {
  const { registry, dir } = freshRegistry();
  const providers: ProbeProvider[] = [];
  for (const label of labels) providers.push(await startProvider(t, label, { registry }));
  return { registry, dir, providers, client: startClient(t, { registry }) };
}

/** Values of the fulfilled results; fails the test if any call failed. */
function values<T>(results: PromiseSettledResult<T>[]): T[] {
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  assert.deepEqual(failed.map((r) => String(r.reason)), [], 'no call should fail');
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** Calls `call` in `loops` concurrent loops until `stop()` holds; returns every outcome. */
async function underLoad<T>(loops: number, call: () => Promise<T>, stop: () => boolean): Promise<PromiseSettledResult<T>[]> {
  const outcomes: PromiseSettledResult<T>[] = [];
  await Promise.all(Array.from({ length: loops }, async () => {
    while (!stop()) {
      try {
        outcomes.push({ status: 'fulfilled', value: await call() });
      } catch (reason) {
        outcomes.push({ status: 'rejected', reason });
      }
      await sleep(1);
    }
  }));
  return outcomes;
}

describe('live updates of the directory', () => {
  test('a provider that joins the registry starts getting calls', async (t) => {
    const { registry, providers, client } = await cluster(t, ['a']);
    const probe = client.proxy(ProbeService, { loadBalance: 'roundrobin' });
    assert.equal(await probe.whoami(), 'a');
    const b = await startProvider(t, 'b', { registry });
    await waitForLabels(() => probe.whoami(), ['b'], 5000);
    const counts = tally(values(await callMany(40, 4, () => probe.whoami())));
    assert.deepEqual(counts, { a: 20, b: 20 });
    assert.ok(b.count() >= 20 && providers[0]!.count() >= 21);
  });

  test('a provider that closes stops getting calls, and no call fails meanwhile', async (t) => {
    const { providers, client } = await cluster(t, ['a', 'b', 'c']);
    const [a, b, c] = providers as [ProbeProvider, ProbeProvider, ProbeProvider];
    const probe = client.proxy(ProbeService, { loadBalance: 'roundrobin' });
    let phase: 'before' | 'closing' | 'after' | 'done' = 'before';
    const load = underLoad(8, () => probe.write(phase), () => phase === 'done');
    await waitUntil(() => b.count() > 20);
    phase = 'closing';
    await b.server.close({ timeoutMs: 2000 });
    const bAfterClose = b.count();
    phase = 'after';
    const aBefore = a.count();
    await sleep(600);
    phase = 'done';
    const outcomes = await load;
    values(outcomes);
    assert.equal(b.count(), bAfterClose, 'the closed provider got no call after its close');
    assert.ok(a.count() > aBefore && c.received.some((r) => r.args[0] === 'after'), 'the others kept serving');
    assert.equal(a.count() + b.count() + c.count(), outcomes.length, 'every write ran exactly once');
  });

  test('a provider whose connection got GOAWAY is skipped while its registry entry remains', async (t) => {
    const { registry, dir } = freshRegistry();
    // This server does not announce itself: its entry is written by hand and outlives its close.
    const leaving = await startProvider(t, 'leaving', { registry: false });
    await registerByHand(t, dir, leaving.address);
    await startProvider(t, 'staying', { registry });
    const client = startClient(t, { registry });
    const probe = client.proxy(ProbeService, { cluster: 'failfast', loadBalance: 'roundrobin' });
    await waitForLabels(() => probe.whoami(), ['leaving', 'staying']);
    // close() resolves once our connection, told GOAWAY, has closed; the server no longer listens.
    await leaving.server.close({ timeoutMs: 2000 });
    const before = leaving.count();
    // Failfast does not retry: a call sent to the leaving provider would fail.
    const counts = tally(values(await callMany(30, 3, () => probe.whoami())));
    assert.deepEqual(counts, { staying: 30 });
    assert.equal(leaving.count(), before);
  });
});

describe('load spread over registered providers', () => {
  test('roundrobin gives each of three equal providers exactly a third of the calls', async (t) => {
    const { providers, client } = await cluster(t, ['a', 'b', 'c']);
    const probe = client.proxy(ProbeService, { loadBalance: 'roundrobin' });
    const counts = tally(values(await callMany(300, 10, () => probe.read())));
    assert.deepEqual(counts, { a: 100, b: 100, c: 100 });
    assert.deepEqual(providers.map((p) => p.count('read')), [100, 100, 100]);
  });

  test('roundrobin follows weights: 100, 200 and 300 get a sixth, a third and a half', async (t) => {
    const { registry } = freshRegistry();
    for (const [label, weight] of [['w1', 100], ['w2', 200], ['w3', 300]] as const) await startProvider(t, label, { registry, weight });
    const probe = startClient(t, { registry }).proxy(ProbeService, { loadBalance: 'roundrobin' });
    assert.deepEqual(tally(values(await callMany(600, 10, () => probe.read()))), { w1: 100, w2: 200, w3: 300 });
  });

  test('random spreads calls evenly over three equal providers, within a statistical bound', async (t) => {
    const { client } = await cluster(t, ['a', 'b', 'c']);
    const probe = client.proxy(ProbeService, { loadBalance: 'random' });
    const calls = 3000;
    const counts = tally(values(await callMany(calls, 20, () => probe.read())));
    assert.deepEqual(Object.keys(counts).sort(), ['a', 'b', 'c']);
    // Binomial(3000, 1/3): standard deviation about 26; 150 is almost six of them.
    for (const [label, count] of Object.entries(counts)) assert.ok(Math.abs(count - calls / 3) < 150, `${label}: ${count} of ${calls}`);
  });
});

describe('affinity and per-method balancing', () => {
  test('consistenthash with hashArguments keeps each key on one provider, whatever the other arguments', async (t) => {
    const { client } = await cluster(t, ['a', 'b', 'c']);
    const probe = client.proxy(ProbeService, { loadBalance: 'consistenthash', hashArguments: [1] });
    const owners = new Map<string, Set<string>>();
    for (let request = 0; request < 6; request++) {
      for (let user = 0; user < 20; user++) {
        const label = await probe.get(`request-${request}-${user}`, `user-${user}`);
        const seen = owners.get(`user-${user}`) ?? new Set();
        seen.add(label);
        owners.set(`user-${user}`, seen);
      }
    }
    for (const [user, labels] of owners) assert.equal(labels.size, 1, `${user} went to ${[...labels].join(', ')}`);
    const used = new Set([...owners.values()].flatMap((labels) => [...labels]));
    assert.ok(used.size >= 2, `20 keys spread over ${used.size} provider(s)`);
  });

  test('a per-method loadBalance overrides the reference: get is hashed, whoami goes round-robin', async (t) => {
    const { client } = await cluster(t, ['a', 'b', 'c']);
    const probe = client.proxy(ProbeService, {
      loadBalance: 'roundrobin',
      methods: { get: { loadBalance: 'consistenthash', hashArguments: [0] } },
    });
    const hashed = tally(values(await callMany(30, 3, (i) => probe.get('one-key', i))));
    assert.equal(Object.keys(hashed).length, 1, `get('one-key') went to ${JSON.stringify(hashed)}`);
    assert.deepEqual(tally(values(await callMany(30, 3, () => probe.whoami()))), { a: 10, b: 10, c: 10 });
  });
});
