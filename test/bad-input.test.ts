import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { Code, RpcError, createClient, createServer, type Client, type Logger, type Server } from '../src/index.js';
import { jsonSerializer } from '../src/serialization/json.js';
import { msgpackSerializer } from '../src/serialization/msgpack.js';
import { Flags, FrameType, HEADER_SIZE, encodeMetadata, type Frame } from '../src/transport/tcp/frame.js';
import { ProbeService, probeImpl, type ProbeStats } from './support/fixtures/probe-service.js';
import { RawPeer, buildFrame, goAwayReason, headerOnly, requestFrame } from './support/raw-socket.js';

interface Warning {
  obj: Record<string, unknown>;
  msg: string | undefined;
}

function warningLogger(warnings: Warning[]): Logger {
  const ignore = (): void => {};
  return {
    debug: ignore,
    info: ignore,
    warn: (obj, msg) => warnings.push({ obj: obj as Record<string, unknown>, msg }),
    error: (obj, msg) => warnings.push({ obj: obj as Record<string, unknown>, msg }),
  };
}

const msgpack = msgpackSerializer();
const json = jsonSerializer();
const warnings: Warning[] = [];
const stats: ProbeStats = { started: 0, finished: 0, aborted: [] };
let server: Server;
let address: string;
let client: Client;

before(async () => {
  server = createServer({ listen: ['tcp://127.0.0.1:0'], logger: warningLogger(warnings) });
  server.provide(ProbeService, probeImpl('bad-input', stats));
  [address] = (await server.listen()) as [string];
  client = createClient({ url: address });
});

after(async () => {
  await client.close({ timeoutMs: 1000 });
  await server.close({ timeoutMs: 1000 });
});

/** Runs `action` while a regular client calls the same server on its own connection; none of those calls may fail. */
async function alongsideRegularCalls(action: () => Promise<void>): Promise<void> {
  const probe = client.proxy(ProbeService);
  const failures: unknown[] = [];
  let succeeded = 0;
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      try {
        assert.equal(await probe.add(succeeded, 1), succeeded + 1);
        succeeded++;
      } catch (error) {
        failures.push(error);
      }
      await tick();
    }
  })();
  try {
    await action();
  } finally {
    stop = true;
    await loop;
  }
  assert.deepEqual(failures, []);
  assert.equal(await probe.add(20, 22), 42, 'the regular client still works afterwards');
  assert.ok(succeeded > 0, 'the regular client made calls while the bad peer was connected');
}

/** Sends `bytes` and expects a GOAWAY whose reason matches, then the connection closed by the server. */
async function expectRefused(target: string, bytes: Buffer, reason: RegExp): Promise<void> {
  const peer = await RawPeer.connect(target);
  try {
    peer.write(bytes);
    const goAway = await peer.waitFor((frame) => frame.type === FrameType.GOAWAY);
    assert.match(goAwayReason(goAway) ?? '', reason);
    assert.equal(await peer.closesWithin(3000), true, 'the server closed the connection');
  } finally {
    peer.destroy();
  }
}

function errorOf(frame: Frame): { code: number; message: string } {
  assert.equal(frame.type, FrameType.RESPONSE);
  assert.equal(frame.flags & Flags.ERROR, Flags.ERROR, 'the response is an error');
  const decoded = frame.serializer === json.id ? json.decode(frame.body) : msgpack.decode(frame.body);
  return decoded as { code: number; message: string };
}

/** Sends a hand-built request and returns the error response to it. */
async function callByHand(peer: RawPeer, request: { method?: string; service?: string; serializer: number; body: Uint8Array; requestId: number }): Promise<{ frame: Frame; error: { code: number; message: string } }> {
  peer.write(requestFrame({ service: request.service ?? ProbeService.id, method: request.method ?? 'add', ...request }));
  const frame = await peer.waitFor((f) => f.type === FrameType.RESPONSE && f.requestId === request.requestId);
  return { frame, error: errorOf(frame) };
}

describe('bytes that are not the protocol', () => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ['an HTTP request', Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'), /magic/],
    ['64 KiB of random bytes', Buffer.concat([Buffer.from([0x00, 0x01]), randomBytes(64 * 1024)]), /magic/],
    ['a header of protocol version 2', (() => {
      const bytes = headerOnly(FrameType.PING, 0, 0);
      bytes[2] = 2;
      return bytes;
    })(), /version 2/],
    ['a header of unknown frame type 99', (() => {
      const bytes = headerOnly(FrameType.PING, 0, 0);
      bytes[3] = 99;
      return bytes;
    })(), /frame type 99/],
  ];
  for (const [name, bytes, reason] of cases) {
    test(`${name}: the server says GOAWAY with a reason, closes that connection, and keeps serving others`, async () => {
      const before = warnings.length;
      await alongsideRegularCalls(() => expectRefused(address, bytes, reason));
      const logged = warnings.slice(before).find((w) => reason.test(String(w.obj.reason)));
      assert.ok(logged, 'the reason was logged as a warning');
    });
  }
});

describe('frame size limits', () => {
  test('a header announcing a 1 GiB frame is refused from the header alone, without buffering it', async () => {
    const before = warnings.length;
    const rssBefore = process.memoryUsage().rss;
    await alongsideRegularCalls(() => expectRefused(address, headerOnly(FrameType.REQUEST, 0, 1024 ** 3), /limit of 16777216/));
    const logged = warnings.slice(before).find((w) => String(w.obj.reason).includes('16777216'));
    assert.ok(logged, `a warning names the limit; got ${JSON.stringify(warnings.slice(before))}`);
    const grown = process.memoryUsage().rss - rssBefore;
    assert.ok(grown < 100 * 1024 * 1024, `rss grew by ${grown} bytes`);
  });

  test('section lengths whose sum wraps around 32 bits are still refused', async () => {
    await alongsideRegularCalls(() => expectRefused(address, headerOnly(FrameType.REQUEST, 0x80000000, 0x80000000), /exceeds the limit/));
  });

  test('a configured maxFrameSize is enforced: a frame one byte over is refused, one at the limit is served', async (t) => {
    const small: Warning[] = [];
    const limited = createServer({ listen: ['tcp://127.0.0.1:0'], maxFrameSize: 1024, logger: warningLogger(small) });
    limited.provide(ProbeService, probeImpl('limited'));
    const [limitedAddress] = (await limited.listen()) as [string];
    const peer = await RawPeer.connect(limitedAddress);
    t.after(async () => {
      peer.destroy();
      await limited.close({ timeoutMs: 1000 });
    });

    await expectRefused(limitedAddress, headerOnly(FrameType.REQUEST, 1000, 25), /1025 bytes exceeds the limit of 1024/);
    assert.ok(small.some((w) => String(w.obj.reason).includes('1024')), 'the refusal was logged with the limit');

    const metadata = encodeMetadata([[':service', ProbeService.id], [':method', 'add']]);
    const padding = 1024 - metadata.length - Buffer.byteLength('[1,2,""]');
    const body = Buffer.from(`[1,2,"${'x'.repeat(padding)}"]`);
    assert.equal(metadata.length + body.length, 1024);
    peer.write(buildFrame({ type: FrameType.REQUEST, serializer: json.id, requestId: 5, metadata, body }));
    const response = await peer.waitFor((f) => f.type === FrameType.RESPONSE && f.requestId === 5);
    assert.equal(response.flags & Flags.ERROR, 0);
    assert.equal(json.decode(response.body), 3);
  });

  test('a client call larger than the limit the server announced is refused before it is sent, unprocessed, and the connection stays up', async (t) => {
    const limitedStats: ProbeStats = { started: 0, finished: 0, aborted: [] };
    const limited = createServer({ listen: ['tcp://127.0.0.1:0'], maxFrameSize: 1024 });
    limited.provide(ProbeService, probeImpl('limited', limitedStats));
    const [limitedAddress] = (await limited.listen()) as [string];
    const caller = createClient({ url: limitedAddress, backoff: { initialMs: 10, maxMs: 50 } });
    t.after(async () => {
      await caller.close({ timeoutMs: 500 });
      await limited.close({ timeoutMs: 1000 });
    });
    const probe = caller.proxy(ProbeService);
    assert.equal(await probe.add(1, 2), 3);
    const oversized = caller.invoke(ProbeService, 'add', [1, 'y'.repeat(4096)]);
    await assert.rejects(oversized, (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, Code.RESOURCE_EXHAUSTED);
      assert.equal(error.unprocessed, true);
      assert.match(error.message, /exceeds the frame limit of 1024/);
      return true;
    });
    assert.equal(limitedStats.started, 1, 'the server never saw the oversized call');
    assert.equal(await probe.add(2, 2), 4);
  });
});

describe('broken connections', () => {
  test('a frame cut off by the peer closing is dropped without harm', async () => {
    await alongsideRegularCalls(async () => {
      for (const bytes of [headerOnly(FrameType.REQUEST, 0, 100), headerOnly(FrameType.REQUEST, 0, 100).subarray(0, HEADER_SIZE - 7)]) {
        const peer = await RawPeer.connect(address);
        peer.write(Buffer.concat([bytes, Buffer.alloc(10, 0x90)]));
        peer.socket.end();
        assert.equal(await peer.closesWithin(3000), true);
      }
    });
  });
});

describe('requests the server must refuse without running a handler', () => {
  test('a serializer id the server has not enabled gets INVALID_ARGUMENT written in JSON, and the connection stays usable', async (t) => {
    const peer = await RawPeer.connect(address);
    t.after(() => peer.destroy());
    const started = stats.started;
    const { frame, error } = await callByHand(peer, { serializer: 9, body: Buffer.from([1, 2, 3]), requestId: 11 });
    assert.equal(frame.serializer, 1, 'the error is encoded in JSON');
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.match(error.message, /serializer/);
    assert.equal(stats.started, started, 'no handler ran');

    peer.write(requestFrame({ service: ProbeService.id, method: 'add', serializer: msgpack.id, requestId: 12, body: msgpack.encode([4, 5]) }));
    const ok = await peer.waitFor((f) => f.type === FrameType.RESPONSE && f.requestId === 12);
    assert.equal(ok.flags & Flags.ERROR, 0);
    assert.equal(msgpack.decode(ok.body), 9);
  });

  test('a body that cannot be decoded gets INVALID_ARGUMENT', async (t) => {
    const peer = await RawPeer.connect(address);
    t.after(() => peer.destroy());
    const started = stats.started;
    const truncatedMsgpack = await callByHand(peer, { serializer: msgpack.id, body: Buffer.from([0x92, 0x01]), requestId: 21 });
    assert.equal(truncatedMsgpack.error.code, Code.INVALID_ARGUMENT);
    const badJson = await callByHand(peer, { serializer: json.id, body: Buffer.from('{not json'), requestId: 22 });
    assert.equal(badJson.error.code, Code.INVALID_ARGUMENT);
    assert.equal(stats.started, started, 'no handler ran');
    assert.equal(peer.open, true);
  });

  test('a body that decodes to something other than an array gets INVALID_ARGUMENT', async (t) => {
    const peer = await RawPeer.connect(address);
    t.after(() => peer.destroy());
    const started = stats.started;
    const bodies: Array<[number, Uint8Array]> = [
      [json.id, Buffer.from('{"0":1,"1":2,"length":2}')],
      [msgpack.id, msgpack.encode(42)],
      [msgpack.id, msgpack.encode('1,2')],
    ];
    let requestId = 30;
    for (const [serializer, body] of bodies) {
      const { error } = await callByHand(peer, { serializer, body, requestId: ++requestId });
      assert.equal(error.code, Code.INVALID_ARGUMENT, `body ${Buffer.from(body).toString('hex')}`);
      assert.match(error.message, /array/);
    }
    assert.equal(stats.started, started, 'no handler ran');
  });

  test('method names every object answers to (__proto__, constructor, ...) get UNIMPLEMENTED', async (t) => {
    const peer = await RawPeer.connect(address);
    t.after(() => peer.destroy());
    const started = stats.started;
    let requestId = 40;
    for (const method of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype']) {
      const { error } = await callByHand(peer, { method, serializer: msgpack.id, body: msgpack.encode([1, 2]), requestId: ++requestId });
      assert.equal(error.code, Code.UNIMPLEMENTED, `method ${method}`);
    }
    for (const service of ['__proto__', 'constructor']) {
      const { error } = await callByHand(peer, { service, serializer: msgpack.id, body: msgpack.encode([1, 2]), requestId: ++requestId });
      assert.equal(error.code, Code.NOT_FOUND, `service ${service}`);
    }
    assert.equal(stats.started, started, 'no handler ran');
  });
});
