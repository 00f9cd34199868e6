// Deadlines beyond setTimeout's range (2^31 - 1 ms, 24.8 days) on both sides of grpc://.
import assert from 'node:assert/strict';
import test, { type TestContext } from 'node:test';
import { createServer, currentCall } from '../../src/index.js';
import { onCleanup } from '../support/calculator.js';
import { GreeterService, greeterImpl, newGreeterLog, startGrpcClient } from './fixtures/greeter.js';
import { greeterJs, grpcJsClient, unaryJs } from './fixtures/grpc-js.js';
import { grpcFrame, grpcHeaders, rawRequest, rawSession } from './fixtures/raw-h2.js';

const DAY = 86_400_000;

/** A Greeter whose `slow` sleeps without looking at its signal, recording the deadlines it saw. */
async function startSleepyGreeter(t: TestContext) {
  const deadlines: Array<number | undefined> = [];
  const server = createServer({ registry: false, listen: ['grpc://127.0.0.1:0'] });
  server.provide(GreeterService, {
    ...greeterImpl(newGreeterLog()),
    async slow({ ms }) {
      deadlines.push(currentCall().deadline);
      await new Promise((resolve) => setTimeout(resolve, ms));
      return { message: `slept ${ms}` };
    },
  });
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  return { address: address!, port: Number(new URL(address!).port), deadlines };
}

test('a Switchyard call with a 30-day deadline waits for its 100 ms handler on both sides', async (t) => {
  const { address, deadlines } = await startSleepyGreeter(t);
  const greeter = startGrpcClient(t, address, { retries: 0 }).proxy(GreeterService);
  const sent = Date.now();
  assert.deepEqual(await greeter.slow.with({ timeoutMs: 30 * DAY })({ ms: 100 }), { message: 'slept 100' });
  const left = deadlines[0]! - sent;
  assert.ok(left > 29 * DAY && left <= 30 * DAY + 1000, `the server saw a deadline ${left} ms away`);
});

test('timeoutMs: Infinity is no deadline: no grpc-timeout is sent and the call waits for its handler', async (t) => {
  const { address, deadlines } = await startSleepyGreeter(t);
  const greeter = startGrpcClient(t, address, { retries: 0 }).proxy(GreeterService);
  assert.deepEqual(await greeter.slow.with({ timeoutMs: Infinity })({ ms: 100 }), { message: 'slept 100' });
  assert.deepEqual(deadlines, [undefined]);
});

test('a grpc-js call with a 30-day deadline, and a raw grpc-timeout of 99999999H, wait for a 100 ms handler', async (t) => {
  const { port, deadlines } = await startSleepyGreeter(t);
  const client = grpcJsClient(t, greeterJs(), port);
  const outcome = await unaryJs(client, 'slow', { ms: 100 }, undefined, { deadline: Date.now() + 30 * DAY });
  assert.equal(outcome.error, null);
  assert.deepEqual(outcome.response, { message: 'slept 100' });

  const session = await rawSession(t, port);
  const raw = await rawRequest(session, grpcHeaders('/test.greeter.Greeter/Slow', { 'grpc-timeout': '99999999H' }), grpcFrame(Buffer.from([0x08, 0x64]))); // SlowRequest { ms: 100 }
  assert.equal(raw.grpcStatus, 0, `grpc-status ${raw.grpcStatus}: ${raw.grpcMessage}`);
  assert.ok(raw.body.length > 5, 'the reply arrived');
  assert.ok(deadlines[1]! - Date.now() > 10_000 * 365 * DAY, 'the server kept a deadline of about 11 400 years');
});

test('a handler that watches its signal under a 30-day deadline is not aborted', async (t) => {
  const log = newGreeterLog();
  const server = createServer({ registry: false, listen: ['grpc://127.0.0.1:0'] });
  server.provide(GreeterService, greeterImpl(log));
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  const greeter = startGrpcClient(t, address!, { retries: 0 }).proxy(GreeterService);
  assert.deepEqual(await greeter.slow.with({ timeoutMs: 30 * DAY })({ ms: 100 }), { message: 'slept 100' });
  assert.deepEqual(log.aborted, []);
});
