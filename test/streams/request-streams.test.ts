import assert from 'node:assert/strict';
import test, { type TestContext } from 'node:test';
import { Code, RpcError, createClient, createServer, currentCall, defineService } from '../../src/index.js';

interface Uploads {
  sum(values: AsyncIterable<number>): Promise<{ count: number; total: number }>;
  firstTwo(values: AsyncIterable<number>): Promise<number[]>;
  echo(values: AsyncIterable<string>): AsyncIterable<string>;
  slowReader(values: AsyncIterable<Uint8Array>): Promise<number>;
}
const UploadService = defineService<Uploads>('test.streams.Uploads', {
  methods: { sum: { stream: 'client' }, firstTwo: { stream: 'client' }, echo: { stream: 'bidi' }, slowReader: { stream: 'client' } },
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function start(t: TestContext) {
  const state = { read: 0, cancelled: false };
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false });
  server.provide(UploadService, {
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
        assert.equal(value.byteLength, 1024);
        await sleep(5);
        if (state.read === 40) break;
      }
      return state.read;
    },
  });
  const [address] = await server.listen();
  const client = createClient({ url: address! });
  t.after(async () => {
    await client.close();
    await server.close({ timeoutMs: 1000 });
  });
  return { uploads: client.proxy(UploadService), state };
}

test('a client stream sends every item and gets one answer', async (t) => {
  const { uploads } = await start(t);
  async function* numbers() {
    for (let i = 1; i <= 1000; i++) yield i;
  }
  assert.deepEqual(await uploads.sum(numbers()), { count: 1000, total: 500500 });
  assert.deepEqual(await uploads.sum([1, 2, 3]), { count: 3, total: 6 });
  assert.deepEqual(await uploads.sum([]), { count: 0, total: 0 });
});

test('a handler that answers before the stream ends stops the producer', async (t) => {
  const { uploads } = await start(t);
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
  assert.deepEqual(await uploads.firstTwo(forever()), [0, 1]);
  await sleep(50);
  assert.equal(closed, true);
  assert.ok(pulled < 100, `pulled ${pulled}`);
});

test('a bidi stream answers each item as it comes', async (t) => {
  const { uploads } = await start(t);
  const out: string[] = [];
  for await (const item of uploads.echo.with({ metadata: { 'x-tag': 'k' } })(['a', 'b', 'c'])) out.push(item);
  assert.deepEqual(out, ['ka', 'kb', 'kc']);
});

test('bidi: the caller reads answers while it still writes', async (t) => {
  const { uploads } = await start(t);
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  async function* requests() {
    yield 'first';
    await gate; // the second request waits for the first answer
    yield 'second';
  }
  const out: string[] = [];
  for await (const item of uploads.echo(requests())) {
    out.push(item);
    release();
  }
  assert.deepEqual(out, ['first', 'second']);
});

test('a slow reader holds the producer of a request stream back', async (t) => {
  const { uploads, state } = await start(t);
  let pulled = 0;
  async function* chunks() {
    for (;;) {
      pulled++;
      yield new Uint8Array(1024);
    }
  }
  const answer = uploads.slowReader(chunks());
  await sleep(100);
  assert.ok(pulled - state.read <= 40, `pulled ${pulled} for ${state.read} read`);
  assert.equal(await answer, 40);
});

test('a request stream that throws cancels the call', async (t) => {
  const { uploads } = await start(t);
  async function* broken() {
    yield 1;
    throw new Error('disk gone');
  }
  await assert.rejects(uploads.sum(broken()), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, Code.CANCELLED);
    assert.match(error.message, /disk gone/);
    return true;
  });
  // The connection serves the next call.
  assert.deepEqual(await uploads.sum([5]), { count: 1, total: 5 });
});

test('a stream-taking method refuses anything but one iterable', async (t) => {
  const { uploads } = await start(t);
  const bad = uploads.sum as unknown as (...args: unknown[]) => Promise<unknown>;
  for (const args of [[], [1], ['abc'], [[1], [2]]]) {
    await assert.rejects(bad(...args), (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT);
  }
});
