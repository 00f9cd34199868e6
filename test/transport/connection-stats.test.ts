import assert from 'node:assert/strict';
import test, { type TestContext } from 'node:test';
import { defineService, type Interceptor } from '../../src/index.js';
import { CallTable } from '../../src/core/call-table.js';
import { ClientCall } from '../../src/core/client-call.js';
import { silentLogger } from '../../src/core/logger.js';
import { ServerCall } from '../../src/core/server-call.js';
import { connectionOptions } from '../../src/options.js';
import { msgpackSerializer } from '../../src/serialization/msgpack.js';
import { SerializerSet } from '../../src/serialization/registry.js';
import { defaultBackoff } from '../../src/transport/backoff.js';
import { LazyChannel } from '../../src/transport/lazy.js';
import { createChannel, createServerTransport } from '../../src/transport/registry.js';
import type { ClientTlsOptions, ServerTlsOptions } from '../../src/transport/tls/options.js';
import type { Channel, ServerTransport } from '../../src/transport/transport.js';
import { onCleanup, waitUntil } from '../support/calculator.js';
import { certificates } from '../support/certs.js';
import { brokerScope } from '../support/rabbitmq.js';

interface Stats {
  echo(text: string): Promise<string>;
  count(to: number): AsyncIterable<number>;
  /** Answers once the test opens the gate. */
  hold(): Promise<string>;
}
const StatsService = defineService<Stats>('test.stats.Echo', { methods: { echo: {}, count: { stream: 'server' }, hold: {} } });

let openGate: () => void = () => undefined;
let gate = Promise.resolve();
let holding = 0;

const statsImpl: Stats = {
  async echo(text) {
    return text;
  },
  async *count(to) {
    for (let i = 1; i <= to; i++) yield i;
  },
  async hold() {
    holding++;
    await gate;
    return 'released';
  },
};

const CALLS = 3;

/** A server transport on `url` made as `createServer` makes it, and the calls its handlers saw (read once finished). */
async function serve(t: TestContext, url: string, tls?: ServerTlsOptions): Promise<{ transport: ServerTransport; address: string; finished: ServerCall[] }> {
  const finished: ServerCall[] = [];
  const recordFinished: Interceptor = (next) => (call) => {
    // Sizes are complete only once the answer went out: read them from the finish listener.
    if (call instanceof ServerCall) call.whenFinished(() => finished.push(call));
    return next(call);
  };
  const table = new CallTable();
  table.provide(StatsService, statsImpl, [recordFinished]);
  const context = { table, serializers: new SerializerSet(['msgpack', 'json']), logger: silentLogger };
  const transport = createServerTransport(url, context, { ...connectionOptions({ logger: silentLogger }), tls });
  onCleanup(t, () => transport.forceClose());
  const address = await transport.listen();
  return { transport, address, finished };
}

function channelTo(t: TestContext, address: string, tls?: ClientTlsOptions): Channel {
  const channel = createChannel(address, {
    ...connectionOptions({ logger: silentLogger }),
    connectTimeoutMs: 5000,
    backoff: defaultBackoff,
    serializers: new SerializerSet(['msgpack', 'json']),
    serializer: msgpackSerializer(),
    tls,
  });
  onCleanup(t, () => channel.close(1000));
  return channel;
}

function call(channel: Channel, method: keyof Stats, args: unknown[]): Promise<unknown> {
  return channel.call(new ClientCall(StatsService, method, args, undefined, undefined, undefined, false, undefined), StatsService.id);
}

async function echoCalls(channel: Channel): Promise<void> {
  for (let i = 0; i < CALLS; i++) assert.equal(await call(channel, 'echo', [`hello ${i}`]), `hello ${i}`);
}

async function drainStream(channel: Channel, to: number): Promise<number[]> {
  const items: number[] = [];
  for await (const item of (await call(channel, 'count', [to])) as AsyncIterable<number>) items.push(item);
  return items;
}

/** What every transport must show after CALLS echo calls from one channel. */
async function assertCounted(transport: ServerTransport, channel: Channel, finished: ServerCall[], protocol: string, address: string, calls = CALLS): Promise<void> {
  await waitUntil(() => finished.length >= calls, 5000);
  for (const served of finished) {
    assert.ok(served.requestBytes > 0, `${served.method}: requestBytes ${served.requestBytes}`);
    assert.ok(served.responseBytes > 0, `${served.method}: responseBytes ${served.responseBytes}`);
  }

  // One connection, but fetch may open a second one for a call that follows another at once.
  const connections = transport.connections?.() ?? [];
  assert.ok(connections.length >= 1 && connections.length <= (protocol.startsWith('http') ? 2 : 1), `${connections.length} connections`);
  for (const connection of connections) {
    assert.equal(connection.protocol, protocol);
    assert.equal(connection.listener, address);
    assert.match(connection.peer, /^127\.0\.0\.1:\d+$/);
    assert.equal(connection.state, 'open');
    assert.equal(connection.active, 0);
    assert.ok(connection.calls >= 1, `calls ${connection.calls}`);
    assert.ok(connection.bytesIn > 0 && connection.bytesOut > 0, `bytes ${connection.bytesIn}/${connection.bytesOut}`);
    assert.ok(connection.openedAt > Date.now() - 60_000 && connection.openedAt <= Date.now());
  }
  assert.ok(callsOn(transport) >= calls, `calls ${callsOn(transport)}`);

  const info = channel.info?.();
  assert.ok(info !== undefined, 'the channel reports its info');
  assert.equal(info.address, address);
  assert.equal(info.protocol, protocol);
  assert.equal(info.state, 'READY');
  assert.equal(info.draining, false);
  assert.ok(info.calls >= calls, `channel calls ${info.calls}`);
  assert.equal(info.active, 0);
  assert.ok(info.bytesIn > 0 && info.bytesOut > 0, `channel bytes ${info.bytesIn}/${info.bytesOut}`);
}

function callsOn(transport: ServerTransport): number {
  return (transport.connections?.() ?? []).reduce((sum, connection) => sum + connection.calls, 0);
}

for (const scheme of ['tcp', 'http', 'grpc'] as const) {
  test(`${scheme}: connections() lists the caller with its calls and bytes; calls carry their sizes; the channel counts its calls`, { timeout: 30_000 }, async (t) => {
    const { transport, address, finished } = await serve(t, `${scheme}://127.0.0.1:0`);
    const channel = channelTo(t, address);
    await echoCalls(channel);
    await assertCounted(transport, channel, finished, scheme, address);

    // A stream's response size is the sum of its items.
    finished.length = 0;
    assert.deepEqual(await drainStream(channel, 5), [1, 2, 3, 4, 5]);
    await waitUntil(() => finished.length === 1, 5000);
    const streamed = finished[0]!;
    assert.ok(streamed.responseBytes >= 5, `a stream of five items is at least five bytes, not ${streamed.responseBytes}`);
    assert.equal(callsOn(transport), CALLS + 1);
    assert.equal(channel.info?.().calls, CALLS + 1);
  });
}

for (const scheme of ['tcp', 'http', 'grpc'] as const) {
  test(`${scheme}: a call in flight is active on its connection and its channel until answered`, { timeout: 30_000 }, async (t) => {
    gate = new Promise((resolve) => (openGate = resolve));
    holding = 0;
    onCleanup(t, () => openGate());
    const { transport, address } = await serve(t, `${scheme}://127.0.0.1:0`);
    const channel = channelTo(t, address);
    await echoCalls(channel);
    const held = call(channel, 'hold', []);
    await waitUntil(() => holding === 1, 5000);
    const active = (transport.connections?.() ?? []).reduce((sum, connection) => sum + connection.active, 0);
    assert.equal(active, 1);
    assert.equal(channel.info?.().active, 1);
    openGate();
    assert.equal(await held, 'released');
    await waitUntil(() => (transport.connections?.() ?? []).every((connection) => connection.active === 0), 5000);
    assert.equal(channel.info?.().active, 0);
  });
}

for (const scheme of ['tls', 'https', 'grpcs'] as const) {
  test(`${scheme}: connections() counts the protocol's bytes inside TLS`, { timeout: 30_000 }, async (t) => {
    const certs = certificates();
    const { transport, address, finished } = await serve(t, `${scheme}://127.0.0.1:0`, { key: certs.serverKey, cert: certs.serverCert });
    const channel = channelTo(t, address, { ca: certs.caCert });
    await echoCalls(channel);
    await assertCounted(transport, channel, finished, scheme, address);
  });
}

test('a connection reads draining once the server drains, and is gone after', { timeout: 30_000 }, async (t) => {
  const { transport, address } = await serve(t, 'tcp://127.0.0.1:0');
  const channel = channelTo(t, address);
  await echoCalls(channel);
  const drained = transport.drain();
  const during = transport.connections?.() ?? [];
  assert.ok(during.every((connection) => connection.state === 'draining'), JSON.stringify(during));
  await drained;
  assert.deepEqual(transport.connections?.(), []);
});

test('before it loads its transport, a channel reports an empty info, and a server no connections', { timeout: 30_000 }, async (t) => {
  const transport = createServerTransport('grpc://127.0.0.1:0', { table: new CallTable(), serializers: new SerializerSet(['msgpack']), logger: silentLogger }, connectionOptions({}));
  assert.deepEqual(transport.connections?.(), []);
  const channel = channelTo(t, 'http://127.0.0.1:1');
  assert.deepEqual(channel.info?.(), { address: 'http://127.0.0.1:1', protocol: 'http', state: 'IDLE', draining: false, bytesIn: 0, bytesOut: 0, calls: 0, active: 0 });

  // While its module loads the channel is CONNECTING; a module that fails to load leaves it failed.
  let failLoad!: (error: Error) => void;
  const lazy = new LazyChannel('quic://127.0.0.1:1', () => new Promise<Channel>((_resolve, reject) => (failLoad = reject)));
  const calling = call(lazy, 'echo', ['x']);
  assert.equal(lazy.info().state, 'CONNECTING');
  failLoad(new Error('no quic module'));
  await assert.rejects(calling, /no quic module/);
  assert.deepEqual(lazy.info(), { address: 'quic://127.0.0.1:1', protocol: 'quic', state: 'TRANSIENT_FAILURE', draining: false, bytesIn: 0, bytesOut: 0, calls: 0, active: 0 });
});

test('amqp: connections() lists the broker connection with the messages served; the channel counts its calls', { timeout: 60_000 }, async (t) => {
  const scope = (await brokerScope(t)).uses(StatsService.id);
  const { transport, address, finished } = await serve(t, scope.url({ server: 'stats-server' }));
  const channel = channelTo(t, scope.url());
  await echoCalls(channel);

  await waitUntil(() => finished.length >= CALLS, 5000);
  for (const served of finished) {
    assert.ok(served.requestBytes > 0, `requestBytes ${served.requestBytes}`);
    assert.ok(served.responseBytes > 0, `responseBytes ${served.responseBytes}`);
  }
  const connections = transport.connections?.() ?? [];
  assert.equal(connections.length, 1, 'the connection that consumes requests');
  const [connection] = connections;
  assert.equal(connection!.protocol, 'amqp');
  assert.equal(connection!.listener, address);
  assert.equal(connection!.peer, '127.0.0.1:5672', 'the broker');
  assert.equal(connection!.state, 'open');
  assert.ok(connection!.calls >= CALLS, `messages ${connection!.calls}`);
  assert.equal(connection!.active, 0);
  assert.ok(connection!.bytesIn > 0 && connection!.bytesOut > 0);

  const info = channel.info?.();
  assert.equal(info?.protocol, 'amqp');
  assert.equal(info?.state, 'READY');
  assert.equal(info?.calls, CALLS);
  assert.equal(info?.active, 0);
  assert.ok(info !== undefined && info.bytesIn > 0 && info.bytesOut > 0);

  gate = new Promise((resolve) => (openGate = resolve));
  holding = 0;
  onCleanup(t, () => openGate());
  const held = call(channel, 'hold', []);
  await waitUntil(() => holding === 1, 5000);
  assert.equal(transport.connections?.()[0]?.active, 1);
  assert.equal(channel.info?.().active, 1);
  openGate();
  assert.equal(await held, 'released');
  assert.equal(channel.info?.().active, 0);
  await waitUntil(() => transport.connections?.()[0]?.active === 0, 5000);
});
