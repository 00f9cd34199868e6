import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, RpcError, createServer } from '../../src/index.js';
import { CalculatorService, calculatorImpl, newLog, waitUntil, type Calculator, type CalculatorLog } from '../support/calculator.js';
import { brokerScope, queueDepth, startAmqpClient, startAmqpServer } from '../support/rabbitmq.js';

const sharedQueue = (exchange: string) => `${exchange}.${CalculatorService.id}`;

/** The Calculator, counting how many calls run at once. */
function counting(log: CalculatorLog, peak: { now: number; max: number }): Calculator {
  const inner = calculatorImpl(log);
  return {
    ...inner,
    async slow(ms) {
      peak.max = Math.max(peak.max, ++peak.now);
      try {
        return await inner.slow(ms);
      } finally {
        peak.now--;
      }
    },
  };
}

test('mandatory flag: a call, a cast, a fanout or a targeted call that no server is bound for fails fast with UNAVAILABLE', async (t) => {
  const scope = await brokerScope(t);
  const { calc } = startAmqpClient(t, scope);
  for (const attempt of [() => calc.add.with({ timeoutMs: 10_000 })(1, 2), () => calc.notify(1), () => calc.notify.with({ amqp: { fanout: true } })(1)]) {
    const started = Date.now();
    await assert.rejects(attempt(), (error: RpcError) => {
      assert.equal(error.code, Code.UNAVAILABLE);
      assert.match(error.message, /no server is bound for (fanout of )?demo\.Calculator:1\.0\.0/);
      assert.equal(error.unprocessed, true);
      return true;
    });
    assert.ok(Date.now() - started < 2000, 'failed at once, not at the deadline');
  }
  await startAmqpServer(t, scope, 's1');
  await assert.rejects(calc.add.with({ amqp: { targetServer: 's9' }, timeoutMs: 10_000 })(1, 2), { code: Code.UNAVAILABLE, message: /demo\.Calculator:1\.0\.0\.s9/ });
});

test('when the last server closes, its queues go and calls fail fast again', async (t) => {
  const scope = await brokerScope(t);
  const { server } = await startAmqpServer(t, scope, 's1');
  const { calc } = startAmqpClient(t, scope);
  assert.equal(await calc.add(1, 1), 2);
  await server.close();
  assert.equal(await queueDepth(sharedQueue(scope.exchange)), undefined, 'the shared queue is deleted');
  await assert.rejects(calc.add.with({ timeoutMs: 10_000 })(1, 1), { code: Code.UNAVAILABLE });
});

test('prefetch sets a server\'s concurrency; further requests wait in the queue', async (t) => {
  const scope = await brokerScope(t);
  const peak = { now: 0, max: 0 };
  const { log } = await startAmqpServer(t, scope, 's1', { query: { prefetch: 2 }, implementation: (l) => counting(l, peak) });
  const { calc } = startAmqpClient(t, scope);
  const calls = Array.from({ length: 6 }, () => calc.slow(800));
  await waitUntil(() => log.slow.length === 2, 3000);
  await waitUntil(() => false, 100).catch(() => undefined);
  assert.equal(await queueDepth(sharedQueue(scope.exchange)), 4, 'four requests wait in the queue');
  assert.deepEqual(await Promise.all(calls), [800, 800, 800, 800, 800, 800]);
  assert.equal(peak.max, 2);
});

test('a full queue refuses requests at once with RESOURCE_EXHAUSTED (load shedding)', async (t) => {
  const scope = await brokerScope(t);
  const { log } = await startAmqpServer(t, scope, 's1', { query: { prefetch: 1, maxQueueLength: 2 } });
  const { calc } = startAmqpClient(t, scope);
  const running = calc.slow(1500);
  await waitUntil(() => log.slow.length === 1, 3000);
  const queued = [calc.slow(10), calc.slow(10)];
  await waitUntil(() => false, 100).catch(() => undefined);
  const started = Date.now();
  await assert.rejects(calc.slow.with({ timeoutMs: 10_000 })(10), (error: RpcError) => {
    assert.equal(error.code, Code.RESOURCE_EXHAUSTED);
    assert.match(error.message, /queue is full/);
    assert.equal(error.unprocessed, true);
    return true;
  });
  await assert.rejects(calc.notify(1), { code: Code.RESOURCE_EXHAUSTED });
  assert.ok(Date.now() - started < 1000, 'refused at once');
  assert.deepEqual(await Promise.all([running, ...queued]), [1500, 10, 10]);
  assert.equal(await calc.add(1, 1), 2, 'accepted again once there is room');
});

test('a request that expires while queued is never executed', async (t) => {
  const scope = await brokerScope(t);
  const { log } = await startAmqpServer(t, scope, 's1', { query: { prefetch: 1 } });
  const { calc } = startAmqpClient(t, scope);
  const busy = calc.slow(700);
  await waitUntil(() => log.slow.length === 1, 3000);
  await assert.rejects(calc.add.with({ timeoutMs: 150 })(1, 2), { code: Code.DEADLINE_EXCEEDED });
  assert.equal(await busy, 700);
  assert.equal(await calc.divide(6, 3), 2);
  assert.deepEqual(log.calls.map((call) => call.method), ['slow', 'divide'], 'the stale add never ran');
  assert.equal(await queueDepth(sharedQueue(scope.exchange)), 0);
});

test('servers of one application must agree on queue options; a mismatch fails listen with FAILED_PRECONDITION', async (t) => {
  const scope = await brokerScope(t);
  await startAmqpServer(t, scope, 's1', { query: { maxQueueLength: 10 } });
  const other = createServer({ listen: [scope.url({ server: 's2', maxQueueLength: 20 })], registry: false });
  other.provide(CalculatorService, calculatorImpl(newLog()));
  await assert.rejects(other.listen(), { code: Code.FAILED_PRECONDITION, message: /x-max-length/ });
  await other.close();
});
