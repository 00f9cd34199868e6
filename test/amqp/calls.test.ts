import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, RpcError, createClient, createServer, currentCall, defineService } from '../../src/index.js';
import { CalculatorService, calculatorImpl, newLog, waitUntil } from '../support/calculator.js';
import { brokerScope, startAmqpClient, startAmqpServer } from '../support/rabbitmq.js';

test('a proxy call over RabbitMQ returns the result; invoke calls by name', async (t) => {
  const scope = await brokerScope(t);
  const { address } = await startAmqpServer(t, scope, 's1');
  assert.ok(!address.includes('guest'), `no credentials in ${address}`);
  assert.match(address, /^amqp:\/\/127\.0\.0\.1:5672\/\?exchange=sy-test-[0-9a-f]+&server=s1$/);
  const { client, calc } = startAmqpClient(t, scope);
  assert.equal(await calc.add(1, 2), 3);
  assert.equal(await client.invoke(CalculatorService, 'add', [40, 2]), 42);
  const bytes = new Uint8Array([0, 1, 2, 255]);
  assert.deepEqual([...(await calc.echo(bytes))], [...bytes]);
});

test('errors keep their code, name, message and details', async (t) => {
  const scope = await brokerScope(t);
  await startAmqpServer(t, scope, 's1');
  const { calc } = startAmqpClient(t, scope);
  await assert.rejects(calc.divide(1, 0), (error: RpcError) => {
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.equal(error.message, 'cannot divide by zero');
    assert.deepEqual(error.details, { field: 'b', value: 0 });
    return true;
  });
  await assert.rejects(calc.fail(), { name: 'QuotaError', code: Code.UNKNOWN, message: 'quota of 10 calls exceeded' });
});

test('a method the server does not declare is UNIMPLEMENTED', async (t) => {
  const scope = await brokerScope(t);
  await startAmqpServer(t, scope, 's1');
  const Wider = defineService<{ add(a: number, b: number): Promise<number>; square(x: number): Promise<number> }>('demo.Calculator', {
    version: '1.0.0',
    methods: { add: {}, square: {} },
  });
  const client = createClient({ url: scope.url() });
  t.after(() => client.close());
  await assert.rejects(client.proxy(Wider).square(3), { code: Code.UNIMPLEMENTED });
});

test('metadata travels both ways, text and binary', async (t) => {
  const scope = await brokerScope(t);
  const Headers = defineService<{ reflect(): Promise<string> }>('test.AmqpHeaders', { version: '1', methods: { reflect: {} } });
  scope.uses(Headers.id);
  const { log } = await startAmqpServer(t, scope, 's1', {
    setup: (server) => server.provide(Headers, {
      async reflect() {
        const { metadata, responseMetadata } = currentCall();
        responseMetadata.set('x-seen', [...metadata].map(([key]) => key).sort().join(','));
        responseMetadata.set('x-raw', new Uint8Array([0, 255, 10]));
        return 'ok';
      },
    }),
  });
  const client = createClient({ url: scope.url() });
  t.after(() => client.close());
  let seen: Map<string, unknown> | undefined;
  const result = await client.proxy(Headers).reflect.with({
    metadata: { 'x-tenant': 'acme', 'x-bin': new Uint8Array([1, 2, 3]) },
    onResponseMetadata: (md) => {
      seen = new Map(md);
    },
  })();
  assert.equal(result, 'ok');
  assert.equal(seen?.get('x-seen'), 'x-bin,x-tenant');
  assert.deepEqual([...(seen?.get('x-raw') as Uint8Array)], [0, 255, 10]);

  const { calc } = startAmqpClient(t, scope);
  await calc.add.with({ metadata: { 'x-bin': new Uint8Array([9, 8]) } })(1, 1);
  const md = log.calls.at(-1)!.metadata;
  assert.ok(md.get('x-bin') instanceof Uint8Array, 'binary metadata arrives as bytes');
  assert.deepEqual([...(md.get('x-bin') as Uint8Array)], [9, 8]);
});

test('the deadline reaches the server, and the caller gets DEADLINE_EXCEEDED when it passes', async (t) => {
  const scope = await brokerScope(t);
  const { log } = await startAmqpServer(t, scope, 's1');
  const { calc } = startAmqpClient(t, scope);
  const started = Date.now();
  await assert.rejects(calc.slow.with({ timeoutMs: 200 })(5000), { code: Code.DEADLINE_EXCEEDED });
  assert.ok(Date.now() - started < 2000, 'failed at the deadline, not later');
  // The handler's own signal fires at the same deadline.
  await waitUntil(() => log.slow[0]?.aborted === true, 3000);
  assert.equal((log.slow[0]!.abortReason as RpcError).code, Code.DEADLINE_EXCEEDED);
  const deadline = log.calls[0]!.deadline!;
  assert.ok(Math.abs(deadline - (started + 200)) < 150, `server deadline ${deadline - started} ms after the start`);
});

test('cancelling a call rejects it with CANCELLED and aborts the handler on the server', async (t) => {
  const scope = await brokerScope(t);
  const { log } = await startAmqpServer(t, scope, 's1');
  const { calc } = startAmqpClient(t, scope);
  const controller = new AbortController();
  const pending = calc.slow.with({ signal: controller.signal })(10_000);
  await waitUntil(() => log.slow.length === 1, 3000);
  controller.abort();
  await assert.rejects(pending, { code: Code.CANCELLED });
  await waitUntil(() => log.slow[0]!.aborted, 3000);
  assert.equal((log.slow[0]!.abortReason as RpcError).code, Code.CANCELLED);
});

test('JSON as the client serializer works as well as MessagePack', async (t) => {
  const scope = await brokerScope(t);
  await startAmqpServer(t, scope, 's1');
  const { calc } = startAmqpClient(t, scope, { serializer: 'json' });
  assert.equal(await calc.add(2, 3), 5);
  await assert.rejects(calc.divide(1, 0), { code: Code.INVALID_ARGUMENT, message: 'cannot divide by zero' });
});

test('bad addresses are refused with INVALID_ARGUMENT', async () => {
  await assert.rejects(createServer({ listen: ['amqp://127.0.0.1:5672/?colour=blue'], registry: false }).listen(), { code: Code.INVALID_ARGUMENT, message: /unknown option "colour"/ });
  const server = createServer({ listen: ['amqp://127.0.0.1:5672/?prefetch=0'], registry: false });
  await assert.rejects(server.listen(), { code: Code.INVALID_ARGUMENT, message: /prefetch must be an integer/ });
  const client = createClient({ url: 'amqp://127.0.0.1:5672/?exchange=amq.topic' });
  await assert.rejects(client.proxy(CalculatorService).add(1, 2), { code: Code.INVALID_ARGUMENT, message: /invalid exchange name/ });
  await client.close();
});

test('an unreachable broker fails calls and listen with UNAVAILABLE, wrong credentials with UNAUTHENTICATED', async (t) => {
  const scope = await brokerScope(t);
  const client = createClient({ url: 'amqp://127.0.0.1:1/', connectTimeoutMs: 2000 });
  t.after(() => client.close());
  await assert.rejects(client.proxy(CalculatorService).add(1, 2), { code: Code.UNAVAILABLE, message: /cannot connect to the broker/ });
  const server = createServer({ listen: ['amqp://127.0.0.1:1/'], registry: false });
  server.provide(CalculatorService, calculatorImpl(newLog()));
  await assert.rejects(server.listen(), { code: Code.UNAVAILABLE });
  const intruder = createClient({ url: scope.url().replace('guest:guest', 'guest:wrong') });
  t.after(() => intruder.close());
  await assert.rejects(intruder.proxy(CalculatorService).add(1, 2), { code: Code.UNAUTHENTICATED });
});
