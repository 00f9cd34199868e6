import assert from 'node:assert/strict';
import { test } from 'node:test';
import amqplib, { type ConsumeMessage } from 'amqplib';
import { CalculatorService, onCleanup, waitUntil } from '../support/calculator.js';
import { BROKER, brokerScope, startAmqpClient, startAmqpServer, uniqueName } from '../support/rabbitmq.js';

const DAY_MS = 86_400_000;

test('far deadlines (30 days, 20 years, Infinity) do not fail calls early, and travel as the broker accepts them', async (t) => {
  const scope = await brokerScope(t);
  const { log } = await startAmqpServer(t, scope, 's1');
  // A queue of the test's own bound to the topic sees a copy of every request as the broker got it.
  const observer = await amqplib.connect(BROKER);
  observer.on('error', () => undefined);
  const channel = await observer.createChannel();
  const { queue } = await channel.assertQueue(uniqueName('sy-test-observer'), { exclusive: true });
  await channel.bindQueue(queue, scope.exchange, CalculatorService.id);
  const seen: ConsumeMessage[] = [];
  await channel.consume(queue, (message) => message !== null && seen.push(message), { noAck: true });
  onCleanup(t, () => observer.close().catch(() => undefined));

  // A fresh client: its first call also waits for the connection under this deadline.
  const { calc } = startAmqpClient(t, scope);
  const thirtyDays = Date.now() + 30 * DAY_MS;
  assert.equal(await calc.slow.with({ timeoutMs: 30 * DAY_MS })(100), 100);
  assert.equal(await calc.slow.with({ timeoutMs: Infinity })(100), 100);
  const twentyYears = Date.now() + 20 * 365 * DAY_MS;
  assert.equal(await calc.slow.with({ deadline: twentyYears })(100), 100);
  assert.deepEqual(log.slow.map((run) => [run.finished, run.aborted]), [[true, false], [true, false], [true, false]]);

  await waitUntil(() => seen.length === 3, 5000);
  const [month, never, decades] = seen.map((message) => message.properties as { expiration?: string; headers?: Record<string, unknown> });
  const expiration = Number(month!.expiration);
  assert.ok(expiration > 30 * DAY_MS - 60_000 && expiration <= 30 * DAY_MS, `30 days as the expiration: ${month!.expiration}`);
  assert.ok(Math.abs((month!.headers?.[':deadline'] as number) - thirtyDays) < 60_000, 'and as the absolute deadline');
  assert.equal(never!.expiration, undefined, 'no deadline: no expiration');
  assert.equal(never!.headers?.[':deadline'], undefined);
  assert.equal(decades!.expiration, undefined, 'beyond what brokers accept as an expiration: none');
  assert.equal(decades!.headers?.[':deadline'], twentyYears, 'the server still learns the deadline');
  assert.equal(log.calls[2]!.deadline, twentyYears);
});
