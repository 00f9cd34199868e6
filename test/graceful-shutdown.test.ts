import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Code, RpcError, createClient, createServer, type Client, type Logger, type Server } from '../src/index.js';
import { ProbeService, probeImpl, type ProbeStats } from './support/fixtures/probe-service.js';
import { hostPort } from './support/raw-socket.js';

interface Provider {
  server: Server;
  address: string;
  stats: ProbeStats;
  /** Messages the server logged at warn level or above. */
  warnings: string[];
}

async function startProvider(t: TestContext, label: string): Promise<Provider> {
  const stats: ProbeStats = { started: 0, finished: 0, aborted: [] };
  const warnings: string[] = [];
  const ignore = (): void => {};
  const logger: Logger = { debug: ignore, info: ignore, warn: (_obj, msg) => warnings.push(msg ?? ''), error: (_obj, msg) => warnings.push(msg ?? '') };
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], logger });
  server.provide(ProbeService, probeImpl(label, stats));
  const [address] = (await server.listen()) as [string];
  t.after(() => server.close({ timeoutMs: 500 }));
  return { server, address, stats, warnings };
}

function clientFor(t: TestContext, url: string | string[]): Client {
  const client = createClient({ url, backoff: { initialMs: 20, maxMs: 100 } });
  t.after(() => client.close({ timeoutMs: 500 }));
  return client;
}

const isUnavailable = (error: unknown): boolean => error instanceof RpcError && error.code === Code.UNAVAILABLE;

/** Resolves with the error a plain TCP connection attempt to `address` ends in, or undefined if it connects. */
function tryConnect(address: string): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const socket = connect(hostPort(address));
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (error) => resolve(error));
  });
}

describe('server.close()', () => {
  test('calls in flight when close begins complete successfully, and new connections are refused', async (t) => {
    const provider = await startProvider(t, 'a');
    const probe = clientFor(t, provider.address).proxy(ProbeService);
    const slow = [300, 350, 400, 450].map((ms) => probe.sleep(ms));
    await probe.whoami(); // the slow calls are running on the server now
    let closed = false;
    const closing = provider.server.close({ timeoutMs: 5000 }).then(() => {
      closed = true;
    });

    const refused = await tryConnect(provider.address);
    assert.equal(refused?.code, 'ECONNREFUSED');
    const latecomer = clientFor(t, provider.address).proxy(ProbeService);
    await assert.rejects(latecomer.add(1, 2), isUnavailable);

    assert.deepEqual(await Promise.all(slow), [300, 350, 400, 450]);
    await closing;
    assert.equal(closed, true);
    assert.deepEqual(provider.stats.aborted, [], 'no handler was aborted');
    assert.ok(!provider.warnings.some((w) => /timed out/.test(w)), `close did not need its timeout: ${provider.warnings.join('; ')}`);
  });

  test('close() with a short timeout cuts off calls still running: they fail UNAVAILABLE and their handlers are aborted', async (t) => {
    const provider = await startProvider(t, 'a');
    const probe = clientFor(t, provider.address).proxy(ProbeService);
    const stuck = Array.from({ length: 3 }, () => probe.sleep(20_000));
    await probe.whoami();
    const startedAt = Date.now();
    await provider.server.close({ timeoutMs: 200 });
    const closeTook = Date.now() - startedAt;
    assert.ok(closeTook < 3000, `close took ${closeTook} ms with a 200 ms timeout`);

    for (const outcome of await Promise.allSettled(stuck)) {
      assert.equal(outcome.status, 'rejected');
      assert.ok(isUnavailable(outcome.reason), `expected UNAVAILABLE, got ${String(outcome.reason)}`);
    }
    assert.equal(provider.stats.aborted.length, 3, 'every running handler saw its signal fire');
    for (const reason of provider.stats.aborted) {
      assert.ok(reason instanceof RpcError && reason.code === Code.UNAVAILABLE, `abort reason ${String(reason)}`);
    }
    assert.ok(provider.warnings.some((w) => /timed out/.test(w)), 'the cut-off was logged');
  });

  test('close() with an infinite timeout waits for every call in flight, however long', async (t) => {
    const provider = await startProvider(t, 'a');
    const probe = clientFor(t, provider.address).proxy(ProbeService);
    const running = probe.sleep(300);
    await probe.whoami();
    await provider.server.close({ timeoutMs: Infinity });
    assert.equal(await running, 300, 'the call finished instead of being cut off at once');
    assert.deepEqual(provider.stats.aborted, []);
    assert.ok(!provider.warnings.some((w) => /timed out/.test(w)), 'nothing was cut off');
  });

  test('after GOAWAY the client sends no new call on that connection, while its call in flight there completes', async (t) => {
    const provider = await startProvider(t, 'a');
    const probe = clientFor(t, provider.address).proxy(ProbeService);
    const inFlight = probe.sleep(500);
    await probe.whoami();
    const closing = provider.server.close({ timeoutMs: 5000 });
    await sleep(150); // long enough for the GOAWAY to reach the client over loopback
    const startedBefore = provider.stats.started;
    const late = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => probe.add(i, i)));
    assert.equal(provider.stats.started, startedBefore, 'no new call reached the closing server');
    for (const outcome of late) assert.ok(outcome.status === 'rejected' && isUnavailable(outcome.reason));
    assert.equal(await inFlight, 500);
    await closing;
  });
});

describe('closing one of two providers under load', () => {
  test('no call fails while one provider shuts down gracefully and the other stays up', async (t) => {
    const a = await startProvider(t, 'a');
    const b = await startProvider(t, 'b');
    const probe = clientFor(t, [a.address, b.address]).proxy(ProbeService);
    const loops = 64;
    let made = 0;
    const failures: unknown[] = [];
    const stopAt = Date.now() + 1500;
    const load = Array.from({ length: loops }, async (_, loop) => {
      while (Date.now() < stopAt) {
        const n = ++made;
        try {
          assert.equal(await probe.add(loop, n), loop + n);
        } catch (error) {
          failures.push(error);
        }
      }
    });

    await sleep(500);
    const servedByABeforeClose = a.stats.started;
    const servedByBBeforeClose = b.stats.started;
    await a.server.close({ timeoutMs: 5000 });
    const servedByAAtClose = a.stats.started;
    await Promise.all(load);

    t.diagnostic(`calls made: ${made}, failed: ${failures.length}`);
    t.diagnostic(`served by A before close: ${servedByABeforeClose}, while closing: ${servedByAAtClose - servedByABeforeClose}; by B before A closed: ${servedByBBeforeClose}, in all: ${b.stats.started}`);
    assert.deepEqual(failures.map(String), []);
    assert.ok(servedByABeforeClose > 0, 'A served calls before it closed');
    assert.ok(servedByBBeforeClose > 0, 'B served calls before A closed');
    assert.ok(b.stats.started > servedByBBeforeClose, 'B took the load after A closed');
    // Each loop has at most one call in transit when close begins, and may send one more before the GOAWAY reaches it.
    assert.ok(servedByAAtClose - servedByABeforeClose <= 2 * loops, `A started ${servedByAAtClose - servedByABeforeClose} calls after close began`);
    assert.equal(a.stats.started, servedByAAtClose, 'A ran nothing after it closed');
    assert.ok(!a.warnings.some((w) => /timed out/.test(w)), `A drained without its timeout: ${a.warnings.join('; ')}`);
  });
});
