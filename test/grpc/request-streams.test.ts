// Client and bidi streaming between Switchyard peers over grpc://: order, early answers, flow
// control towards a slow reader, cancellation, deadlines, limits, with and without a .proto.
import assert from 'node:assert/strict';
import test, { type TestContext } from 'node:test';
import { Code, RpcError, createServer, currentCall, defineService } from '../../src/index.js';
import { onCleanup, waitUntil } from '../support/calculator.js';
import { startGrpcClient } from './fixtures/greeter.js';
import { UploadsService, sleep, startUploads } from './fixtures/uploads.js';

interface Streams {
  sum(values: AsyncIterable<number>): Promise<{ count: number; total: number }>;
  firstTwo(values: AsyncIterable<number>): Promise<number[]>;
  echo(values: AsyncIterable<string>): AsyncIterable<string>;
  slowReader(values: AsyncIterable<Uint8Array>): Promise<number>;
  hold(values: AsyncIterable<number>): Promise<number>;
}
const StreamsService = defineService<Streams>('test.grpc.Streams', {
  methods: { sum: { stream: 'client' }, firstTwo: { stream: 'client' }, echo: { stream: 'bidi' }, slowReader: { stream: 'client' }, hold: { stream: 'client' } },
});

/** A Switchyard server of StreamsService (MessagePack over grpc://) and a client of it. */
async function start(t: TestContext, query = '', clientQuery = '') {
  const state = { read: 0, failures: [] as unknown[] };
  const server = createServer({ registry: false, listen: [`grpc://127.0.0.1:0${query}`] });
  server.provide(StreamsService, {
    async sum(values) {
      let count = 0;
      let total = 0;
      for await (const value of values) {
        count++;
        total += value;
      }
      return { count, total };
    },
    async firstTwo(values) {
      const out: number[] = [];
      for await (const value of values) {
        out.push(value);
        if (out.length === 2) break;
      }
      return out;
    },
    async *echo(values) {
      const tag = currentCall().metadata.get('x-tag') ?? '';
      for await (const value of values) yield `${tag}${value}`;
    },
    async slowReader(values) {
      for await (const value of values) {
        state.read++;
        assert.equal(value.byteLength, 64 * 1024);
        await sleep(5);
        if (state.read === 40) break;
      }
      return state.read;
    },
    async hold(values) {
      let count = 0;
      try {
        for await (const _ of values) count++;
      } catch (error) {
        state.failures.push(error);
        throw error;
      }
      return count;
    },
  });
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  const client = startGrpcClient(t, `${address!}${clientQuery}`);
  return { streams: client.proxy(StreamsService), state, server };
}

test('a client stream over grpc:// sends every item in order and gets one answer', async (t) => {
  const { streams } = await start(t);
  async function* numbers() {
    for (let i = 1; i <= 1000; i++) yield i;
  }
  assert.deepEqual(await streams.sum(numbers()), { count: 1000, total: 500500 });
  assert.deepEqual(await streams.sum([1, 2, 3]), { count: 3, total: 6 });
  assert.deepEqual(await streams.sum([]), { count: 0, total: 0 });
});

test('a handler that answers before the request stream ends stops the producer', async (t) => {
  const { streams } = await start(t);
  let pulled = 0;
  let closed = false;
  async function* forever() {
    try {
      for (let i = 0; ; i++) {
        pulled++;
        yield i;
      }
    } finally {
      closed = true;
    }
  }
  assert.deepEqual(await streams.firstTwo(forever()), [0, 1]);
  await waitUntil(() => closed);
  // The next call on the same connection works.
  assert.deepEqual(await streams.sum([4, 5]), { count: 2, total: 9 });
  assert.ok(pulled < 10_000, `pulled ${pulled}`);
});

test('a bidi stream over grpc:// answers each item as it comes, with metadata', async (t) => {
  const { streams } = await start(t);
  const out: string[] = [];
  for await (const item of streams.echo.with({ metadata: { 'x-tag': 'k' } })(['a', 'b', 'c'])) out.push(item);
  assert.deepEqual(out, ['ka', 'kb', 'kc']);
  const many: string[] = [];
  for await (const item of streams.echo(Array.from({ length: 500 }, (_, i) => String(i)))) many.push(item);
  assert.deepEqual(many, Array.from({ length: 500 }, (_, i) => String(i)));
  const none: string[] = [];
  for await (const item of streams.echo([])) none.push(item);
  assert.deepEqual(none, []);
});

test('bidi over grpc://: the caller reads answers while it still writes', async (t) => {
  const { streams } = await start(t);
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  async function* requests() {
    yield 'first';
    await gate; // the second request waits for the first answer
    yield 'second';
  }
  const out: string[] = [];
  for await (const item of streams.echo(requests())) {
    out.push(item);
    release();
  }
  assert.deepEqual(out, ['first', 'second']);
});

test('a slow reader holds the producer of a request stream back (HTTP/2 flow control)', async (t) => {
  const { streams, state } = await start(t);
  let pulled = 0;
  async function* chunks() {
    for (;;) {
      pulled++;
      yield new Uint8Array(64 * 1024);
    }
  }
  const answer = streams.slowReader(chunks());
  await sleep(150);
  // What runs ahead of the reader: its window of 16 items, the stream's 1 MiB HTTP/2 window, the buffers between.
  assert.ok(pulled - state.read <= 80, `pulled ${pulled} for ${state.read} read`);
  assert.equal(await answer, 40);
  assert.ok(pulled - state.read <= 80, `pulled ${pulled} for ${state.read} read`);
});

test('a request stream that throws cancels the call with CANCELLED, and the handler hears it', async (t) => {
  const { streams, state } = await start(t);
  async function* broken() {
    yield 1;
    await sleep(20);
    throw new Error('disk gone');
  }
  await assert.rejects(streams.hold(broken()), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, Code.CANCELLED);
    assert.match(error.message, /disk gone/);
    assert.notEqual(error.unprocessed, true, 'its items are gone: it cannot be sent again');
    return true;
  });
  await waitUntil(() => state.failures.length === 1);
  assert.equal((state.failures[0] as RpcError).code, Code.CANCELLED);
  assert.deepEqual(await streams.sum([5]), { count: 1, total: 5 });
});

test('cancelling mid-stream (signal) ends the call and the handler loop', async (t) => {
  const { streams, state } = await start(t);
  const controller = new AbortController();
  let pulled = 0;
  async function* slow() {
    for (;;) {
      pulled++;
      yield pulled;
      if (pulled === 3) setTimeout(() => controller.abort(), 20);
      await sleep(5);
    }
  }
  await assert.rejects(streams.hold.with({ signal: controller.signal })(slow()), (error: unknown) => error instanceof RpcError && error.code === Code.CANCELLED);
  await waitUntil(() => state.failures.length === 1);
  assert.equal((state.failures[0] as RpcError).code, Code.CANCELLED);
});

test('a deadline covers the request stream: DEADLINE_EXCEEDED for the caller, the handler hears it', async (t) => {
  const { streams, state } = await start(t);
  async function* trickle() {
    for (let i = 0; ; i++) {
      yield i;
      await sleep(20);
    }
  }
  await assert.rejects(streams.hold.with({ timeoutMs: 150 })(trickle()), (error: unknown) => error instanceof RpcError && error.code === Code.DEADLINE_EXCEEDED);
  await waitUntil(() => state.failures.length === 1);
  const code = (state.failures[0] as RpcError).code;
  assert.ok(code === Code.DEADLINE_EXCEEDED || code === Code.CANCELLED, `handler heard ${code}`);
});

test('items of a request stream obey the server\'s maxMessageSize, and compressed items travel too', async (t) => {
  const { streams, state } = await start(t, '?maxMessageSize=4096', '?compression=gzip');
  async function* items() {
    yield new Uint8Array(100);
    yield new Uint8Array(100_000); // compresses well below the limit, inflates past it
  }
  await assert.rejects(streams.hold(items() as AsyncIterable<never>), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, Code.RESOURCE_EXHAUSTED);
    return true;
  });
  await waitUntil(() => state.failures.length === 1);
  // Compressed items within the limit arrive whole.
  const text = Array.from({ length: 20 }, (_, i) => `${i}`.repeat(1500));
  const out: string[] = [];
  for await (const item of streams.echo(text)) out.push(item);
  assert.deepEqual(out, text);
});

test('a caller\'s item too large for its own maxMessageSize fails the call, unsent', async (t) => {
  const { streams } = await start(t, '', '?maxMessageSize=1024');
  await assert.rejects(streams.sum([1, 2, 3, 'x'.repeat(2000) as unknown as number]), (error: unknown) => error instanceof RpcError && error.code === Code.RESOURCE_EXHAUSTED);
});

test('a server gone mid-stream fails the call as not unprocessed: the items pulled cannot be sent again', async (t) => {
  const { streams, server } = await start(t);
  let pulled = 0;
  async function* slow() {
    for (;;) {
      pulled++;
      yield pulled;
      if (pulled === 3) setTimeout(() => server.close({ timeoutMs: 0 }), 10);
      await sleep(5);
    }
  }
  await assert.rejects(streams.hold(slow()), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.notEqual(error.unprocessed, true, `${error.code} ${error.message}`);
    return true;
  });
});

test('a stream-taking method refuses anything but one iterable', async (t) => {
  const { streams } = await start(t);
  const bad = streams.sum as unknown as (...args: unknown[]) => Promise<unknown>;
  for (const args of [[], [1], ['abc'], [[1], [2]]]) {
    await assert.rejects(bad(...args), (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT);
  }
});

test('.proto rpcs taking (stream ...) are client and bidi methods, over grpc:// (Protobuf) and tcp:// (MessagePack)', async (t) => {
  assert.equal(UploadsService.methods.get('sum')?.stream, 'client');
  assert.equal(UploadsService.methods.get('echo')?.stream, 'bidi');
  const { addresses, log } = await startUploads(t, ['grpc://127.0.0.1:0', 'tcp://127.0.0.1:0']);
  for (const address of addresses) {
    const uploads = startGrpcClient(t, address).proxy(UploadsService);
    const total = await uploads.sum([{ value: 1, big: 2n ** 40n }, { value: 2, big: '5' }, { value: 3 }]);
    assert.deepEqual({ ...total, total: BigInt(total.total) }, { count: 3, total: 2n ** 40n + 11n, values: [1, 2, 3] }, `sum over ${address}`);
    const texts: string[] = [];
    for await (const reply of uploads.echo.with({ metadata: { 'x-tag': '#' } })([{ value: 7 }, { value: 8 }])) texts.push(reply.text);
    assert.deepEqual(texts, ['#7', '#8'], `echo over ${address}`);
  }
  // Values reach the handler as messages whose 64-bit integers are bigints, whatever the transport.
  assert.equal(typeof (log.values[0] as { big: unknown }).big, 'bigint');
  assert.equal(typeof (log.values[5] as { big: unknown }).big, 'bigint', 'over tcp:// too');
});
