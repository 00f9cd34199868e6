// Every item of a response stream reaches a slow reader over grpc://, also when the server's
// trailers arrive while the last items still wait, unread, behind a paused HTTP/2 stream.
import assert from 'node:assert/strict';
import test, { type TestContext } from 'node:test';
import { createServer, defineService } from '../../src/index.js';
import { onCleanup, waitUntil } from '../support/calculator.js';
import { startGrpcClient } from './fixtures/greeter.js';
import { sleep } from './fixtures/uploads.js';

interface Numbered {
  /** `count` items of `size` bytes, each carrying its index in its first four bytes. */
  download(count: number, size: number): AsyncIterable<Uint8Array>;
  echo(items: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array>;
}
const NumberedService = defineService<Numbered>('test.grpc.Numbered', { methods: { download: { stream: 'server' }, echo: { stream: 'bidi' } } });

// 64 items of 64 KiB: four times the default HTTP/2 stream window (1 MiB), so a slow reader
// pauses the stream many times and the server finishes well before the reader.
const COUNT = 64;
const ITEM = 64 * 1024;
// 64 items of 8 KiB: past the 16 a response stream queues before it pauses its HTTP/2 stream, and
// within the stream's window, so that all of them and the trailers arrive before the first is read.
const SMALL = 8 * 1024;

function numbered(index: number, size: number): Uint8Array {
  const item = new Uint8Array(size).fill(0xa5);
  new DataView(item.buffer).setUint32(0, index);
  return item;
}

function* numberedItems(count: number, size: number): Generator<Uint8Array> {
  for (let i = 0; i < count; i++) yield numbered(i, size);
}

async function start(t: TestContext) {
  const server = createServer({ registry: false, listen: ['grpc://127.0.0.1:0'] });
  const served = { items: 0 };
  server.provide(NumberedService, {
    async *download(count, size) {
      for (const item of numberedItems(count, size)) {
        served.items++;
        yield item;
      }
    },
    async *echo(items) {
      for await (const item of items) {
        served.items++;
        yield item;
      }
    },
  });
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  return { numbered: startGrpcClient(t, address!).proxy(NumberedService), served };
}

/** Reads `answers` slowly; the indexes that did not arrive, in order. */
async function missingFrom(answers: AsyncIterable<Uint8Array>, count: number, size: number): Promise<number[]> {
  const seen = new Set<number>();
  for await (const item of answers) {
    assert.equal(item.byteLength, size);
    seen.add(new DataView(item.buffer, item.byteOffset).getUint32(0));
    await new Promise((resolve) => setTimeout(resolve, 4));
  }
  const missing: number[] = [];
  for (let i = 0; i < count; i++) if (!seen.has(i)) missing.push(i);
  return missing;
}

/** `answers` (a call started at once) once the server has sent all of it, trailers included: nothing read yet. */
async function answeredWhole(answers: AsyncIterable<Uint8Array>, served: { items: number }): Promise<AsyncIterable<Uint8Array>> {
  await waitUntil(() => served.items === COUNT);
  await sleep(100); // the last DATA and the trailers cross the loopback
  return answers;
}

test('a slow reader of a server stream gets every item, those behind the trailers included', async (t) => {
  const { numbered: client, served } = await start(t);
  assert.deepEqual(await missingFrom(client.download(COUNT, ITEM), COUNT, ITEM), []);
  assert.equal(served.items, COUNT);
});

test('a slow reader of a bidi stream gets every echoed item, those behind the trailers included', async (t) => {
  const { numbered: client, served } = await start(t);
  assert.deepEqual(await missingFrom(client.echo(numberedItems(COUNT, ITEM)), COUNT, ITEM), []);
  assert.equal(served.items, COUNT);
});

test('a server stream whose trailers came before its first item was read still gives every item', async (t) => {
  const { numbered: client, served } = await start(t);
  const answers = await answeredWhole(client.download(COUNT, SMALL), served);
  assert.deepEqual(await missingFrom(answers, COUNT, SMALL), []);
});

test('a bidi stream whose trailers came before its first item was read still gives every item', async (t) => {
  const { numbered: client, served } = await start(t);
  const answers = await answeredWhole(client.echo(numberedItems(COUNT, SMALL)), served);
  assert.deepEqual(await missingFrom(answers, COUNT, SMALL), []);
});
