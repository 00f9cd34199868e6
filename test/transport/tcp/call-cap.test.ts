import assert from 'node:assert/strict';
import test, { type TestContext } from 'node:test';
import { Code, RpcError, createClient, createServer, defineService } from '../../../src/index.js';
import { CallTable } from '../../../src/core/call-table.js';
import { silentLogger } from '../../../src/core/logger.js';
import { connectionOptions } from '../../../src/options.js';
import { SerializerSet } from '../../../src/serialization/registry.js';
import { msgpackSerializer } from '../../../src/serialization/msgpack.js';
import { Flags, FrameType, type Frame } from '../../../src/transport/tcp/frame.js';
import { DEFAULT_MAX_CALLS_PER_CONNECTION, TcpServerTransport } from '../../../src/transport/tcp/server.js';
import { onCleanup, waitUntil } from '../../support/calculator.js';
import { RawPeer, requestFrame } from '../../support/raw-socket.js';

// A test whose fix is missing fails here instead of waiting forever for an answer.
const LIMIT_MS = 30_000;

interface Holder {
  /** Runs until the test opens the gate, ignoring its signal. */
  hold(tag: string): Promise<string>;
  note(tag: string): Promise<void>;
}
const HolderService = defineService<Holder>('test.tcp.Holder', { methods: { hold: {}, note: { oneWay: true } } });

const msgpack = msgpackSerializer();

/** A gate the handlers wait on, opened by the test or at its end, and what ran. */
function holder(t: TestContext) {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  onCleanup(t, () => open());
  const ran = { hold: 0, note: 0 };
  const implementation: Holder = {
    async hold(tag) {
      ran.hold++;
      await gate;
      return tag;
    },
    async note() {
      ran.note++;
    },
  };
  return { implementation, ran, open };
}

/** A TCP server with its per-connection cap set. */
async function cappedServer(t: TestContext, maxCallsPerConnection: number, implementation: Holder): Promise<string> {
  const server = createServer({ registry: false, listen: ['tcp://127.0.0.1:0'], maxCallsPerConnection });
  server.provide(HolderService, implementation);
  onCleanup(t, () => server.close({ timeoutMs: 100 }));
  const [address] = await server.listen();
  return address!;
}

function send(peer: RawPeer, requestId: number, args: unknown[], extra: Array<[string, string]> = []): void {
  peer.write(requestFrame({ service: HolderService.id, method: 'hold', requestId, serializer: msgpack.id, body: msgpack.encode(args), extra }));
}

function response(peer: RawPeer, requestId: number): Promise<Frame> {
  return peer.waitFor((frame) => frame.type === FrameType.RESPONSE && frame.requestId === requestId, 10_000);
}

function refusal(frame: Frame): { code: number; unprocessed: boolean } {
  assert.equal(frame.flags & Flags.ERROR, Flags.ERROR, 'an error response');
  return { code: (msgpack.decode(frame.body) as { code: number }).code, unprocessed: (frame.flags & Flags.UNPROCESSED) !== 0 };
}

test('a call past maxCallsPerConnection is refused at once with RESOURCE_EXHAUSTED, unprocessed, and its handler never runs', { timeout: LIMIT_MS }, async (t) => {
  const { implementation, ran, open } = holder(t);
  const address = await cappedServer(t, 3, implementation);
  const client = createClient({ url: address, retries: 0 });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  const holders = client.proxy(HolderService);
  const running = [holders.hold('a'), holders.hold('b'), holders.hold('c')];
  await waitUntil(() => ran.hold === 3, 5000);

  await assert.rejects(holders.hold('d'), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, Code.RESOURCE_EXHAUSTED);
    assert.equal(error.unprocessed, true, 'marked unprocessed, so it may be tried elsewhere');
    assert.match(error.message, /3 calls already running on this connection/);
    return true;
  });
  await holders.note('dropped');
  await assert.rejects(holders.hold('e'), { code: Code.RESOURCE_EXHAUSTED });
  assert.deepEqual(ran, { hold: 3, note: 0 }, 'neither the refused call nor the one-way call past the cap ran');

  open();
  assert.deepEqual(await Promise.all(running), ['a', 'b', 'c']);
  assert.equal(await holders.hold('f'), 'f', 'places free up as handlers end');
});

test('a call refused for the cap fails over to another provider', { timeout: LIMIT_MS }, async (t) => {
  const first = holder(t);
  const second = holder(t);
  const addresses = [await cappedServer(t, 1, first.implementation), await cappedServer(t, 1, second.implementation)];
  const client = createClient({ url: addresses, retries: 2 });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  const holders = client.proxy(HolderService);
  // Wherever the balancer sends them, the second call finds one provider full and runs on the other.
  const running = [holders.hold('x')];
  await waitUntil(() => first.ran.hold + second.ran.hold === 1, 5000);
  running.push(holders.hold('y'));
  await waitUntil(() => first.ran.hold === 1 && second.ran.hold === 1, 5000);
  await assert.rejects(holders.hold('z'), { code: Code.RESOURCE_EXHAUSTED });
  first.open();
  second.open();
  assert.deepEqual(await Promise.all(running), ['x', 'y']);
});

test(`by default a connection runs ${DEFAULT_MAX_CALLS_PER_CONNECTION} calls at once and refuses the ones past that`, { timeout: LIMIT_MS }, async (t) => {
  const { implementation, ran, open } = holder(t);
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false });
  server.provide(HolderService, implementation);
  const [address] = await server.listen();
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const peer = await RawPeer.connect(address!);
  onCleanup(t, () => peer.destroy());
  const total = DEFAULT_MAX_CALLS_PER_CONNECTION + 4;
  for (let id = 1; id <= total; id++) send(peer, id, [String(id)]);
  for (let id = DEFAULT_MAX_CALLS_PER_CONNECTION + 1; id <= total; id++) {
    assert.deepEqual(refusal(await response(peer, id)), { code: Code.RESOURCE_EXHAUSTED, unprocessed: true });
  }
  assert.equal(ran.hold, DEFAULT_MAX_CALLS_PER_CONNECTION);
  open();
  const last = await response(peer, DEFAULT_MAX_CALLS_PER_CONNECTION);
  assert.equal(msgpack.decode(last.body), String(DEFAULT_MAX_CALLS_PER_CONNECTION));
});

test('a call answered at its deadline keeps its place until its handler ends', { timeout: LIMIT_MS }, async (t) => {
  const { implementation, ran, open } = holder(t);
  const address = await cappedServer(t, 2, implementation);
  const peer = await RawPeer.connect(address);
  onCleanup(t, () => peer.destroy());
  send(peer, 1, ['a'], [[':timeout', '100']]);
  send(peer, 2, ['b'], [[':timeout', '100']]);
  assert.equal(refusal(await response(peer, 1)).code, Code.DEADLINE_EXCEEDED);
  assert.equal(refusal(await response(peer, 2)).code, Code.DEADLINE_EXCEEDED);
  send(peer, 3, ['c']);
  assert.deepEqual(refusal(await response(peer, 3)), { code: Code.RESOURCE_EXHAUSTED, unprocessed: true });
  assert.equal(ran.hold, 2);
  // The handlers settle as soon as the gate opens, before the server reads another request.
  open();
  send(peer, 4, ['d']);
  const admitted = await response(peer, 4);
  assert.equal(admitted.flags & Flags.ERROR, 0);
  assert.equal(msgpack.decode(admitted.body), 'd');
  assert.equal(peer.frames.filter((frame) => frame.type === FrameType.RESPONSE && frame.requestId <= 2).length, 2, 'the late results of calls 1 and 2 were not sent');
});

test('maxCallsPerConnection must be a whole number of at least 1', { timeout: LIMIT_MS }, () => {
  const context = { table: new CallTable(), serializers: new SerializerSet(['msgpack']), logger: silentLogger };
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => new TcpServerTransport('127.0.0.1', 0, context, { ...connectionOptions({}), maxCallsPerConnection: bad }), { code: Code.INVALID_ARGUMENT });
  }
});
