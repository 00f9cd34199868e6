import assert from 'node:assert/strict';
import test, { type TestContext } from 'node:test';
import { Code, concurrencyLimit, createServer, currentCall, defineService } from '../../../src/index.js';
import { msgpackSerializer } from '../../../src/serialization/msgpack.js';
import { Flags, FrameType, type Frame } from '../../../src/transport/tcp/frame.js';
import { onCleanup, waitUntil } from '../../support/calculator.js';
import { RawPeer, requestFrame } from '../../support/raw-socket.js';

// A test whose fix is missing fails here instead of waiting forever for an answer.
const LIMIT_MS = 30_000;

interface Stubborn {
  /** Ignores its signal and ends only when the test opens the gate. */
  hold(tag: string): Promise<string>;
  /** Yields one item, then waits for the gate without looking at its signal. */
  trickle(): AsyncIterable<number>;
  quick(): Promise<string>;
}
const StubbornService = defineService<Stubborn>('test.tcp.Stubborn', {
  methods: { hold: {}, trickle: { stream: 'server' }, quick: {} },
});

const msgpack = msgpackSerializer();

interface Observed {
  started: number;
  settled: number;
  abortCodes: unknown[];
  finishedCalls: number;
  streamClosed: boolean;
}

async function start(t: TestContext) {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const seen: Observed = { started: 0, settled: 0, abortCodes: [], finishedCalls: 0, streamClosed: false };
  const limit = concurrencyLimit({ services: { [StubbornService.id]: { methods: { hold: { max: 1 } } } } });
  const server = createServer({
    listen: ['tcp://127.0.0.1:0'],
    registry: false,
    interceptors: [
      (next) => (call) => {
        (call as unknown as { whenFinished(listener: () => void): void }).whenFinished(() => seen.finishedCalls++);
        return next(call);
      },
      limit,
    ],
  });
  server.provide(StubbornService, {
    async hold(tag) {
      const { signal } = currentCall();
      seen.started++;
      signal?.addEventListener('abort', () => seen.abortCodes.push((signal.reason as { code?: unknown }).code));
      await gate;
      seen.settled++;
      return `held ${tag}`;
    },
    async *trickle() {
      try {
        yield 1;
        await gate;
        yield 2;
      } finally {
        seen.streamClosed = true;
      }
    },
    quick: async () => 'quick',
  });
  const [address] = await server.listen();
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  onCleanup(t, () => open());
  const peer = await RawPeer.connect(address!);
  onCleanup(t, () => peer.destroy());
  return { peer, seen, open, limit };
}

function send(peer: RawPeer, requestId: number, method: keyof Stubborn, args: unknown[], extra: Array<[string, string]> = []): void {
  peer.write(requestFrame({ service: StubbornService.id, method, requestId, serializer: msgpack.id, body: msgpack.encode(args), extra }));
}

function response(peer: RawPeer, requestId: number): Promise<Frame> {
  return peer.waitFor((frame) => frame.type === FrameType.RESPONSE && frame.requestId === requestId, 5000);
}

function errorCode(frame: Frame): number | undefined {
  if ((frame.flags & Flags.ERROR) === 0) return undefined;
  return (msgpack.decode(frame.body) as { code: number }).code;
}

test("the server answers DEADLINE_EXCEEDED at the request's deadline while the handler still runs, and aborts its signal", { timeout: LIMIT_MS }, async (t) => {
  const { peer, seen, open, limit } = await start(t);
  const sentAt = Date.now();
  send(peer, 1, 'hold', ['a'], [[':timeout', '200']]);
  const answer = await response(peer, 1);
  const elapsed = Date.now() - sentAt;
  assert.equal(errorCode(answer), Code.DEADLINE_EXCEEDED);
  assert.ok(elapsed >= 150, `answered after ${elapsed} ms, before the deadline`);
  assert.deepEqual(seen.abortCodes, [Code.DEADLINE_EXCEEDED], "the handler's signal fired with DEADLINE_EXCEEDED");
  assert.equal(seen.settled, 0, 'the handler is still running');

  // The handler has not settled: the call still holds its concurrency slot, and is not finished.
  assert.equal(seen.finishedCalls, 0);
  assert.equal(limit.stats().active, 1);
  send(peer, 2, 'hold', ['b']);
  assert.equal(errorCode(await response(peer, 2)), Code.RESOURCE_EXHAUSTED, 'the limit still counts the first call');

  open();
  await waitUntil(() => seen.finishedCalls === 2 && limit.stats().active === 0, 5000);
  assert.equal(seen.settled, 1);
  send(peer, 3, 'hold', ['c']);
  const third = await response(peer, 3);
  assert.equal(errorCode(third), undefined);
  assert.equal(msgpack.decode(third.body), 'held c');
  assert.equal(peer.frames.filter((frame) => frame.type === FrameType.RESPONSE && frame.requestId === 1).length, 1, 'the late result of call 1 was not sent');
});

test('a call answered within its deadline sends nothing more when the deadline passes', { timeout: LIMIT_MS }, async (t) => {
  const { peer } = await start(t);
  send(peer, 1, 'quick', [], [[':timeout', '100']]);
  assert.equal(msgpack.decode((await response(peer, 1)).body), 'quick');
  // Past the deadline, a call on the same connection is answered and call 1 got nothing more.
  await new Promise((resolve) => setTimeout(resolve, 200));
  send(peer, 2, 'quick', []);
  await response(peer, 2);
  assert.equal(peer.frames.filter((frame) => frame.requestId === 1).length, 1);
});

test('a server stream past its deadline ends with DEADLINE_EXCEEDED and its iterator is closed once it resumes', { timeout: LIMIT_MS }, async (t) => {
  const { peer, seen, open } = await start(t);
  send(peer, 1, 'trickle', [], [[':timeout', '200'], [':credit', '16']]);
  const answer = await response(peer, 1);
  assert.equal(errorCode(answer), Code.DEADLINE_EXCEEDED);
  const items = peer.frames.filter((frame) => frame.type === FrameType.STREAM_ITEM && frame.requestId === 1);
  assert.deepEqual(items.map((frame) => msgpack.decode(frame.body)), [1]);
  open();
  await waitUntil(() => seen.streamClosed, 5000);
  send(peer, 2, 'quick', []);
  await response(peer, 2);
  assert.equal(peer.frames.filter((frame) => frame.requestId === 1 && frame.type !== FrameType.STREAM_ITEM).length, 1, 'one RESPONSE for the stream');
  assert.equal(peer.frames.filter((frame) => frame.requestId === 1 && frame.type === FrameType.STREAM_ITEM).length, 1, 'no item after the deadline');
});
