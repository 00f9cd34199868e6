import assert from 'node:assert/strict';
import { createServer as createNetServer, type Socket } from 'node:net';
import test, { type TestContext } from 'node:test';
import { Code, RpcError, createClient, createServer, defineService, type ClientOptions, type ServerOptions } from '../../../src/index.js';
import { msgpackSerializer } from '../../../src/serialization/msgpack.js';
import { FrameDecoder } from '../../../src/transport/tcp/frame-decoder.js';
import { Flags, FrameType, decodeRequestMetadata, encodeMetadata, type Frame } from '../../../src/transport/tcp/frame.js';
import { RawPeer, announcedLimit, buildFrame, countingForwarder, goAwayReason, requestFrame } from '../../support/raw-socket.js';
import { onCleanup } from '../../support/calculator.js';

// A test whose fix is missing fails here instead of waiting forever for an answer.
const LIMIT_MS = 30_000;

interface Blobs {
  make(size: number): Promise<Uint8Array>;
  /** Throws FAILED_PRECONDITION with a message of `size` characters and large details. */
  explode(size: number): Promise<never>;
  items(count: number, size: number): AsyncIterable<Uint8Array>;
  callBack(size: number, reply: (payload: Uint8Array) => Promise<unknown>): Promise<string>;
  accept(payload: string): Promise<number>;
}
const BlobService = defineService<Blobs>('test.tcp.Blobs', {
  methods: { make: {}, explode: {}, items: { stream: 'server' }, callBack: {}, accept: {} },
});

const KiB = 1024;
const MiB = 1024 * KiB;

async function start(t: TestContext, serverOptions: Partial<ServerOptions> = {}, clientOptions: Omit<ClientOptions, 'url'> = {}) {
  const stats = { accepted: 0 };
  const server = createServer({ ...serverOptions, listen: ['tcp://127.0.0.1:0'], registry: false });
  server.provide(BlobService, {
    make: async (size) => new Uint8Array(size),
    explode: async (size) => {
      throw new RpcError(Code.FAILED_PRECONDITION, 'x'.repeat(size), { name: 'BlastError', details: { blob: 'd'.repeat(size) } });
    },
    async *items(count, size) {
      for (let i = 0; i < count; i++) yield new Uint8Array(size);
    },
    async callBack(size, reply) {
      try {
        return `answered ${await reply(new Uint8Array(size))}`;
      } catch (error) {
        return `${(error as RpcError).code}: ${(error as RpcError).message}`;
      }
    },
    accept: async (payload) => {
      stats.accepted++;
      return payload.length;
    },
  });
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  const forwarder = await countingForwarder(t, address!);
  const client = createClient({ ...clientOptions, url: forwarder.address, retries: 0 });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  return { blobs: client.proxy(BlobService), connections: forwarder.connections, stats, address: address! };
}

test('one oversized result and one huge error among 20 concurrent calls fail alone; the other 18 succeed on the same connection', { timeout: LIMIT_MS }, async (t) => {
  const { blobs, connections } = await start(t, {}, { maxFrameSize: 64 * KiB });
  assert.equal((await blobs.make(10)).length, 10);
  const calls: Array<Promise<unknown>> = [];
  for (let i = 0; i < 20; i++) {
    if (i === 7) calls.push(blobs.make(128 * KiB));
    else if (i === 13) calls.push(blobs.explode(256 * KiB));
    else calls.push(blobs.make(1000 + i));
  }
  const outcomes = await Promise.allSettled(calls);
  outcomes.forEach((outcome, i) => {
    if (i === 7 || i === 13) return;
    assert.equal(outcome.status, 'fulfilled', `call ${i}: ${outcome.status === 'rejected' ? String(outcome.reason) : ''}`);
    assert.equal((outcome.value as Uint8Array).length, 1000 + i);
  });
  const oversized = outcomes[7]!;
  assert.equal(oversized.status, 'rejected');
  assert.ok(oversized.reason instanceof RpcError);
  assert.equal(oversized.reason.code, Code.RESOURCE_EXHAUSTED);
  assert.match(oversized.reason.message, /response of \d+ bytes exceeds the frame limit of 65536/);

  const huge = outcomes[13]!;
  assert.equal(huge.status, 'rejected');
  assert.ok(huge.reason instanceof RpcError);
  assert.equal(huge.reason.code, Code.FAILED_PRECONDITION, 'the shortened error keeps its code');
  assert.equal(huge.reason.name, 'BlastError');
  assert.match(huge.reason.message, /^x{100,}…? \[error shortened: its \d+ bytes exceed the frame limit of 65536\]$/);
  assert.ok(huge.reason.message.length < 2000, `message of ${huge.reason.message.length} characters`);
  assert.deepEqual(huge.reason.details, {}, 'details are dropped');

  assert.equal((await blobs.make(5)).length, 5);
  assert.equal(connections(), 1, 'every call went over the one connection');
});

test('an error over the default 16 MiB limit is shortened instead of closing the connection', { timeout: LIMIT_MS }, async (t) => {
  const { blobs, connections } = await start(t);
  const pending = blobs.make(100);
  const error = await blobs.explode(17 * MiB).then(() => assert.fail('explode resolved'), (reason: unknown) => reason);
  assert.ok(error instanceof RpcError);
  assert.equal(error.code, Code.FAILED_PRECONDITION);
  assert.match(error.message, /error shortened: its \d+ bytes exceed the frame limit of 16777216/);
  assert.equal((await pending).length, 100);
  assert.equal((await blobs.make(1)).length, 1);
  assert.equal(connections(), 1);
});

test('a stream item over the client limit ends that stream with RESOURCE_EXHAUSTED; other calls go on', { timeout: LIMIT_MS }, async (t) => {
  const { blobs, connections } = await start(t, {}, { maxFrameSize: 32 * KiB });
  const received: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const item of blobs.items(5, 64 * KiB)) received.push(item.length);
    })(),
    (error: unknown) => error instanceof RpcError && error.code === Code.RESOURCE_EXHAUSTED && /stream item of \d+ bytes exceeds the frame limit of 32768/.test(error.message),
  );
  assert.deepEqual(received, []);
  const small: number[] = [];
  for await (const item of blobs.items(3, 100)) small.push(item.length);
  assert.deepEqual(small, [100, 100, 100]);
  assert.equal(connections(), 1);
});

test('a callback call over the client limit fails on the server with RESOURCE_EXHAUSTED', { timeout: LIMIT_MS }, async (t) => {
  const { blobs, connections } = await start(t, {}, { maxFrameSize: 32 * KiB });
  let reached = 0;
  const reply = async (payload: Uint8Array) => {
    reached++;
    return payload.length;
  };
  assert.match(await blobs.callBack(64 * KiB, reply), /^8: callback call of \d+ bytes exceeds the frame limit of 32768$/);
  assert.equal(reached, 0, 'the callback never reached the caller');
  assert.equal(await blobs.callBack(10, reply), 'answered 10');
  assert.equal(connections(), 1);
});

test("a callback's answer over the server's limit reaches the server as RESOURCE_EXHAUSTED", { timeout: LIMIT_MS }, async (t) => {
  const { blobs } = await start(t, { maxFrameSize: 8 * KiB });
  assert.match(await blobs.callBack(1, async () => 'z'.repeat(16 * KiB)), /^8: callback result of \d+ bytes exceeds the frame limit of 8192$/);
});

test("a request over the server's announced limit fails RESOURCE_EXHAUSTED on the client, unprocessed, even as the first call", { timeout: LIMIT_MS }, async (t) => {
  const { blobs, stats, connections } = await start(t, { maxFrameSize: 4 * KiB });
  await assert.rejects(blobs.accept('p'.repeat(8 * KiB)), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, Code.RESOURCE_EXHAUSTED);
    assert.equal(error.unprocessed, true);
    assert.match(error.message, /request of \d+ bytes exceeds the frame limit of 4096/);
    return true;
  });
  assert.equal(stats.accepted, 0);
  assert.equal(await blobs.accept('ok'), 2);
  assert.equal(connections(), 1);
});

test('the server announces its limit first on a new connection, and answers a peer that announces none within its own', { timeout: LIMIT_MS }, async (t) => {
  const { address } = await start(t, { maxFrameSize: 300 * KiB });
  const peer = await RawPeer.connect(address);
  t.after(() => peer.destroy());
  const first = await peer.waitFor(() => true);
  assert.equal(announcedLimit(first), 300 * KiB);
  // A peer of revision 1.0 announces nothing: the server holds its responses to its own limit.
  const msgpack = msgpackSerializer();
  peer.write(requestFrame({ service: BlobService.id, method: 'make', requestId: 3, serializer: msgpack.id, body: msgpack.encode([200 * KiB]) }));
  const response = await peer.waitFor((frame) => frame.type === FrameType.RESPONSE && frame.requestId === 3);
  assert.equal(response.flags & Flags.ERROR, 0);
  assert.equal((msgpack.decode(response.body) as Uint8Array).length, 200 * KiB);
});

test('a peer announcing a malformed limit gets GOAWAY', { timeout: LIMIT_MS }, async (t) => {
  const { address } = await start(t);
  const peer = await RawPeer.connect(address);
  t.after(() => peer.destroy());
  peer.write(buildFrame({ type: FrameType.PING, requestId: 0, metadata: encodeMetadata([[':max-frame-size', 'lots']]) }));
  const goAway = await peer.waitFor((frame) => frame.type === FrameType.GOAWAY);
  assert.match(goAwayReason(goAway) ?? '', /invalid :max-frame-size/);
  assert.equal(await peer.closesWithin(3000), true);
});

test('a client connects to a revision 1.0 server that announces nothing, and calls it within its own limit', { timeout: LIMIT_MS }, async (t) => {
  const msgpack = msgpackSerializer();
  const pings: Frame[] = [];
  const sockets = new Set<Socket>();
  // What a 1.0 server does: answer PING with PONG, ignore PING metadata, answer each request.
  const old = createNetServer((socket) => {
    sockets.add(socket);
    const decoder = new FrameDecoder(16 * MiB);
    socket.on('data', (chunk: Buffer) => decoder.push(chunk, (frame) => {
      if (frame.type === FrameType.PING) {
        pings.push(frame);
        socket.write(buildFrame({ type: FrameType.PONG, requestId: frame.requestId }));
      } else if (frame.type === FrameType.REQUEST) {
        const { target } = decodeRequestMetadata(frame.metadata);
        const [payload] = msgpack.decode(frame.body) as [string];
        assert.equal(target.method, 'accept');
        socket.write(buildFrame({ type: FrameType.RESPONSE, serializer: msgpack.id, requestId: frame.requestId, body: msgpack.encode(payload.length) }));
      }
    }));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => old.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    old.close();
    for (const socket of sockets) socket.destroy();
  });
  const { port } = old.address() as { port: number };
  const client = createClient({ url: `tcp://127.0.0.1:${port}`, maxFrameSize: 64 * KiB, retries: 0 });
  t.after(() => client.close({ timeoutMs: 500 }));
  const blobs = client.proxy(BlobService);
  assert.equal(await blobs.accept('a'.repeat(40 * KiB)), 40 * KiB);
  assert.equal(announcedLimit(pings[0]!), 64 * KiB, 'the client announced its limit first');
  await assert.rejects(blobs.accept('b'.repeat(80 * KiB)), (error: unknown) => error instanceof RpcError && error.code === Code.RESOURCE_EXHAUSTED && error.unprocessed);
  assert.equal(await blobs.accept('c'), 1, 'the connection is still in use');
});
