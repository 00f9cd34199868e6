// The rapid-reset guard tells clients that give up at their deadline, or leave a stream early,
// from clients that open streams and reset them at once (CVE-2023-44487).
import assert from 'node:assert/strict';
import { constants } from 'node:http2';
import test from 'node:test';
import { Code, RpcError } from '../../src/index.js';
import { GreeterService, startGreeter, startGrpcClient } from './fixtures/greeter.js';
import { greeterJs, grpcJs, grpcJsClient, unaryJs } from './fixtures/grpc-js.js';
import { grpcFrame, grpcHeaders, rawSession } from './fixtures/raw-h2.js';
import { countingRelay } from './fixtures/relay.js';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('grpc-js calls that outlive their deadline reset their streams without the connection being cut; healthy calls on it all succeed', async (t) => {
  // A quarter of the default limit, so that the resets below would exceed it several times over.
  const { port } = await startGreeter(t, { query: '?maxResets=50' });
  const relay = await countingRelay(t, port);
  const client = grpcJsClient(t, greeterJs(), relay.port);
  assert.equal((await unaryJs(client, 'sayHello', { name: 'warm-up' })).error, null);

  // 400 calls to a 300 ms handler with 200 ms deadlines, 20 every 40 ms: each is reset by grpc-js
  // at its deadline (unless the server's own deadline answered first), hundreds a second.
  let sending = true;
  const timedOut: Array<Promise<number | undefined>> = [];
  const slow = (async () => {
    for (let wave = 0; wave < 20; wave++) {
      for (let i = 0; i < 20; i++) {
        timedOut.push(unaryJs(client, 'slow', { ms: 300 }, undefined, { deadline: Date.now() + 200 }).then((outcome) => outcome.error?.code));
      }
      await tick(40);
    }
    await Promise.all(timedOut);
    sending = false;
  })();
  const healthy: Array<{ code: number | undefined; details: string | undefined }> = [];
  const workers = Array.from({ length: 4 }, async () => {
    while (sending) {
      const outcome = await unaryJs(client, 'sayHello', { name: 'steady' });
      healthy.push({ code: outcome.error?.code, details: outcome.error?.details });
    }
  });
  await Promise.all([slow, ...workers]);

  const codes = await Promise.all(timedOut);
  const notDeadline = codes.filter((code) => code !== grpcJs.status.DEADLINE_EXCEEDED);
  assert.deepEqual(notDeadline, [], `${notDeadline.length} of ${codes.length} timed-out calls ended otherwise than DEADLINE_EXCEEDED`);
  assert.ok(healthy.length > 0);
  assert.deepEqual(healthy.filter((outcome) => outcome.code !== undefined), [], 'every healthy call succeeded');
  assert.equal(relay.connections(), 1, 'the channel kept its one connection');
});

test('Switchyard calls that time out reset their streams without the connection being cut', async (t) => {
  const { address } = await startGreeter(t, { query: '?maxResets=20' });
  const greeter = startGrpcClient(t, address, { retries: 0 }).proxy(GreeterService);
  const outcomes = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 === 0
    ? greeter.slow.with({ timeoutMs: 150 })({ ms: 2000 }).then(() => 'answered', (error: unknown) => (error instanceof RpcError ? error.code : error))
    : tick(i * 3).then(() => greeter.sayHello({ name: 'x' })).then(() => 'hello', (error: unknown) => (error instanceof RpcError ? error.code : error)))));
  assert.deepEqual(outcomes.filter((_, i) => i % 2 === 0), Array(50).fill(Code.DEADLINE_EXCEEDED));
  assert.deepEqual(outcomes.filter((_, i) => i % 2 === 1), Array(50).fill('hello'));
  assert.deepEqual(await greeter.sayHello({ name: 'after' }), { message: 'Hello, after!' });
});

test('leaving server streams early, after their first items, does not count as rapid reset', async (t) => {
  const { port } = await startGreeter(t, { query: '?maxResets=20' });
  const relay = await countingRelay(t, port);
  const greeter = startGrpcClient(t, `grpc://127.0.0.1:${relay.port}`, { retries: 0 }).proxy(GreeterService);
  const firsts = await Promise.all(Array.from({ length: 100 }, async () => {
    for await (const item of greeter.count({ n: 1000, delayMs: 5 })) return item.value;
    return undefined;
  }));
  assert.deepEqual(firsts, Array(100).fill(0));
  assert.deepEqual(await greeter.sayHello({ name: 'after' }), { message: 'Hello, after!' });
  assert.equal(relay.connections(), 1, 'the client kept its one connection');
});

for (const timeout of ['10S', '2S', '300m']) {
  test(`rapid reset with grpc-timeout ${timeout} still counts: streams reset at once get the connection closed`, async (t) => {
    const { port } = await startGreeter(t, { query: '?maxResets=50' });
    const session = await rawSession(t, port);
    const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    let goaway: number | undefined;
    session.on('goaway', (code) => (goaway = code));
    const request = grpcFrame(Buffer.from([0x08, 0xe8, 0x07])); // SlowRequest { ms: 1000 }
    for (let i = 0; i < 2000 && !session.closed && !session.destroyed; i++) {
      const stream = session.request(grpcHeaders('/test.greeter.Greeter/Slow', { 'grpc-timeout': timeout }));
      stream.on('error', () => {});
      stream.end(request);
      stream.close(constants.NGHTTP2_CANCEL);
      if (i % 20 === 19) await new Promise((resolve) => setImmediate(resolve));
    }
    await closed;
    assert.equal(goaway, constants.NGHTTP2_ENHANCE_YOUR_CALM);
  });
}
