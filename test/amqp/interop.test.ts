import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import amqplib, { type ConsumeMessage } from 'amqplib';
import { unpack } from 'msgpackr';
import { Code } from '../../src/index.js';
import { CalculatorService, waitUntil } from '../support/calculator.js';
import { BROKER, brokerScope, startAmqpClient, startAmqpServer } from '../support/rabbitmq.js';

const program = fileURLToPath(new URL('./fixtures/tutorial-client.mjs', import.meta.url));

interface PlainReply {
  type: string;
  contentType: string;
  correlated: boolean;
  body: unknown;
}

/** Runs the plain amqplib program in a process of its own and reads the reply it prints. */
function runPlainClient(exchange: string, routingKey: string, method: string, args: string): Promise<PlainReply> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [program, BROKER, exchange, routingKey, method, args], { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`plain client failed: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout) as PlainReply);
    });
  });
}

test('a plain amqplib program following the RPC tutorial calls a Switchyard server and gets the result', async (t) => {
  const scope = await brokerScope(t);
  const { log } = await startAmqpServer(t, scope, 's1');
  const viaExchange = await runPlainClient(scope.exchange, CalculatorService.id, 'add', '[2, 3]');
  assert.deepEqual(viaExchange, { type: 'result', contentType: 'application/json', correlated: true, body: 5 });
  // The tutorial's own style: straight to the queue through the default exchange.
  const viaQueue = await runPlainClient('', `${scope.exchange}.${CalculatorService.id}`, 'divide', '[9, 3]');
  assert.deepEqual(viaQueue.body, 3);
  const failed = await runPlainClient(scope.exchange, CalculatorService.id, 'divide', '[1, 0]');
  assert.deepEqual(failed, {
    type: 'error',
    contentType: 'application/json',
    correlated: true,
    body: { code: Code.INVALID_ARGUMENT, name: 'RpcError', message: 'cannot divide by zero', details: { field: 'b', value: 0 } },
  });
  assert.deepEqual(log.calls.map((call) => [call.method, call.args]), [['add', [2, 3]], ['divide', [9, 3]], ['divide', [1, 0]]]);
});

/** Publishes raw requests on direct reply-to and collects the replies by correlation id. */
async function rawCaller(t: TestContext) {
  const connection = await amqplib.connect(BROKER);
  connection.on('error', () => undefined);
  t.after(() => connection.close().catch(() => undefined));
  const channel = await connection.createChannel();
  const replies = new Map<string, ConsumeMessage>();
  await channel.consume('amq.rabbitmq.reply-to', (message) => {
    if (message !== null) replies.set(message.properties.correlationId as string, message);
  }, { noAck: true });
  let next = 0;
  return {
    channel,
    async call(exchange: string, key: string, body: Buffer, properties: amqplib.Options.Publish): Promise<{ type: unknown; body: Record<string, unknown> }> {
      const correlationId = `raw-${next++}`;
      channel.publish(exchange, key, body, { replyTo: 'amq.rabbitmq.reply-to', correlationId, ...properties });
      await waitUntil(() => replies.has(correlationId), 5000);
      const reply = replies.get(correlationId)!;
      const msgpack = reply.properties.contentType === 'application/msgpack';
      return { type: reply.properties.type, body: (msgpack ? unpack(reply.content) : JSON.parse(reply.content.toString('utf8'))) as Record<string, unknown> };
    },
  };
}

test('malformed requests get typed error replies, and the server keeps serving', async (t) => {
  const scope = await brokerScope(t);
  const { log } = await startAmqpServer(t, scope, 's1');
  const raw = await rawCaller(t);
  const key = CalculatorService.id;
  const json = { contentType: 'application/json' };
  const cases: Array<[string, Buffer, amqplib.Options.Publish, number, RegExp]> = [
    ['not an array', Buffer.from('{"a":1}'), { ...json, type: 'add' }, Code.INVALID_ARGUMENT, /arguments must be an array/],
    ['not JSON', Buffer.from('[1, 2'), { ...json, type: 'add' }, Code.INVALID_ARGUMENT, /cannot decode arguments/],
    ['no method', Buffer.from('[1, 2]'), json, Code.INVALID_ARGUMENT, /names no service or method/],
    ['unknown method', Buffer.from('[1, 2]'), { ...json, type: 'constructor' }, Code.UNIMPLEMENTED, /not declared/],
    ['unknown content type', Buffer.from('<add/>'), { contentType: 'text/xml', type: 'add' }, Code.INVALID_ARGUMENT, /content type "text\/xml" is not enabled/],
    ['garbage msgpack', Buffer.from([0xc1, 0xc1]), { contentType: 'application/msgpack', type: 'add' }, Code.INVALID_ARGUMENT, /cannot decode arguments/],
    ['deadline passed', Buffer.from('[1, 2]'), { ...json, type: 'add', headers: { ':deadline': Date.now() - 1000 } }, Code.DEADLINE_EXCEEDED, /before the call was delivered/],
  ];
  for (const [what, body, properties, code, message] of cases) {
    const reply = await raw.call(scope.exchange, key, body, properties);
    assert.equal(reply.type, 'error', what);
    assert.equal(reply.body.code, code, what);
    assert.match(String(reply.body.message), message, what);
  }
  // Without content_type a request is read as JSON, as plain programs often send it.
  assert.deepEqual(await raw.call(scope.exchange, key, Buffer.from('[20, 22]'), { type: 'add' }), { type: 'result', body: 42 });
  assert.deepEqual(log.calls.map((call) => call.method), ['add']);
  const { calc } = startAmqpClient(t, scope);
  assert.equal(await calc.add(1, 1), 2);
});

test('a reply address the broker cannot use does not crash the server, and the request does not run again', async (t) => {
  const scope = await brokerScope(t);
  const { log } = await startAmqpServer(t, scope, 's1');
  const raw = await rawCaller(t);
  // A direct reply-to address that decodes to no channel: RabbitMQ closes the publishing connection.
  raw.channel.publish(scope.exchange, CalculatorService.id, Buffer.from('[1, 1]'), {
    type: 'add',
    contentType: 'application/json',
    replyTo: 'amq.rabbitmq.reply-to.g2AAAAAOcmFiYml0QGxvY2FsaG9zdAAAAfYAAAAAYqvtLQ==.abc',
    correlationId: 'poison',
  });
  await waitUntil(() => log.calls.length === 1, 5000);
  const { calc } = startAmqpClient(t, scope);
  assert.equal(await calc.add.with({ timeoutMs: 10_000 })(2, 2), 4);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(log.calls.map((call) => call.args), [[1, 1], [2, 2]], 'the poisoned request ran once');
});
