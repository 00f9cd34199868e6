import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Agent, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Code, concurrencyLimit, currentCall, defineService, type RpcError } from '../../src/index.js';
import { waitUntil } from '../support/calculator.js';
import { postJson, startHttpTransport } from '../support/http.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const CALLS = 2000;

interface Stuck {
  hang(): Promise<never>;
}
const StuckService = defineService<Stuck>('demo.Stuck', { methods: { hang: {} } });

interface StuckStats {
  started: number;
  aborted: Map<Code, number>;
}

/**
 * A handler that never settles. With `held`, it keeps its pending promise reachable (as one waiting
 * for something that never comes does), so whatever the server chained onto that promise stays too.
 */
function stuck(stats: StuckStats, held?: Array<() => void>): Stuck {
  return {
    hang() {
      stats.started++;
      const signal = currentCall().signal!;
      const onAbort = () => {
        const code = (signal.reason as RpcError).code;
        stats.aborted.set(code, (stats.aborted.get(code) ?? 0) + 1);
      };
      // A call that waited past its deadline before it ran starts aborted.
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      return new Promise<never>((resolve) => held?.push(resolve as () => void));
    },
  };
}

/** Weak references to every request, response and socket the HTTP server sees while it is installed. */
function watchServerObjects(t: TestContext) {
  const seen = { exchanges: [] as Array<WeakRef<object>>, sockets: new Map<Socket, Record<string, number>>() };
  const onStart = (message: unknown) => {
    const { request: req, response: res, socket } = message as { request: IncomingMessage; response: ServerResponse; socket: Socket };
    seen.exchanges.push(new WeakRef(req), new WeakRef(res));
    if (!seen.sockets.has(socket)) {
      socket.once('close', () => seen.sockets.delete(socket));
      seen.sockets.set(socket, listenerCounts(socket));
    }
  };
  subscribe('http.server.request.start', onStart);
  t.after(() => unsubscribe('http.server.request.start', onStart));
  return seen;
}

const socketEvents = ['close', 'data', 'drain', 'end', 'error', 'finish', 'timeout'];

function listenerCounts(socket: Socket): Record<string, number> {
  return Object.fromEntries(socketEvents.map((event) => [event, socket.listenerCount(event)]));
}

async function collectGarbage(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    // WeakRefs read in one job keep their targets until the job ends: let it end between collections.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  return process.memoryUsage().heapUsed;
}

function post(address: string, headers: Record<string, string>, agent: Agent | false): { done: Promise<number>; abort: () => void } {
  const url = new URL(address);
  let abort = () => {};
  const done = new Promise<number>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method: 'POST', path: '/demo.Stuck/hang', agent, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (error) => (agent === false ? resolve(0) : reject(error)));
    req.end('[]');
    abort = () => req.destroy();
  });
  return { done, abort };
}

/** `count` calls, `batch` at a time on connections of their own, each closed by the client once its handler runs. */
async function abandonCalls(address: string, stats: StuckStats, count: number, batch = 100): Promise<void> {
  const startedBefore = stats.started;
  for (let sent = 0; sent < count; sent += batch) {
    const calls = Array.from({ length: batch }, () => post(address, {}, false));
    await waitUntil(() => stats.started === startedBefore + sent + batch, 10_000);
    for (const call of calls) call.abort();
    await Promise.all(calls.map((call) => call.done));
  }
}

function stillReachable(seen: { exchanges: Array<WeakRef<object>> }): number {
  return seen.exchanges.filter((ref) => ref.deref() !== undefined).length;
}

describe('HTTP server: calls whose handler never settles leave nothing behind', () => {
  it('drops each call at its deadline: 504 for the client, the signal fired, no call, request or listener kept', async (t) => {
    const stats: StuckStats = { started: 0, aborted: new Map() };
    const { transport, address } = await startHttpTransport(t, (table) => table.provide(StuckService, stuck(stats), []));
    const seen = watchServerObjects(t);
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    t.after(() => agent.destroy());
    assert.equal(await post(address, { 'x-switchyard-timeout-ms': '20' }, agent).done, 504);
    const heapBefore = await collectGarbage();

    const statuses = await Promise.all(Array.from({ length: CALLS }, () => post(address, { 'x-switchyard-timeout-ms': '20' }, agent).done));
    assert.deepEqual(new Set(statuses), new Set([504]));
    assert.equal(stats.aborted.get(Code.DEADLINE_EXCEEDED), CALLS + 1);
    assert.equal(transport.callsInFlight, 0);
    // Keep-alive connections served 125 calls each and gained no listener from any of them.
    assert.ok(seen.sockets.size > 0);
    for (const [socket, counts] of seen.sockets) assert.deepEqual(listenerCounts(socket), counts);

    agent.destroy();
    await waitUntil(() => seen.sockets.size === 0, 10_000);
    const grown = (await collectGarbage()) - heapBefore;
    assert.equal(stillReachable(seen), 0, `requests and responses of ${seen.exchanges.length} still reachable`);
    assert.ok(grown < 3 * 1024 * 1024, `heap grew by ${(grown / 1024 / 1024).toFixed(1)} MB over ${CALLS} calls`);
  });

  it('drops each call when its client goes away: the signal fires with CANCELLED and nothing is kept', async (t) => {
    const stats: StuckStats = { started: 0, aborted: new Map() };
    const { transport, address } = await startHttpTransport(t, (table) => table.provide(StuckService, stuck(stats), []));
    const seen = watchServerObjects(t);
    const heapBefore = await collectGarbage();

    await abandonCalls(address, stats, CALLS);
    await waitUntil(() => stats.aborted.get(Code.CANCELLED) === CALLS, 10_000);
    assert.equal(transport.callsInFlight, 0);

    await waitUntil(() => seen.sockets.size === 0, 10_000);
    const grown = (await collectGarbage()) - heapBefore;
    assert.equal(stillReachable(seen), 0, `requests and responses of ${seen.exchanges.length} still reachable`);
    assert.ok(grown < 3 * 1024 * 1024, `heap grew by ${(grown / 1024 / 1024).toFixed(1)} MB over ${CALLS} calls`);
  });

  it('a handler that keeps its own promise for ever keeps its call, but no request, response or connection', async (t) => {
    const stats: StuckStats = { started: 0, aborted: new Map() };
    const held: Array<() => void> = [];
    const { transport, address } = await startHttpTransport(t, (table) => table.provide(StuckService, stuck(stats, held), []));
    const seen = watchServerObjects(t);

    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    t.after(() => agent.destroy());
    const statuses = await Promise.all(Array.from({ length: CALLS / 2 }, () => post(address, { 'x-switchyard-timeout-ms': '20' }, agent).done));
    assert.deepEqual(new Set(statuses), new Set([504]));
    agent.destroy();
    await abandonCalls(address, stats, CALLS / 2);
    await waitUntil(() => stats.aborted.get(Code.CANCELLED) === CALLS / 2, 10_000);
    assert.equal(transport.callsInFlight, 0);

    await waitUntil(() => seen.sockets.size === 0, 10_000);
    await collectGarbage();
    assert.equal(stillReachable(seen), 0, `requests and responses of ${seen.exchanges.length} still reachable`);
    assert.equal(held.length, CALLS);
  });

  it('a dropped call keeps its place in a concurrency limit until its handler settles', async (t) => {
    const limit = concurrencyLimit({ max: 1 });
    let settle = () => {};
    const Slow = defineService<{ wait(): Promise<string> }>('demo.Slow', { methods: { wait: {} } });
    const { transport, address } = await startHttpTransport(t, (table) => table.provide(Slow, {
      wait: () => new Promise<string>((resolve) => {
        settle = () => resolve('done'); // ignores its signal
      }),
    }, [limit]));
    assert.equal((await postJson(address, '/demo.Slow/wait', [], { 'x-switchyard-timeout-ms': '50' })).status, 504);
    assert.equal(transport.callsInFlight, 0);
    assert.equal(limit.stats().active, 1);
    assert.equal((await postJson(address, '/demo.Slow/wait', [])).status, 429); // RESOURCE_EXHAUSTED: the place is taken
    settle();
    await waitUntil(() => limit.stats().active === 0);
    const next = postJson(address, '/demo.Slow/wait', []);
    await waitUntil(() => limit.stats().active === 1);
    settle();
    assert.deepEqual((await next).json, 'done');
  });
});
