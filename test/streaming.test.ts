import assert from 'node:assert/strict';
import test, { type TestContext } from 'node:test';
import { Code, RpcError, createClient, createServer, currentCall, defineService } from '../src/index.js';

interface Feed {
  count(n: number): AsyncIterable<number>;
  failAfter(n: number): AsyncIterable<number>;
  tagged(n: number): AsyncIterable<string>;
}
const FeedService = defineService<Feed>('test.stream.Feed', {
  methods: { count: { stream: 'server' }, failAfter: { stream: 'server' }, tagged: { stream: 'server' } },
});

/** A server whose generators report how far they got and whether they were stopped. */
async function start(t: TestContext) {
  const state = { produced: -1, finished: false, aborted: false };
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false });
  server.provide(FeedService, {
    async *count(n) {
      const { signal } = currentCall();
      state.finished = false;
      try {
        for (let i = 0; i < n; i++) {
          state.produced = i;
          yield i;
        }
        state.finished = true;
      } finally {
        state.aborted = signal?.aborted ?? false;
      }
    },
    async *failAfter(n) {
      for (let i = 0; i < n; i++) yield i;
      throw new RpcError(Code.FAILED_PRECONDITION, `stopped after ${n}`, { details: { n } });
    },
    async *tagged(n) {
      const { metadata } = currentCall();
      for (let i = 0; i < n; i++) yield `${metadata.get('x-tag')}-${i}`;
    },
  });
  const [address] = await server.listen();
  const client = createClient({ url: address! });
  t.after(async () => {
    await client.close();
    await server.close({ timeoutMs: 1000 });
  });
  return { feed: client.proxy(FeedService), state };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a server stream delivers every item in order and ends', async (t) => {
  const { feed, state } = await start(t);
  const items: number[] = [];
  for await (const item of feed.count(5000)) items.push(item);
  assert.deepEqual(items, Array.from({ length: 5000 }, (_, i) => i));
  assert.equal(state.finished, true);
});

test('a slow consumer holds the provider to the flow-control window', async (t) => {
  const { feed, state } = await start(t);
  const iterator = feed.count(1_000_000)[Symbol.asyncIterator]();
  await iterator.next();
  await sleep(200);
  assert.ok(state.produced < 40, `the provider ran ahead by only a window of items, not more (produced ${state.produced})`);
  for (let i = 0; i < 100; i++) await iterator.next();
  await sleep(100);
  assert.ok(state.produced >= 100 && state.produced < 140, `reading lets it go on, still within a window (produced ${state.produced})`);
  await iterator.return?.();
});

test('leaving the loop early cancels the stream on the server', async (t) => {
  const { feed, state } = await start(t);
  for await (const item of feed.count(1_000_000)) if (item === 10) break;
  await sleep(100);
  assert.equal(state.finished, false);
  assert.equal(state.aborted, true, "the provider's signal fired");
  assert.ok(state.produced < 100);
});

test('an error thrown by the provider mid-stream reaches the consumer after the items before it', async (t) => {
  const { feed } = await start(t);
  const items: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const item of feed.failAfter(3)) items.push(item);
    })(),
    (error: unknown) => error instanceof RpcError && error.code === Code.FAILED_PRECONDITION && error.details.n === 3,
  );
  assert.deepEqual(items, [0, 1, 2]);
});

test("a stream's deadline ends it with DEADLINE_EXCEEDED and stops the provider", async (t) => {
  const { feed, state } = await start(t);
  const iterator = feed.count.with({ timeoutMs: 150 })(1_000_000)[Symbol.asyncIterator]();
  await iterator.next();
  await sleep(250);
  await assert.rejects(async () => {
    for (;;) if ((await iterator.next()).done) break;
  }, (error: unknown) => error instanceof RpcError && error.code === Code.DEADLINE_EXCEEDED);
  await sleep(50);
  assert.equal(state.aborted, true);
});

test('cancelling through an AbortSignal ends both sides', async (t) => {
  const { feed, state } = await start(t);
  const controller = new AbortController();
  const items: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const item of feed.count.with({ signal: controller.signal })(1_000_000)) {
        items.push(item);
        if (item === 20) controller.abort();
      }
    })(),
    (error: unknown) => error instanceof RpcError && error.code === Code.CANCELLED,
  );
  await sleep(100);
  assert.equal(state.aborted, true);
});

test('a stream generator sees the call context (metadata) through currentCall()', async (t) => {
  const { feed } = await start(t);
  const items: string[] = [];
  for await (const item of feed.tagged.with({ metadata: { 'x-tag': 'blue' } })(3)) items.push(item);
  assert.deepEqual(items, ['blue-0', 'blue-1', 'blue-2']);
});

test('many streams share one connection without mixing their items', async (t) => {
  const { feed } = await start(t);
  const collect = async (n: number) => {
    let total = 0;
    for await (const item of feed.count(n)) total += item;
    return total;
  };
  const totals = await Promise.all([100, 200, 300, 400].map(collect));
  assert.deepEqual(totals, [4950, 19900, 44850, 79800]);
});
