// HTTP/2 limits of the grpc:// server: streams, headers, message sizes, rapid reset.
import assert from 'node:assert/strict';
import { constants } from 'node:http2';
import test, { type TestContext } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { Code, RpcError, createServer, currentCall, defineService } from '../../src/index.js';
import { onCleanup, waitUntil } from '../support/calculator.js';
import { GreeterService, startGreeter, startGrpcClient } from './fixtures/greeter.js';
import { grpcFrame, grpcHeaders, rawRequest, rawSession } from './fixtures/raw-h2.js';

interface Hold {
  /** Runs until the call is aborted, or for `ms`. */
  hold(ms: number): Promise<number>;
}
const HoldService = defineService<Hold>('test.Hold', { methods: { hold: {} } });

/** A server whose `hold` calls wait on their signal, counting how many run at once. */
async function startHold(t: TestContext, query = '') {
  const stats = { started: 0, running: 0, maxRunning: 0, aborted: 0 };
  const server = createServer({ registry: false, listen: [`grpc://127.0.0.1:0${query}`] });
  server.provide(HoldService, {
    async hold(ms) {
      const { signal } = currentCall();
      stats.started++;
      stats.running++;
      stats.maxRunning = Math.max(stats.maxRunning, stats.running);
      try {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, ms);
          signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            stats.aborted++;
            reject(signal.reason);
          }, { once: true });
        });
      } finally {
        stats.running--;
      }
      return ms;
    },
  });
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  return { address: address!, port: Number(new URL(address!).port), stats };
}

test('SETTINGS advertise the stream and header-list limits given in the address', async (t) => {
  const { port } = await startHold(t, '?maxConcurrentStreams=8&maxHeaderListSize=8192');
  const session = await rawSession(t, port);
  assert.equal(session.remoteSettings.maxConcurrentStreams, 8);
  assert.equal(session.remoteSettings.maxHeaderListSize, 8192);
});

test('no more calls run at once on one connection than maxConcurrentStreams; the rest wait and succeed', async (t) => {
  const { address, stats } = await startHold(t, '?maxConcurrentStreams=4');
  const hold = startGrpcClient(t, address).proxy(HoldService);
  const results = await Promise.all(Array.from({ length: 12 }, () => hold.hold(50)));
  assert.deepEqual(results, Array(12).fill(50));
  assert.equal(stats.maxRunning, 4);
});

test('request headers over maxHeaderListSize are refused; the connection goes on serving', async (t) => {
  const { port, address } = await startHold(t, '?maxHeaderListSize=4096');
  const session = await rawSession(t, port);
  const refused = await rawRequest(session, grpcHeaders('/test.Hold/hold', { 'x-big': 'a'.repeat(8000) }), grpcFrame(Buffer.alloc(0)));
  assert.equal(refused.rstCode, constants.NGHTTP2_ENHANCE_YOUR_CALM);
  assert.equal(refused.grpcStatus, undefined);
  const client = startGrpcClient(t, address, { retries: 0 });
  await assert.rejects(client.proxy(HoldService).hold.with({ metadata: { 'x-big': 'b'.repeat(8000) } })(1), (error: unknown) => error instanceof RpcError && error.code === Code.RESOURCE_EXHAUSTED);
  assert.equal(await client.proxy(HoldService).hold(1), 1);
});

test('a message over maxMessageSize is RESOURCE_EXHAUSTED, judged by its declared length before it is read', async (t) => {
  const { port, address } = await startGreeter(t, { query: '?maxMessageSize=1024' });
  const session = await rawSession(t, port);
  // Declares 1 GiB and sends 10 bytes: refused at once, nothing of that size is allocated.
  const declared = await rawRequest(session, grpcHeaders('/test.greeter.Greeter/Echo'), [grpcFrame(Buffer.alloc(10), 0, 2 ** 30)]);
  assert.equal(declared.grpcStatus, Code.RESOURCE_EXHAUSTED);
  const greeter = startGrpcClient(t, address, { retries: 0 }).proxy(GreeterService);
  await assert.rejects(greeter.echo({ data: Buffer.alloc(2000) }), (error: unknown) => error instanceof RpcError && error.code === Code.RESOURCE_EXHAUSTED);
  assert.equal((await greeter.echo({ data: Buffer.alloc(500, 1) })).data.length, 500);
  // A client's own limit applies to responses: a reply of 600 bytes does not fit in 512.
  const strict = startGrpcClient(t, `${address}?maxMessageSize=512`, { retries: 0 }).proxy(GreeterService);
  await assert.rejects(strict.echo({ data: Buffer.alloc(600, 1) }), (error: unknown) => error instanceof RpcError && error.code === Code.RESOURCE_EXHAUSTED);
});

test('a gzip bomb stops inflating at maxMessageSize', async (t) => {
  const { port } = await startGreeter(t, { query: '?maxMessageSize=65536' });
  const session = await rawSession(t, port);
  const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024));
  assert.ok(bomb.length < 100_000);
  const response = await rawRequest(session, grpcHeaders('/test.greeter.Greeter/Echo', { 'grpc-encoding': 'gzip' }), grpcFrame(bomb, 1));
  assert.equal(response.grpcStatus, Code.RESOURCE_EXHAUSTED);
});

test('rapid reset: a flood of opened-and-reset streams gets the connection closed, while another client keeps working', async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const { address, port, stats } = await startHold(t);
  const client = startGrpcClient(t, address).proxy(HoldService);
  assert.equal(await client.hold(0), 0);
  gc();
  const heapBefore = process.memoryUsage().heapUsed;

  // A well-behaved client keeps calling throughout.
  let goodCalls = 0;
  let flooding = true;
  const good = (async () => {
    while (flooding) {
      assert.equal(await client.hold(1), 1);
      goodCalls++;
    }
  })();

  const request = grpcFrame(Buffer.from([0x91, 0xcd, 0x27, 0x10])); // msgpack [10000]
  const goaways: number[] = [];
  for (let attacker = 0; attacker < 3; attacker++) {
    const session = await rawSession(t, port);
    const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    session.on('goaway', (code) => goaways.push(code));
    for (let i = 0; i < 5000 && !session.closed && !session.destroyed; i++) {
      const stream = session.request(grpcHeaders('/test.Hold/hold', { 'content-type': 'application/grpc+msgpack' }));
      stream.on('error', () => {});
      stream.end(request);
      stream.close(constants.NGHTTP2_CANCEL);
      if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
    }
    await closed;
  }
  flooding = false;
  await good;

  assert.deepEqual(goaways, [constants.NGHTTP2_ENHANCE_YOUR_CALM, constants.NGHTTP2_ENHANCE_YOUR_CALM, constants.NGHTTP2_ENHANCE_YOUR_CALM]);
  assert.ok(goodCalls > 0, 'the other client made calls during the flood');
  // Each attacking connection got at most ~maxResets calls started before it was cut off.
  assert.ok(stats.started <= 1 + 3 * 260, `${stats.started} handlers started`);
  await waitUntil(() => stats.running === 0);
  gc();
  const growth = process.memoryUsage().heapUsed - heapBefore;
  t.diagnostic(`${stats.started} handlers started, ${goodCalls} calls of the other client, heap grew ${(growth / 1048576).toFixed(1)} MiB`);
  assert.ok(growth < 32 * 1024 * 1024, `heap grew by ${Math.round(growth / 1024 / 1024)} MiB`);
  assert.equal(await client.hold(2), 2);
});
