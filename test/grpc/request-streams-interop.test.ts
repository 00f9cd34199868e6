// Client and bidi streaming between Switchyard and the real @grpc/grpc-js, both ways, with
// uploads.proto loaded by @grpc/proto-loader on the grpc-js side.
import assert from 'node:assert/strict';
import test, { type TestContext } from 'node:test';
import { Code, RpcError } from '../../src/index.js';
import { waitUntil } from '../support/calculator.js';
import { startGrpcClient } from './fixtures/greeter.js';
import { grpcJs, grpcJsClient, grpcJsServer, type GrpcJsStub } from './fixtures/grpc-js.js';
import { UploadsService, newUploadsLog, sleep, startUploads, uploadsJs, uploadsJsImpl, type Value } from './fixtures/uploads.js';

type Outcome = { error: grpcJs.ServiceError | null; response: unknown };
type Writable = grpcJs.ClientWritableStream<unknown>;

/** A grpc-js client-streaming call: `produce` writes to it; resolves with the callback's outcome. */
function clientStreamJs(client: GrpcJsStub, method: string, produce: (call: Writable) => void | Promise<void>, metadata = new grpcJs.Metadata()): { outcome: Promise<Outcome>; call: Writable } {
  let call!: Writable;
  const outcome = new Promise<Outcome>((resolve) => {
    call = (client[method] as (m: grpcJs.Metadata, cb: (e: grpcJs.ServiceError | null, r?: unknown) => void) => Writable)(metadata, (error, response) => resolve({ error, response }));
  });
  void produce(call);
  return { outcome, call };
}

/** Writes `values` in order, waiting for 'drain' whenever grpc-js asks to, then ends. */
async function writeAll(call: Writable, values: Iterable<unknown>): Promise<void> {
  for (const value of values) {
    if (!call.write(value)) await new Promise((resolve) => call.once('drain', resolve));
  }
  call.end();
}

/** A grpc-js bidi call: everything it answered, and how it ended. */
async function bidiJs(client: GrpcJsStub, method: string, values: unknown[], metadata = new grpcJs.Metadata()): Promise<{ items: unknown[]; error: grpcJs.ServiceError | undefined }> {
  const call = (client[method] as (m: grpcJs.Metadata) => grpcJs.ClientDuplexStream<unknown, unknown>)(metadata);
  const items: unknown[] = [];
  const ended = new Promise<grpcJs.ServiceError | undefined>((resolve) => {
    call.on('data', (item) => items.push(item));
    call.on('error', (error: grpcJs.ServiceError) => resolve(error));
    call.on('status', (status: grpcJs.StatusObject) => {
      if (status.code === grpcJs.status.OK) resolve(undefined);
    });
  });
  for (const value of values) call.write(value);
  call.end();
  return { items, error: await ended };
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

// ---- A grpc-js client calls a Switchyard server ----

async function switchyardServer(t: TestContext) {
  const { port, log } = await startUploads(t);
  return { client: grpcJsClient(t, uploadsJs(), port), log };
}

test('grpc-js → Switchyard: a client stream of 1000 values arrives in order; an empty one too', async (t) => {
  const { client, log } = await switchyardServer(t);
  const { outcome } = clientStreamJs(client, 'sum', (call) => writeAll(call, range(1000, 1).map((value) => ({ value, big: '1' }))));
  const { error, response } = await outcome;
  assert.equal(error, null);
  assert.deepEqual(response, { count: 1000, total: String(500500 + 1000), values: range(1000, 1) });
  assert.equal(typeof (log.values[0] as Value).big, 'bigint', 'int64 fields reach the handler as bigints');

  const empty = await clientStreamJs(client, 'sum', (call) => void call.end()).outcome;
  assert.equal(empty.error, null);
  assert.deepEqual(empty.response, { count: 0, total: '0', values: [] });
});

test('grpc-js → Switchyard: a bidi stream answers each value in order, with metadata; an empty one ends OK', async (t) => {
  const { client } = await switchyardServer(t);
  const metadata = new grpcJs.Metadata();
  metadata.set('x-tag', '#');
  const { items, error } = await bidiJs(client, 'echo', range(300).map((value) => ({ value })), metadata);
  assert.equal(error, undefined);
  assert.deepEqual(items, range(300).map((value) => ({ text: `#${value}` })));
  const empty = await bidiJs(client, 'echo', []);
  assert.equal(empty.error, undefined);
  assert.deepEqual(empty.items, []);
});

test('grpc-js → Switchyard: a handler answering early ends the call OK while grpc-js still writes', async (t) => {
  const { client } = await switchyardServer(t);
  let written = 0;
  let stop = false;
  const { outcome } = clientStreamJs(client, 'firstTwo', async (call) => {
    call.on('status', () => (stop = true));
    while (!stop) {
      written++;
      if (!call.write({ value: written })) {
        await Promise.race([new Promise((resolve) => call.once('drain', resolve)), sleep(50)]);
      }
    }
  });
  const { error, response } = await outcome;
  assert.equal(error, null);
  assert.deepEqual(response, { count: 2, total: '3', values: [1, 2] });
  await waitUntil(() => stop);
});

test('grpc-js → Switchyard: cancelling mid-stream aborts the handler with CANCELLED', async (t) => {
  const { client, log } = await switchyardServer(t);
  // grpc-js (Node's HTTP/2) cancels with END_STREAM, then RST_STREAM: a handler still at work when
  // the reset arrives hears it through its signal (one that read to the end first may answer).
  const chunk = { data: Buffer.alloc(16), pauseMs: 300, stopAfter: 1000 };
  const { outcome } = clientStreamJs(client, 'slowRead', async (call) => {
    for (let i = 0; i < 3; i++) call.write(chunk);
    await waitUntil(() => log.read === 1);
    call.cancel();
  });
  assert.equal((await outcome).error?.code, grpcJs.status.CANCELLED);
  await waitUntil(() => log.failures.length >= 1);
  assert.equal((log.failures[0] as RpcError).code, Code.CANCELLED);
  await waitUntil(() => log.finished === 1);
});

test('grpc-js → Switchyard: a handler error mid-stream reaches grpc-js with its status and message', async (t) => {
  const { client } = await switchyardServer(t);
  const values = range(10).map((value) => ({ value, failAfter: 3, code: Code.FAILED_PRECONDITION, message: 'three is enough ✓' }));
  const { error } = await clientStreamJs(client, 'failAfter', (call) => writeAll(call, values)).outcome;
  assert.equal(error?.code, grpcJs.status.FAILED_PRECONDITION);
  assert.equal(error?.details, 'three is enough ✓');

  const bidi = await bidiJs(client, 'echo', range(10).map((value) => ({ value, failAfter: 4, code: Code.RESOURCE_EXHAUSTED, message: 'no more room' })));
  assert.deepEqual(bidi.items, [{ text: '0' }, { text: '1' }, { text: '2' }]);
  assert.equal(bidi.error?.code, grpcJs.status.RESOURCE_EXHAUSTED);
  assert.equal(bidi.error?.details, 'no more room');
});

test('grpc-js → Switchyard: a slow handler holds a grpc-js producer back through HTTP/2 flow control', async (t) => {
  const { client, log } = await switchyardServer(t);
  let pulled = 0;
  let stop = false;
  const chunk = { data: Buffer.alloc(64 * 1024), pauseMs: 5, stopAfter: 40 };
  const { outcome } = clientStreamJs(client, 'slowRead', async (call) => {
    call.on('status', () => (stop = true));
    while (!stop) {
      pulled++;
      if (!call.write(chunk)) await Promise.race([new Promise((resolve) => call.once('drain', resolve)), sleep(100)]);
    }
  });
  await sleep(150);
  const ahead = pulled - log.read;
  const { error, response } = await outcome;
  assert.equal(error, null);
  assert.deepEqual(response, { count: 40, total: '0', values: [] });
  // The handler's window of 16, the stream's 1 MiB HTTP/2 window (16 chunks), grpc-js's own 16 and the buffers between.
  assert.ok(ahead <= 80, `${pulled} written for ${log.read} read`);
  t.diagnostic(`grpc-js wrote ${ahead} chunks of 64 KiB ahead of the handler`);
});

// ---- A Switchyard client calls a grpc-js server ----

async function grpcJsUploads(t: TestContext) {
  const log = newUploadsLog();
  const Ctor = uploadsJs();
  const port = await grpcJsServer(t, Ctor.service, uploadsJsImpl(log));
  return { uploads: startGrpcClient(t, `grpc://127.0.0.1:${port}`).proxy(UploadsService), log };
}

test('Switchyard → grpc-js: a client stream of 1000 values arrives in order; an empty one too', async (t) => {
  const { uploads, log } = await grpcJsUploads(t);
  async function* values() {
    for (let value = 1; value <= 1000; value++) yield { value, big: 2n ** 33n };
  }
  const total = await uploads.sum(values());
  assert.deepEqual(total, { count: 1000, total: 500500n + 1000n * 2n ** 33n, values: range(1000, 1) });
  assert.deepEqual(log.values.slice(0, 2).map((value) => (value as { value: number }).value), [1, 2]);
  assert.deepEqual(await uploads.sum([]), { count: 0, total: 0n, values: [] });
});

test('Switchyard → grpc-js: a bidi stream answers each value in order, with metadata; an empty one ends', async (t) => {
  const { uploads } = await grpcJsUploads(t);
  const texts: string[] = [];
  for await (const reply of uploads.echo.with({ metadata: { 'x-tag': '~' } })(range(300).map((value) => ({ value })))) texts.push(reply.text);
  assert.deepEqual(texts, range(300).map((value) => `~${value}`));
  const none: unknown[] = [];
  for await (const reply of uploads.echo([])) none.push(reply);
  assert.deepEqual(none, []);
});

test('Switchyard → grpc-js: a server answering early stops the producer', async (t) => {
  const { uploads } = await grpcJsUploads(t);
  let closed = false;
  async function* forever() {
    try {
      for (let value = 1; ; value++) {
        yield { value };
      }
    } finally {
      closed = true;
    }
  }
  assert.deepEqual(await uploads.firstTwo(forever()), { count: 2, total: 3n, values: [1, 2] });
  await waitUntil(() => closed);
  assert.deepEqual(await uploads.sum([{ value: 9 }]), { count: 1, total: 9n, values: [9] }, 'the connection serves the next call');
});

test('Switchyard → grpc-js: cancelling mid-stream (signal, or a source that throws) cancels the grpc-js call', async (t) => {
  const { uploads, log } = await grpcJsUploads(t);
  const controller = new AbortController();
  async function* slow() {
    for (let value = 0; ; value++) {
      yield { value };
      if (value === 2) setTimeout(() => controller.abort(), 20);
      await sleep(5);
    }
  }
  await assert.rejects(uploads.sum.with({ signal: controller.signal })(slow()), (error: unknown) => error instanceof RpcError && error.code === Code.CANCELLED);
  await waitUntil(() => log.failures.length === 1);
  assert.equal(log.failures[0], 'cancelled');

  async function* broken() {
    yield { value: 1 };
    await sleep(20);
    throw new Error('disk gone');
  }
  await assert.rejects(uploads.sum(broken()), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, Code.CANCELLED);
    assert.match(error.message, /disk gone/);
    assert.notEqual(error.unprocessed, true);
    return true;
  });
  await waitUntil(() => log.failures.length === 2);
});

test('Switchyard → grpc-js: a handler error mid-stream arrives with its status and message', async (t) => {
  const { uploads } = await grpcJsUploads(t);
  const failing = (failAfter: number, code: Code, message: string) => range(10).map((value) => ({ value, failAfter, code, message }));
  await assert.rejects(uploads.failAfter(failing(3, Code.FAILED_PRECONDITION, 'three is enough ✓')), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, Code.FAILED_PRECONDITION);
    assert.equal(error.message, 'three is enough ✓');
    return true;
  });
  const texts: string[] = [];
  await assert.rejects(async () => {
    for await (const reply of uploads.echo(failing(4, Code.RESOURCE_EXHAUSTED, 'no more room'))) texts.push(reply.text);
  }, (error: unknown) => error instanceof RpcError && error.code === Code.RESOURCE_EXHAUSTED && error.message === 'no more room');
  assert.deepEqual(texts, ['0', '1', '2']);
});

test('Switchyard → grpc-js: a slow grpc-js handler holds the request stream back', async (t) => {
  const { uploads, log } = await grpcJsUploads(t);
  let pulled = 0;
  async function* chunks() {
    for (;;) {
      pulled++;
      yield { data: new Uint8Array(64 * 1024), pauseMs: 5, stopAfter: 40 };
    }
  }
  const answer = uploads.slowRead(chunks());
  await sleep(150);
  const ahead = pulled - log.read;
  assert.deepEqual(await answer, { count: 40, total: 0n, values: [] });
  assert.ok(ahead <= 80, `${pulled} pulled for ${log.read} read`);
  t.diagnostic(`the request stream ran ${ahead} chunks of 64 KiB ahead of grpc-js's handler`);
});
