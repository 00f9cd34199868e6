import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Code, RpcError, createEmbeddedRegistry, createServer, defineService, parseProviderUrl, type Registry } from '../../src/index.js';
import { onCleanup, waitUntil } from '../support/calculator.js';
import { callMany, freshRegistry, startClient, tally } from '../support/cluster.js';

/** What the service answers: a Date and a Map, which a protocol that loses types would turn into a string and an object. */
interface Snapshot {
  label: string;
  at: Date;
  counts: Map<string, number>;
}

interface Clock {
  snapshot(): Promise<Snapshot>;
}

const ClockService = defineService<Clock>('test.ProtocolClock', { version: '1.0.0', methods: { snapshot: {} } });
const AT = new Date('2024-05-06T07:08:09.010Z');
const EVERY_PROTOCOL = ['tcp://127.0.0.1:0', 'http://127.0.0.1:0', 'grpc://127.0.0.1:0'];

interface ClockServer {
  /** Bound addresses by protocol. */
  address: Record<string, string>;
  /** Calls its handler has run. */
  handled(): number;
}

/** A server of the clock service labelled `label`, announced in `registry`; closed when the test ends. */
async function startClock(t: TestContext, label: string, registry: string | Registry | false, listen = EVERY_PROTOCOL): Promise<ClockServer> {
  let handled = 0;
  const server = createServer({ listen, registry, warmupMs: 0 });
  server.provide(ClockService, {
    snapshot: async () => ({ label, at: new Date(AT), counts: new Map([['handled', ++handled]]) }),
  });
  onCleanup(t, () => server.close({ timeoutMs: 1000 }));
  const addresses = await server.listen();
  const address = Object.fromEntries(addresses.map((bound) => [new URL(bound).protocol.slice(0, -1), bound]));
  return { address, handled: () => handled };
}

/** How a result came back: `Date+Map` when its types survived. */
function form(snapshot: Snapshot): string {
  return `${(snapshot.at as unknown)?.constructor.name}+${(snapshot.counts as unknown)?.constructor.name}`;
}

/** Runs 60 calls, 6 at a time; fails the test if any call fails. */
async function sixtyCalls(call: () => Promise<Snapshot>): Promise<Snapshot[]> {
  const results = await callMany(60, 6, call);
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  assert.deepEqual(failed.map((r) => String(r.reason)), [], 'no call should fail');
  return results.map((r) => (r as PromiseFulfilledResult<Snapshot>).value);
}

interface Traffic {
  /** Ports this process opened TCP connections to. */
  opened: Set<number>;
  /** Ports of those connections that have closed since. */
  closed: Set<number>;
  /** HTTP requests served in this process, by the port of the listener that served them. */
  httpRequests: Map<number, number>;
}

/**
 * What goes over the wire in this process, seen through Node's diagnostics channels: every
 * client connection (tcp, grpc and http transports all dial with `net`) and every request an
 * HTTP/1.1 server (the http transport) serves.
 */
function watchTraffic(t: TestContext): Traffic {
  const seen: Traffic = { opened: new Set(), closed: new Set(), httpRequests: new Map() };
  const onSocket = (message: unknown) => {
    const socket = (message as { socket: Socket }).socket;
    socket.once('connect', () => {
      const port = socket.remotePort!;
      seen.opened.add(port);
      socket.once('close', () => seen.closed.add(port));
    });
  };
  const onRequest = (message: unknown) => {
    const port = (message as { socket: Socket }).socket.localPort!;
    seen.httpRequests.set(port, (seen.httpRequests.get(port) ?? 0) + 1);
  };
  diagnostics.subscribe('net.client.socket', onSocket);
  diagnostics.subscribe('http.server.request.start', onRequest);
  t.after(() => {
    diagnostics.unsubscribe('net.client.socket', onSocket);
    diagnostics.unsubscribe('http.server.request.start', onRequest);
  });
  return seen;
}

const portOf = (address: string) => Number(new URL(address).port);

/** Calls one after another, each of which must succeed, until `done()` holds; rejects after `timeoutMs`. */
async function callUntil(call: () => Promise<unknown>, done: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await call();
    await sleep(5);
  }
}

describe('choosing one protocol per provider found in a registry', () => {
  test('a server on tcp, http and grpc is called over tcp only: all 60 results keep their Date and Map', async (t) => {
    const { registry } = freshRegistry();
    const server = await startClock(t, 'a', registry);
    const traffic = watchTraffic(t);
    const clock = startClient(t, { registry }).proxy(ClockService);
    const results = await sixtyCalls(() => clock.snapshot());
    assert.deepEqual(tally(results.map(form)), { 'Date+Map': 60 });
    assert.ok(results.every((r) => r.at.getTime() === AT.getTime()));
    assert.deepEqual([...traffic.opened], [portOf(server.address.tcp!)], 'the client connected to the tcp listener alone');
    assert.equal(traffic.httpRequests.size, 0, 'no call came over http');
  });

  test("protocol: 'http' on a proxy sends every call over HTTP: the server's http listener serves all 60", async (t) => {
    const { registry } = freshRegistry();
    const server = await startClock(t, 'a', registry);
    const traffic = watchTraffic(t);
    const clock = startClient(t, { registry }).proxy(ClockService, { protocol: 'http' });
    const results = await sixtyCalls(() => clock.snapshot());
    assert.ok(results.every((r) => new Date(r.at).getTime() === AT.getTime()));
    assert.deepEqual([...traffic.httpRequests], [[portOf(server.address.http!), 60]]);
    assert.equal(server.handled(), 60);
    assert.deepEqual([...traffic.opened].filter((port) => port !== portOf(server.address.http!)), [], 'only the http listener was dialled');
  });

  test('two servers on two protocols each are two providers to the balancer, both reached over tcp', async (t) => {
    const { registry } = freshRegistry();
    const a = await startClock(t, 'a', registry, ['tcp://127.0.0.1:0', 'http://127.0.0.1:0']);
    const b = await startClock(t, 'b', registry, ['http://127.0.0.1:0', 'tcp://127.0.0.1:0']);
    const traffic = watchTraffic(t);
    const client = startClient(t, { registry });
    // Broadcast calls every provider the balancer knows once: one call per server, not one per entry.
    await client.proxy(ClockService, { cluster: 'broadcast' }).snapshot();
    assert.deepEqual([a.handled(), b.handled()], [1, 1]);

    const clock = client.proxy(ClockService, { loadBalance: 'roundrobin' });
    const labels: string[] = [];
    for (let i = 0; i < 10; i++) labels.push((await clock.snapshot()).label);
    assert.ok(labels.every((label, i) => i === 0 || label !== labels[i - 1]), `round robin alternates: ${labels.join(' ')}`);
    const results = await sixtyCalls(() => clock.snapshot());
    assert.deepEqual(tally(results.map((r) => r.label)), { a: 30, b: 30 });
    assert.deepEqual(tally(results.map(form)), { 'Date+Map': 60 });
    assert.equal(traffic.httpRequests.size, 0, 'no call came over http');
  });

  test('a protocol no provider offers fails with UNAVAILABLE naming it and what the providers offer', async (t) => {
    const { registry } = freshRegistry();
    const server = await startClock(t, 'a', registry);
    const client = startClient(t, { registry, protocol: 'amqp' });
    await assert.rejects(client.proxy(ClockService).snapshot(), (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, Code.UNAVAILABLE);
      assert.match(error.message, /no provider of test\.ProtocolClock:1\.0\.0\.snapshot offers protocol amqp; its providers offer grpc, http, tcp/);
      return true;
    });
    // A proxy's own list overrides the client's; a provider offering one of its protocols is used.
    const clock = client.proxy(ClockService, { protocol: ['quic', 'grpc'] });
    assert.equal(form(await clock.snapshot()), 'Date+Map');
    assert.equal(server.handled(), 1);
  });

  test("removing a provider's tcp entry moves the client to its grpc address, then removing that to its http one", async (t) => {
    const { registry, dir } = freshRegistry();
    const announced = createEmbeddedRegistry({ dir });
    onCleanup(t, () => announced.close());
    const server = await startClock(t, 'a', announced);
    const traffic = watchTraffic(t);
    const clock = startClient(t, { registry }).proxy(ClockService);
    assert.deepEqual(tally((await sixtyCalls(() => clock.snapshot())).map(form)), { 'Date+Map': 60 });

    const entryAt = (address: string) => parseProviderUrl(`${address}/${ClockService.key.name}?version=1.0.0`);
    await announced.unregister(entryAt(server.address.tcp!));
    // Calls go on while the client hears of the change; none may fail.
    await callUntil(() => clock.snapshot(), () => traffic.opened.has(portOf(server.address.grpc!)));
    await waitUntil(() => traffic.closed.has(portOf(server.address.tcp!)), 5000);
    assert.deepEqual(tally((await sixtyCalls(() => clock.snapshot())).map(form)), { 'Date+Map': 60 }, 'grpc keeps the types');
    assert.ok(!traffic.opened.has(portOf(server.address.http!)), 'http was not dialled while grpc remained');
    assert.equal(traffic.httpRequests.size, 0);

    await announced.unregister(entryAt(server.address.grpc!));
    const httpPort = portOf(server.address.http!);
    await callUntil(() => clock.snapshot(), () => traffic.httpRequests.has(httpPort));
    await waitUntil(() => traffic.closed.has(portOf(server.address.grpc!)), 5000);
    const [servedBefore, handledBefore] = [traffic.httpRequests.get(httpPort)!, server.handled()];
    await sixtyCalls(() => clock.snapshot());
    assert.equal(traffic.httpRequests.get(httpPort)! - servedBefore, 60, 'every call came over http');
    assert.equal(server.handled() - handledBefore, 60);
  });
});

describe('choosing among fixed addresses', () => {
  test('each fixed url stays a provider of its own unless protocol filters it out', async (t) => {
    const server = await startClock(t, 'a', false);
    const traffic = watchTraffic(t);
    const urls = [server.address.tcp!, server.address.http!];
    await startClient(t, { url: urls, cluster: 'broadcast' }).proxy(ClockService).snapshot();
    assert.equal(server.handled(), 2, 'broadcast reached both urls');
    assert.equal(traffic.httpRequests.get(portOf(server.address.http!)), 1);
    const overHttp = startClient(t, { url: urls, protocol: 'http' }).proxy(ClockService);
    await sixtyCalls(() => overHttp.snapshot());
    assert.equal(traffic.httpRequests.get(portOf(server.address.http!)), 61, 'the tcp url was filtered out');
    assert.equal(server.handled(), 62);
  });
});
