import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, RpcError, WorkerPool } from '../../src/index.js';
import { onCleanup, waitUntil } from '../support/calculator.js';
import type { Prime } from './fixtures/prime-impl.js';
import { primeModule, startPrimeServer } from './fixtures/serve.js';
import { hasCode } from '../support/assertions.js';

function startPool(t: import('node:test').TestContext, options: ConstructorParameters<typeof WorkerPool>[1] = {}): WorkerPool {
  const pool = new WorkerPool(primeModule, { export: 'PrimeImpl', size: 1, ...options });
  onCleanup(t, () => pool.close());
  return pool;
}


test('a deadline drops a queued call before it runs and stops the running one through workerCall()', async (t) => {
  const pool = startPool(t);
  const { prime } = await startPrimeServer(t, pool.implementation<Prime>());
  await pool.ready();

  const running = prime.burnChecking.with({ timeoutMs: 300 })(5000);
  const queued = prime.burn.with({ timeoutMs: 100 })(50);
  await assert.rejects(queued, hasCode(Code.DEADLINE_EXCEEDED));
  // the server's deadline follows the client's by the request's transit time
  await waitUntil(() => pool.stats.queued === 0, 1000);
  await assert.rejects(running, hasCode(Code.DEADLINE_EXCEEDED));

  // The worker stopped the loop itself, so it is free again without being replaced. Whether it saw
  // DEADLINE_EXCEEDED or CANCELLED depends on which came first: the server's deadline, or the CANCEL
  // the client sends when its own deadline passes.
  const events = await prime.events();
  assert.equal(events.length, 2, events.join());
  assert.equal(events[0], 'burnChecking 5000');
  assert.match(events[1]!, new RegExp(`^burnChecking stopped: (${Code.DEADLINE_EXCEEDED}|${Code.CANCELLED})$`));
  assert.equal(pool.stats.restarts, 0);
});

test('a deadline given to pool.run reaches the worker as DEADLINE_EXCEEDED', async (t) => {
  const pool = startPool(t);
  await pool.ready();
  await assert.rejects(pool.run('burnChecking', [5000], { deadline: Date.now() + 200 }), hasCode(Code.DEADLINE_EXCEEDED));
  await assert.rejects(pool.run('burn', [10], { deadline: Date.now() - 1 }), hasCode(Code.DEADLINE_EXCEEDED));
  assert.deepEqual(await pool.run('events', []), ['burnChecking 5000', `burnChecking stopped: ${Code.DEADLINE_EXCEEDED}`]);
});

test('cancelling a call fires its signal inside the worker', async (t) => {
  const pool = startPool(t);
  const { prime } = await startPrimeServer(t, pool.implementation<Prime>());
  await pool.ready();

  const controller = new AbortController();
  const sleeping = prime.sleep.with({ signal: controller.signal })(5000);
  await waitUntil(() => pool.stats.busy === 1);
  controller.abort();
  await assert.rejects(sleeping, hasCode(Code.CANCELLED));

  const started = Date.now();
  assert.deepEqual(await prime.events(), ['sleep 5000', `sleep aborted: ${Code.CANCELLED}`]);
  assert.ok(Date.now() - started < 2000, 'the worker was free long before the sleep would have ended');
  assert.equal(pool.stats.restarts, 0);
});

test('a cancelled call that never checks is cut off after the grace period and its worker replaced', async (t) => {
  const pool = startPool(t, { cancelGraceMs: 200 });
  const { prime } = await startPrimeServer(t, pool.implementation<Prime>());
  await pool.ready();

  const started = Date.now();
  await assert.rejects(prime.burn.with({ timeoutMs: 100 })(4000), hasCode(Code.DEADLINE_EXCEEDED));
  await waitUntil(() => pool.stats.restarts === 1, 3000);
  assert.equal(await prime.countPrimes(1000), 168);
  assert.ok(Date.now() - started < 3500, 'the next call ran on a fresh worker before the abandoned loop could have finished');
  assert.deepEqual(await prime.events(), [], 'the replacement is a new instance');
});

test('calls beyond maxQueue are refused at once with RESOURCE_EXHAUSTED while admitted calls complete', async (t) => {
  const pool = startPool(t, { maxQueue: 2 });
  const { prime } = await startPrimeServer(t, pool.implementation<Prime>());
  await pool.ready();

  let firstDone = false;
  const admitted = [prime.burn(300), prime.burn(10), prime.burn(10)];
  void admitted[0]!.then(() => (firstDone = true));
  const refusals = [prime.burn(10), prime.burn(10)].map((call) =>
    call.then(
      () => assert.fail('a call beyond the queue bound ran'),
      (error: unknown) => ({ error, whileFirstRan: !firstDone }),
    ));
  for (const { error, whileFirstRan } of await Promise.all(refusals)) {
    assert.ok(hasCode(Code.RESOURCE_EXHAUSTED)(error), String(error));
    assert.match((error as RpcError).message, /1 workers are busy and 2 calls wait/);
    assert.ok(whileFirstRan, 'refused without waiting for a worker');
  }
  const results = await Promise.all(admitted);
  assert.ok(results.every((n) => n > 0));
});

test('closing the pool fails waiting calls as never run and the running one as UNAVAILABLE', async (t) => {
  const pool = startPool(t);
  const prime = pool.implementation<Prime>();
  await pool.ready();

  const running = assert.rejects(prime.burn(2000), (error: unknown) => hasCode(Code.UNAVAILABLE)(error) && !(error as RpcError).unprocessed);
  const queued = assert.rejects(prime.countPrimes(10), (error: unknown) => hasCode(Code.UNAVAILABLE)(error) && (error as RpcError).unprocessed);
  await waitUntil(() => pool.stats.busy === 1 && pool.stats.queued === 1);
  await pool.close();
  await queued;
  await running;
  await assert.rejects(prime.countPrimes(10), hasCode(Code.UNAVAILABLE));
  assert.equal(pool.stats.threads, 0);
});

test('a streaming result is pulled one item at a time, and stopping early ends its generator in the worker', async (t) => {
  const pool = startPool(t);
  const prime = pool.implementation<Prime>();

  const all: number[] = [];
  for await (const n of prime.count(3)) all.push(n);
  assert.deepEqual(all, [1, 2, 3]);
  assert.deepEqual(await prime.events(), ['yield 1', 'yield 2', 'yield 3', 'count finally']);

  const some: number[] = [];
  for await (const n of prime.count(100)) {
    some.push(n);
    if (n === 2) break;
  }
  assert.deepEqual(some, [1, 2]);
  assert.deepEqual(await prime.events(), ['yield 1', 'yield 2', 'count finally'], 'the worker ran no further than asked');
});

test('a streaming method served from the pool reaches a remote caller, and a caller that stops ends the generator', async (t) => {
  const pool = startPool(t);
  const { prime } = await startPrimeServer(t, pool.implementation<Prime>());

  const all: number[] = [];
  for await (const n of prime.count(5)) all.push(n);
  assert.deepEqual(all, [1, 2, 3, 4, 5]);
  assert.deepEqual(await prime.events(), ['yield 1', 'yield 2', 'yield 3', 'yield 4', 'yield 5', 'count finally']);

  for await (const n of prime.count(100_000)) if (n === 3) break;
  // the stream holds the only worker until it ends, so this call runs after the generator's end
  const events = await prime.events();
  assert.equal(events.at(-1), 'count finally');
  assert.ok(events.length < 1000, `the worker stopped after ${events.length - 1} items, not at the end`);
});
