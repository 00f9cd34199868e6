import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it, type TestContext } from 'node:test';
import { Code, RpcError, createClient, createServer, currentCall, defineService, type ServiceProxy } from '../../src/index.js';
import { onCleanup } from '../support/calculator.js';
import { rawRequest } from '../support/http.js';

interface Item {
  index: number;
  padding: string;
}

interface Uploads {
  /** Every item, as it arrived. */
  collect(items: AsyncIterable<unknown>): Promise<unknown[]>;
  /** Counts items; reads `x-pause-after` items, then waits for `release()`. */
  count(items: AsyncIterable<Item>): Promise<number>;
  /** Answers with the first item, reading no more. */
  first(items: AsyncIterable<Item>): Promise<number>;
  chat(items: AsyncIterable<string>): AsyncIterable<string>;
}

const UploadsService = defineService<Uploads>('test.Uploads', {
  methods: { collect: { stream: 'client' }, count: { stream: 'client' }, first: { stream: 'client' }, chat: { stream: 'bidi' } },
});

/** What the server's handlers saw, for the test to check. */
interface Seen {
  read: number;
  paused: Promise<void>;
  release: () => void;
  failure: RpcError | undefined;
  chatRan: boolean;
}

async function start(t: TestContext, query = ''): Promise<{ address: string; uploads: ServiceProxy<Uploads>; seen: Seen }> {
  let paused: () => void = () => {};
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const seen: Seen = { read: 0, paused: new Promise<void>((resolve) => (paused = resolve)), release, failure: undefined, chatRan: false };
  const server = createServer({ registry: false, listen: [`http://127.0.0.1:0${query}`] });
  server.provide(UploadsService, {
    async collect(items) {
      const all: unknown[] = [];
      try {
        for await (const item of items) all.push(item);
      } catch (error) {
        seen.failure = error as RpcError;
        throw error;
      }
      return all;
    },
    async count(items) {
      const pauseAfter = Number(currentCall().metadata.get('x-pause-after') ?? -1);
      let count = 0;
      for await (const item of items) {
        void item;
        seen.read = ++count;
        if (count === pauseAfter) {
          paused();
          await released;
        }
      }
      return count;
    },
    async first(items) {
      for await (const item of items) return item.index;
      return -1;
    },
    async *chat(items) {
      seen.chatRan = true;
      for await (const item of items) yield item;
    },
  });
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  const client = createClient({ url: address! });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  return { address: address!, uploads: client.proxy(UploadsService), seen };
}

/** A request stream that counts what was pulled from it and whether it was closed. */
class Producer {
  pulled = 0;
  closed = false;

  constructor(private readonly limit: number, private readonly paddingBytes: number) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<Item> {
    const padding = 'x'.repeat(this.paddingBytes);
    try {
      for (let index = 0; index < this.limit; index++) {
        this.pulled = index + 1;
        yield { index, padding };
      }
    } finally {
      this.closed = true;
    }
  }

  /** How many were pulled once nothing more was for 500 ms. */
  async settled(): Promise<number> {
    let last = -1;
    while (this.pulled !== last) {
      last = this.pulled;
      await sleep(500);
    }
    return this.pulled;
  }
}

async function waitFor(what: string, done: () => boolean): Promise<void> {
  const until = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > until) assert.fail(`${what} did not happen within 5 s`);
    await sleep(10);
  }
}

const ndjson = { 'content-type': 'application/x-ndjson' };

describe('HTTP transport: client streams (NDJSON request bodies)', () => {
  it('delivers every item in order, values JSON cannot carry included, and an empty stream', async (t) => {
    const { uploads } = await start(t);
    const values = [1, 'two', { three: 3 }, [4], null, new Uint8Array([0, 255]), 12345678901234567890n, new Date('2024-02-29T12:00:00.000Z'), 'line\nbreak'];
    // Bytes come back as a Buffer in Node, as for any call's result.
    const plain = (list: unknown[]) => list.map((value) => (value instanceof Uint8Array ? new Uint8Array(value) : value));
    assert.deepEqual(plain(await uploads.collect(values)), values);
    assert.deepEqual(await uploads.collect([]), []);
    const many = Array.from({ length: 2000 }, (_, i) => i);
    assert.deepEqual(await uploads.collect((async function* () {
      yield* many;
    })()), many);
  });

  it('holds the caller\'s source back while the handler does not read', async (t) => {
    const { uploads, seen } = await start(t);
    const producer = new Producer(4096, 16 * 1024);
    const answer = uploads.count.with({ metadata: { 'x-pause-after': '5' } })(producer);
    await seen.paused;
    const pulled = await producer.settled();
    t.diagnostic(`pulled ${pulled} items of 16 KiB while the handler read ${seen.read}`);
    // 16 items unread in the handler's window, what the sockets' buffers hold, and 16 KiB queued for
    // the socket: a few hundred items at most of the 4096, 64 MiB, an unbounded producer would make.
    assert.ok(pulled - seen.read < 600, `the source made ${pulled} items of 16 KiB while the handler read ${seen.read}`);
    seen.release();
    assert.equal(await answer, 4096);
  });

  it('stops pulling the source when the handler answers before the stream ended', async (t) => {
    const { uploads } = await start(t);
    const producer = new Producer(100_000, 1024);
    assert.equal(await uploads.first(producer), 0);
    await waitFor('closing the source', () => producer.closed);
    assert.ok(producer.pulled < 100_000, `all ${producer.pulled} items were pulled for an answer after one`);
    // The connection that carried it was closed; the next call goes on another.
    assert.deepEqual(await uploads.collect([1, 2]), [1, 2]);
  });

  it('fails the call with CANCELLED and the source\'s message when the source throws, and the handler hears it', async (t) => {
    const { uploads, seen } = await start(t);
    const broken = (async function* () {
      yield 1;
      yield 2;
      await sleep(20);
      throw new Error('the disk is gone');
    })();
    await assert.rejects(uploads.collect(broken), (error: RpcError) => {
      assert.equal(error.code, Code.CANCELLED);
      assert.match(error.message, /the disk is gone/);
      return true;
    });
    await waitFor('the handler hearing it', () => seen.failure !== undefined);
    assert.equal(seen.failure!.code, Code.CANCELLED);
  });

  it('reads lines as curl sends them: CRLF, blank lines, no newline at the end', async (t) => {
    const { address } = await start(t);
    const res = await rawRequest(address, 'POST', '/test.Uploads/collect', { headers: ndjson, body: ['1\r\n', '\n{"a":', '[2]}\n', '{"$bytes":"AP8="}\n"end"'] });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, '[1,{"a":[2]},{"$bytes":"AP8="},"end"]');
  });

  it('refuses a client stream sent one-way (x-switchyard-one-way: 1) with INVALID_ARGUMENT', async (t) => {
    const { address } = await start(t);
    const res = await rawRequest(address, 'POST', '/test.Uploads/collect', { headers: { ...ndjson, 'x-switchyard-one-way': '1' }, body: '1\n2\n' });
    assert.equal(res.status, 400, res.text);
    assert.equal((res.json as { code: string }).code, 'INVALID_ARGUMENT');
  });

  it('answers a malformed line with INVALID_ARGUMENT (400), naming the line', async (t) => {
    const { address } = await start(t);
    const res = await rawRequest(address, 'POST', '/test.Uploads/collect', { headers: ndjson, body: '1\n2\n{oops\n4\n' });
    assert.equal(res.status, 400, res.text);
    const body = res.json as { code: string; message: string };
    assert.equal(body.code, 'INVALID_ARGUMENT');
    assert.match(body.message, /^line 3 of the request stream is not a JSON value/);
  });

  it('limits each line to maxBodyBytes (413), not the whole stream', async (t) => {
    const { address, uploads } = await start(t, '?maxBodyBytes=1024');
    const lines = Array.from({ length: 200 }, (_, i) => `${i}:${'y'.repeat(200)}`);
    assert.deepEqual(await uploads.collect(lines), lines); // 40 KB in all, 1 KiB a line at most
    const res = await rawRequest(address, 'POST', '/test.Uploads/collect', { headers: ndjson, body: ['"short"\n', `"${'z'.repeat(2000)}"\n`] });
    assert.equal(res.status, 413, res.text);
    assert.deepEqual(res.json, { code: 'RESOURCE_EXHAUSTED', name: 'RpcError', message: 'line 2 of the request stream exceeds the limit of 1024 bytes', details: {} });
    await assert.rejects(uploads.collect(['ok', 'x'.repeat(2000)]), (error: RpcError) => error.code === Code.RESOURCE_EXHAUSTED && /line 2 of the request stream exceeds/.test(error.message));
  });

  it('refuses a request stream of another content type with 415', async (t) => {
    const { address } = await start(t);
    const res = await rawRequest(address, 'POST', '/test.Uploads/collect', { headers: { 'content-type': 'application/json' }, body: '[1, 2]' });
    assert.equal(res.status, 415, res.text);
    assert.match((res.json as { message: string }).message, /must be application\/x-ndjson/);
  });

  it('refuses bidi streams with UNIMPLEMENTED: on the client before anything is sent, and on the server', async (t) => {
    const { address, uploads, seen } = await start(t);
    let pulled = false;
    const source = (async function* () {
      pulled = true;
      yield 'hello';
    })();
    const iterate = async () => {
      for await (const answer of uploads.chat(source)) void answer;
    };
    await assert.rejects(iterate(), (error: RpcError) => {
      assert.equal(error.code, Code.UNIMPLEMENTED);
      assert.equal(error.unprocessed, true);
      assert.match(error.message, /streams both ways .*http:\/\/ and https:\/\/ do not carry/);
      return true;
    });
    assert.equal(pulled, false);
    const res = await rawRequest(address, 'POST', '/test.Uploads/chat', { headers: ndjson, body: '"hello"\n' });
    assert.equal(res.status, 501, res.text);
    assert.match((res.json as { message: string }).message, /test\.Uploads\.chat streams both ways/);
    assert.equal(seen.chatRan, false);
  });
});
