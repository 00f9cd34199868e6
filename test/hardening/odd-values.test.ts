import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, RpcError, createClient, createServer, defineService } from '../../src/index.js';
import { recordEscapes } from '../support/assertions.js';
import { onCleanup } from '../support/calculator.js';
import { brokerScope } from '../support/rabbitmq.js';
import { thrownValues, returnedValues, type OddValue } from './odd-values.js';

/**
 * Whatever a handler throws or returns, the server stays up and its caller gets an answer: a
 * result, or an `RpcError` whose code is a failure. Runs on every server transport at once; an
 * unhandled rejection or uncaught exception anywhere in the process fails the test.
 */

interface Odd {
  throwValue(kind: number): Promise<unknown>;
  returnValue(kind: number): Promise<unknown>;
  add(a: number, b: number): Promise<number>;
}
const OddService = defineService<Odd>('test.Odd', { version: '1', methods: { throwValue: {}, returnValue: {}, add: {} } });

const ROUNDS = 8;

test('1,000+ handlers throwing or returning odd values leave every transport up and every caller with an answer', async (t) => {
  const escaped = recordEscapes(t);

  const scope = (await brokerScope(t)).uses(OddService.id);
  const server = createServer({ registry: false, listen: ['tcp://127.0.0.1:0', 'http://127.0.0.1:0', 'grpc://127.0.0.1:0', scope.url({ server: 'odd' })] });
  server.provide(OddService, {
    throwValue: async (kind) => {
      throw thrownValues[kind]!.make();
    },
    returnValue: async (kind) => returnedValues[kind]!.make(),
    add: async (a, b) => a + b,
  });
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const addresses = await server.listen();

  let calls = 0;
  for (const address of addresses) {
    const transport = address.split(':')[0]!;
    // An AMQP client addresses the exchange, not one server of it.
    const client = createClient({ url: transport === 'amqp' ? scope.url() : address, cluster: 'failfast', circuitBreaker: false, timeoutMs: 10_000 });
    onCleanup(t, () => client.close({ timeoutMs: 2000 }));
    const odd = client.proxy(OddService);
    for (let round = 0; round < ROUNDS; round++) {
      const thrown = thrownValues.map(async (value, kind) => {
        const error = await rejectionOf(odd.throwValue(kind), `${transport}: throwing ${value.name}`);
        if (value.code !== undefined) assert.equal(error.code, value.code, `${transport}: throwing ${value.name} gives ${error.toString()}`);
      });
      const returned = returnedValues.map(async (value, kind) => {
        await answerOf(odd.returnValue(kind), value, `${transport}: returning ${value.name}`);
      });
      await Promise.all([...thrown, ...returned]);
      calls += thrown.length + returned.length;
    }
    assert.equal(await odd.add(2, 3), 5, `${transport} still serves`);
  }
  assert.ok(calls >= 1000, `${calls} calls`);
  assert.deepEqual(escaped, [], 'nothing escaped as an unhandled rejection or uncaught exception');
});

async function rejectionOf(promise: Promise<unknown>, what: string): Promise<RpcError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof RpcError, `${what}: expected an RpcError, got ${String(error)}`);
    assert.notEqual(error.code, Code.OK, `${what}: an error never has code OK`);
    assert.equal(typeof error.message, 'string', what);
    return error;
  }
  assert.fail(`${what}: the call should have failed`);
}

/** A returned odd value either arrives as a result or fails the call with an RpcError, never OK. */
async function answerOf(promise: Promise<unknown>, value: OddValue, what: string): Promise<void> {
  try {
    await promise;
    assert.ok(value.mayArrive, `${what}: expected a failure, the call succeeded`);
  } catch (error) {
    assert.ok(error instanceof RpcError, `${what}: expected an RpcError, got ${String(error)}`);
    assert.notEqual(error.code, Code.OK, what);
    assert.ok(value.mayFail, `${what}: expected a result, got ${error.toString()}`);
  }
}
