import assert from 'node:assert/strict';
import { test } from 'node:test';
import amqplib from 'amqplib';
import { Code } from '../../src/index.js';
import { CalculatorService, waitUntil } from '../support/calculator.js';
import { BROKER, brokerScope, startAmqpClient, startAmqpServer } from '../support/rabbitmq.js';

test('call: many calls in flight on one client, each answered with its own result', async (t) => {
  const scope = await brokerScope(t);
  await startAmqpServer(t, scope, 's1');
  await startAmqpServer(t, scope, 's2');
  const { calc } = startAmqpClient(t, scope);
  const results = await Promise.all(Array.from({ length: 300 }, (_, i) => calc.add(i, 1000)));
  assert.deepEqual(results, Array.from({ length: 300 }, (_, i) => i + 1000));
});

test('cast: each one-way call is taken by exactly one of the servers on the topic', async (t) => {
  const scope = await brokerScope(t);
  const a = await startAmqpServer(t, scope, 's1');
  const b = await startAmqpServer(t, scope, 's2');
  const { calc } = startAmqpClient(t, scope);
  const sent = Array.from({ length: 40 }, (_, i) => i);
  for (const x of sent) assert.equal(await calc.notify(x), undefined);
  await waitUntil(() => a.log.notified.length + b.log.notified.length === sent.length, 5000);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual([...a.log.notified, ...b.log.notified].sort((x, y) => x - y), sent, 'every cast ran once, none twice');
  assert.ok(a.log.notified.length > 0 && b.log.notified.length > 0, 'both servers took a share');
});

test('fanout: a one-way call reaches every server on the topic', async (t) => {
  const scope = await brokerScope(t);
  const servers = await Promise.all(['s1', 's2', 's3'].map((name) => startAmqpServer(t, scope, name)));
  const { calc } = startAmqpClient(t, scope);
  assert.equal(await calc.notify.with({ amqp: { fanout: true } })(7), undefined);
  await waitUntil(() => servers.every(({ log }) => log.notified.length === 1), 5000);
  for (const { log } of servers) assert.deepEqual(log.notified, [7]);
  await assert.rejects(calc.add.with({ amqp: { fanout: true }, oneWay: false })(1, 2), { code: Code.INVALID_ARGUMENT, message: /fanout call is one-way/ });
  await assert.rejects(calc.notify.with({ amqp: { fanout: true, targetServer: 's1' } })(1), { code: Code.INVALID_ARGUMENT });
});

test('a call or a cast can target one named server (topic.server)', async (t) => {
  const scope = await brokerScope(t);
  const a = await startAmqpServer(t, scope, 'host-a');
  const b = await startAmqpServer(t, scope, 'host-b');
  const { calc } = startAmqpClient(t, scope);
  for (let i = 0; i < 10; i++) assert.equal(await calc.add.with({ amqp: { targetServer: 'host-b' } })(i, 1), i + 1);
  assert.equal(a.log.calls.length, 0);
  assert.equal(b.log.calls.length, 10);
  for (let i = 0; i < 5; i++) await calc.notify.with({ amqp: { targetServer: 'host-a' } })(i);
  await waitUntil(() => a.log.notified.length === 5, 5000);
  assert.deepEqual(b.log.notified, []);
  await assert.rejects(calc.add.with({ amqp: { targetServer: 'no host!' } })(1, 1), { code: Code.INVALID_ARGUMENT });
});

test('the routing exchange is a topic exchange: a `#` binding sees the calls of a topic and its servers', async (t) => {
  const scope = await brokerScope(t);
  await startAmqpServer(t, scope, 's1');
  const { calc } = startAmqpClient(t, scope);
  const connection = await amqplib.connect(BROKER);
  t.after(() => connection.close());
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, scope.exchange, 'demo.#');
  const seen: Array<{ key: string; method: unknown; body: string }> = [];
  await channel.consume(queue, (message) => {
    if (message !== null) seen.push({ key: message.fields.routingKey, method: message.properties.type, body: message.content.toString('hex') });
  }, { noAck: true });
  await calc.notify(1);
  await calc.notify.with({ amqp: { targetServer: 's1' } })(2);
  assert.equal(await calc.add(2, 2), 4);
  await waitUntil(() => seen.length === 3, 5000);
  assert.deepEqual(seen.map(({ key, method }) => [key, method]), [
    [CalculatorService.id, 'notify'],
    [`${CalculatorService.id}.s1`, 'notify'],
    [CalculatorService.id, 'add'],
  ]);
});
