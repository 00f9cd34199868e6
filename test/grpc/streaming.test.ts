// Server streams over grpc://: flow control towards slow readers, deadlines over whole streams.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Code, RpcError, createServer, currentCall, defineService } from '../../src/index.js';
import { onCleanup, waitUntil } from '../support/calculator.js';
import { startGrpcClient } from './fixtures/greeter.js';

interface Feed {
  /** 64 KiB chunks, as many as asked for, `delayMs` apart. */
  chunks(count: number, delayMs: number): AsyncIterable<Uint8Array>;
}
const FeedService = defineService<Feed>('test.Feed', { methods: { chunks: { stream: 'server' } } });

async function startFeed(t: import('node:test').TestContext) {
  const stats = { produced: 0, finished: 0, aborted: 0 };
  const server = createServer({ registry: false, listen: ['grpc://127.0.0.1:0'] });
  server.provide(FeedService, {
    async *chunks(count, delayMs) {
      const { signal } = currentCall();
      signal?.addEventListener('abort', () => stats.aborted++, { once: true });
      try {
        for (let i = 0; i < count; i++) {
          if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
          stats.produced++;
          yield new Uint8Array(64 * 1024).fill(i % 256);
        }
      } finally {
        stats.finished++;
      }
    },
  });
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  return { address: address!, stats };
}

test('a slow reader holds the generator back: HTTP/2 flow control bounds what is produced ahead', async (t) => {
  const { address, stats } = await startFeed(t);
  const feed = startGrpcClient(t, address).proxy(FeedService);
  let taken = 0;
  for await (const chunk of feed.chunks(100_000, 0)) {
    assert.equal(chunk[0], taken % 256);
    if (++taken === 5) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // 100 000 chunks would be 6.5 GB; what was made ahead is what the windows and queues hold.
  assert.ok(stats.produced < 200, `${stats.produced} chunks produced for 5 read`);
  await waitUntil(() => stats.finished === 1);
  assert.equal(stats.aborted, 1, 'leaving the loop cancelled the call');
});

test('a deadline covers the whole stream: items before it arrive, then DEADLINE_EXCEEDED, and the generator ends', async (t) => {
  const { address, stats } = await startFeed(t);
  const feed = startGrpcClient(t, address).proxy(FeedService);
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const chunk of feed.chunks.with({ timeoutMs: 300 })(1000, 50)) seen.push(chunk[0]!);
  }, (error: unknown) => error instanceof RpcError && error.code === Code.DEADLINE_EXCEEDED);
  assert.ok(seen.length >= 2 && seen.length <= 6, `${seen.length} items before the deadline`);
  await waitUntil(() => stats.finished === 1);
});

test('an empty stream ends at once, and a stream method that returns no AsyncIterable fails with INTERNAL', async (t) => {
  interface Odd {
    nothing(): AsyncIterable<number>;
    notIterable(): AsyncIterable<number>;
  }
  const OddService = defineService<Odd>('test.Odd', { methods: { nothing: { stream: 'server' }, notIterable: { stream: 'server' } } });
  const server = createServer({ registry: false, listen: ['grpc://127.0.0.1:0'] });
  server.provide(OddService, {
    async *nothing() {},
    notIterable: (async () => 42) as unknown as Odd['notIterable'],
  });
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  const odd = startGrpcClient(t, address!).proxy(OddService);
  const items: number[] = [];
  for await (const item of odd.nothing()) items.push(item);
  assert.deepEqual(items, []);
  await assert.rejects(async () => {
    for await (const item of odd.notIterable()) assert.fail(`unexpected item ${item}`);
  }, (error: unknown) => error instanceof RpcError && error.code === Code.INTERNAL && /AsyncIterable/.test(error.message));
});
