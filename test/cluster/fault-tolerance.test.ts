import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Code, RpcError } from '../../src/index.js';
import { waitUntil } from '../support/calculator.js';
import {
  ProbeService,
  collectingLogger,
  deadAddress,
  freshRegistry,
  registerByHand,
  startClient,
  startProvider,
  type ProbeProvider,
} from '../support/cluster.js';
import type { ClientOptions } from '../../src/index.js';
import { rejection } from '../support/assertions.js';

/** `labels.length` healthy providers in a fresh registry, and a client that has discovered them all. */
async function cluster(t: TestContext, labels: string[], clientOptions: Omit<ClientOptions, 'registry'> = {}) {
  const { registry, dir } = freshRegistry();
  const providers: ProbeProvider[] = [];
  for (const label of labels) providers.push(await startProvider(t, label, { registry }));
  // All are registered before the client subscribes: its first provider list holds every one.
  const client = startClient(t, { registry, ...clientOptions });
  return { registry, dir, client, providers };
}

const total = (providers: ProbeProvider[], method?: string) => providers.reduce((sum, p) => sum + p.count(method), 0);

/** The error `promise` rejects with, which must be an RpcError. */

describe('failover', () => {
  test('a call that never reached a provider (connection refused) is retried on another, even if not idempotent', async (t) => {
    const { logger, entries } = collectingLogger();
    const { dir, client, providers } = await cluster(t, ['live'], { logger });
    // A provider whose process is gone but whose registry entry is still there.
    await registerByHand(t, dir, await deadAddress());
    const probe = client.proxy(ProbeService, { cluster: 'failover', loadBalance: 'roundrobin' });
    const results = [];
    for (let i = 0; i < 10; i++) results.push(await probe.write(i));
    assert.deepEqual(results, Array(10).fill('live'));
    assert.equal(providers[0]!.count('write'), 10, 'each write ran exactly once');
    assert.ok(entries.some((e) => e.msg === 'failing over'), 'the dead provider was tried and failed over from');
  });

  test('an idempotent method whose provider failed with UNAVAILABLE after running is retried on another', async (t) => {
    const { client, providers } = await cluster(t, ['a', 'b']);
    const [a, b] = providers as [ProbeProvider, ProbeProvider];
    a.behaviour.failing = true;
    const probe = client.proxy(ProbeService, { loadBalance: 'roundrobin' });
    for (let i = 0; i < 10; i++) assert.equal(await probe.read(i), 'b');
    assert.ok(a.count('read') >= 1, 'the failing provider was tried');
    assert.equal(b.count('read'), 10);
    assert.ok(a.received.every((r) => r.failed));
  });

  test('a non-idempotent method that may have run is not retried: its handler ran once and the caller gets the error', async (t) => {
    const { client, providers } = await cluster(t, ['a', 'b']);
    const [a, b] = providers as [ProbeProvider, ProbeProvider];
    a.behaviour.failing = true;
    const probe = client.proxy(ProbeService, { loadBalance: 'roundrobin', retries: 5 });
    // Round-robin over two providers: of two calls, exactly one goes to the failing one first.
    const outcomes = await Promise.allSettled([probe.write('x'), probe.write('y')]);
    const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    assert.equal(failed.length, 1, 'exactly one write failed');
    assert.ok(failed[0]!.reason instanceof RpcError);
    assert.equal(failed[0]!.reason.code, Code.UNAVAILABLE);
    assert.match(failed[0]!.reason.message, /provider a is failing/);
    assert.equal(a.count('write'), 1, 'the failing handler ran once');
    assert.equal(b.count('write'), 1, 'the other provider got only the other write: no retry');
  });

  test('retries stop after `retries` further attempts', async (t) => {
    const { client, providers } = await cluster(t, ['a', 'b', 'c', 'd', 'e']);
    const labels = providers.map((p) => p.label);
    const any = client.proxy(ProbeService, { loadBalance: 'roundrobin' });
    for (let i = 0; i < 10; i++) await any.whoami();
    assert.ok(providers.every((p) => p.count() > 0), `all of ${labels.join(',')} discovered`);
    for (const p of providers) p.behaviour.failing = true;

    for (const retries of [0, 1, 3]) {
      const before = total(providers, 'read');
      const error = await rejection(client.proxy(ProbeService, { retries }).read(retries));
      assert.equal(error.code, Code.UNAVAILABLE);
      assert.equal(total(providers, 'read') - before, retries + 1, `retries: ${retries}`);
    }
    // The default is 2 further attempts.
    const before = total(providers, 'read');
    await rejection(client.proxy(ProbeService).read('default'));
    assert.equal(total(providers, 'read') - before, 3);
    const tried = providers.filter((p) => p.received.some((r) => r.args[0] === 3));
    assert.equal(tried.length, 4, 'each attempt went to another provider');
    // More retries than providers: each provider is tried once, none twice.
    await rejection(client.proxy(ProbeService, { retries: 10 }).read('all'));
    assert.deepEqual(providers.map((p) => p.received.filter((r) => r.args[0] === 'all').length), [1, 1, 1, 1, 1]);
  });

  test('retries stop at the deadline', async (t) => {
    const { client, providers } = await cluster(t, ['a', 'b', 'c', 'd', 'e']);
    const any = client.proxy(ProbeService, { loadBalance: 'roundrobin' });
    for (let i = 0; i < 10; i++) await any.whoami();
    for (const p of providers) Object.assign(p.behaviour, { failing: true, delayMs: 200 });
    const started = Date.now();
    const error = await rejection(client.proxy(ProbeService, { retries: 10, timeoutMs: 300 }).read('late'));
    const took = Date.now() - started;
    assert.ok(error.code === Code.DEADLINE_EXCEEDED || error.code === Code.UNAVAILABLE, `code ${error.code}: ${error.message}`);
    assert.ok(took < 1500, `the call ended ${took} ms after it started, with a 300 ms deadline`);
    const attempts = total(providers, 'read');
    assert.ok(attempts >= 1 && attempts <= 2, `${attempts} attempts within a 300 ms deadline of 200 ms attempts`);
  });
});

describe('failfast, failsafe, failback', () => {
  test('failfast makes one attempt, even for an idempotent method', async (t) => {
    const { client, providers } = await cluster(t, ['a', 'b', 'c']);
    for (const p of providers) p.behaviour.failing = true;
    const error = await rejection(client.proxy(ProbeService, { cluster: 'failfast', retries: 5 }).read('once'));
    assert.equal(error.code, Code.UNAVAILABLE);
    assert.equal(total(providers, 'read'), 1);
  });

  test('failsafe resolves undefined and logs the failure', async (t) => {
    const { logger, entries } = collectingLogger();
    const { client, providers } = await cluster(t, ['a'], { logger });
    providers[0]!.behaviour.failing = true;
    const result = await client.proxy(ProbeService, { cluster: 'failsafe' }).write('lost');
    assert.equal(result, undefined);
    assert.equal(providers[0]!.count('write'), 1);
    const logged = entries.find((e) => e.level === 'warn' && /failsafe/.test(e.msg ?? ''));
    assert.ok(logged, `a warning was logged: ${JSON.stringify(entries)}`);
    assert.equal(logged.obj.code, Code.UNAVAILABLE);
    assert.equal(logged.obj.method, 'write');
  });

  test('failsafe resolves undefined, and logs, also when no provider is found', async (t) => {
    const { logger, entries } = collectingLogger();
    const { registry } = freshRegistry();
    const client = startClient(t, { registry, logger, waitForProvidersMs: 200 });
    const result = await client.proxy(ProbeService, { cluster: 'failsafe' }).write('audit').catch((error: unknown) => error);
    assert.equal(result, undefined, `failsafe gave the caller ${String(result)}`);
    assert.ok(entries.some((e) => e.level === 'warn' && /failsafe/.test(e.msg ?? '')), 'the failure was logged');
  });

  test('failback resolves undefined at once and delivers the call in the background once the provider recovers', async (t) => {
    const { logger, entries } = collectingLogger();
    const { client, providers } = await cluster(t, ['a'], { logger });
    const a = providers[0]!;
    a.behaviour.failing = true;
    const started = Date.now();
    assert.equal(await client.proxy(ProbeService, { cluster: 'failback' }).write('eventually'), undefined);
    assert.ok(Date.now() - started < 900, 'the caller did not wait for the background retry');
    assert.equal(a.count('write'), 1);
    await sleep(200);
    a.behaviour.failing = false;
    await waitUntil(() => a.received.some((r) => r.method === 'write' && !r.failed), 5000);
    assert.deepEqual(a.received.filter((r) => !r.failed).map((r) => r.args), [['eventually']]);
    await waitUntil(() => entries.some((e) => e.msg === 'failback call succeeded'), 1000);
  });

  test('failback delivers in the background a call that had a deadline, once the provider recovers', async (t) => {
    const { logger, entries } = collectingLogger();
    const { client, providers } = await cluster(t, ['a'], { logger });
    const a = providers[0]!;
    a.behaviour.failing = true;
    assert.equal(await client.proxy(ProbeService, { cluster: 'failback', timeoutMs: 500 }).write('with-deadline'), undefined);
    a.behaviour.failing = false;
    // The first background attempt comes about 1 s later, the next 2 s after that.
    await waitUntil(() => a.received.some((r) => !r.failed), 4000).catch((error: unknown) => {
      const attempts = entries.filter((e) => /failback/.test(e.msg ?? '')).map((e) => `${e.msg} (${String(e.obj.message)})`);
      assert.fail(`${(error as Error).message}; failback log: ${attempts.join('; ')}`);
    });
    assert.deepEqual(a.received.filter((r) => !r.failed).map((r) => r.args), [['with-deadline']]);
  });
});

describe('forking and broadcast', () => {
  test('forking calls `forks` providers at once and answers with the first success', async (t) => {
    const { client, providers } = await cluster(t, ['slow', 'fast']);
    const [slow, fast] = providers as [ProbeProvider, ProbeProvider];
    slow.behaviour.delayMs = 1500;
    fast.behaviour.delayMs = 50;
    const started = Date.now();
    assert.equal(await client.proxy(ProbeService, { cluster: 'forking', forks: 2 }).read('both'), 'fast');
    const took = Date.now() - started;
    assert.ok(took < 1000, `answered after ${took} ms; the fast provider takes 50 ms, the slow one 1500 ms`);
    assert.equal(slow.count('read'), 1, 'the slow provider got the call too');
    assert.equal(fast.count('read'), 1);
  });

  test('forking succeeds when one forked call fails, and fails only when all do', async (t) => {
    const { client, providers } = await cluster(t, ['a', 'b']);
    const [a, b] = providers as [ProbeProvider, ProbeProvider];
    a.behaviour.failing = true;
    const forking = client.proxy(ProbeService, { cluster: 'forking', forks: 2 });
    assert.equal(await forking.write(1), 'b');
    b.behaviour.failing = true;
    const error = await rejection(forking.write(2));
    assert.equal(error.code, Code.UNAVAILABLE);
    assert.equal(a.count('write') + b.count('write'), 4);
  });

  test('broadcast calls every provider, and fails if any of them fails', async (t) => {
    const { client, providers } = await cluster(t, ['a', 'b', 'c']);
    const broadcast = client.proxy(ProbeService, { cluster: 'broadcast' });
    assert.ok(['a', 'b', 'c'].includes(await broadcast.write('config-1')));
    for (const p of providers) assert.deepEqual(p.received.map((r) => r.args), [['config-1']], `${p.label} got the broadcast`);

    providers[1]!.behaviour.failing = true;
    const error = await rejection(broadcast.write('config-2'));
    assert.equal(error.code, Code.UNAVAILABLE);
    assert.match(error.message, /provider b is failing/);
    for (const p of providers) assert.equal(p.count('write'), 2, `${p.label} got the second broadcast too`);
  });
});
