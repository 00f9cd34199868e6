import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Code, RpcError, createClient, createServer, defineService, type Client, type Logger } from '../src/index.js';
import { FrameType, SETTINGS_PING_ID } from '../src/transport/tcp/frame.js';
import { ProbeService, probeImpl, type ProbeStats } from './support/fixtures/probe-service.js';
import { RawPeer, buildFrame, countingForwarder, hostPort } from './support/raw-socket.js';

const probeServerPath = fileURLToPath(new URL('./support/fixtures/probe-server.ts', import.meta.url));

interface Echo {
  echo(value: string): Promise<string>;
}
const EchoService = defineService<Echo>('test.Echo', { methods: { echo: {} } });

interface Provider {
  child: ChildProcess;
  address: string;
  exited: Promise<void>;
}

/** Starts a Probe server in a child process and waits for it to print its address. */
async function startProvider(t: TestContext, port = 0, label = 'child'): Promise<Provider> {
  const child = spawn(process.execPath, ['--import', 'tsx', probeServerPath, String(port), label], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
    await exited;
  });
  const lines = createInterface({ input: child.stdout! });
  const address = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code, signal) => reject(new Error(`provider exited early (${code ?? signal})`)));
  });
  lines.close();
  return { child, address, exited };
}

async function startServer(t: TestContext, options: { heartbeatIntervalMs?: number; idleTimeoutMs?: number; logger?: Logger } = {}, stats?: ProbeStats) {
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], ...options });
  server.provide(ProbeService, probeImpl('local', stats));
  server.provide(EchoService, { echo: async (value) => value });
  const [address] = (await server.listen()) as [string];
  t.after(() => server.close({ timeoutMs: 1000 }));
  return address;
}

function closeClientAfter(t: TestContext, client: Client): Client {
  t.after(() => client.close({ timeoutMs: 500 }));
  return client;
}

const isUnavailable = (error: unknown): boolean => error instanceof RpcError && error.code === Code.UNAVAILABLE;

/** Rejects if `promise` has not settled within `ms`, so a hang fails the test instead of stalling it. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('one connection per provider address', () => {
  test('many proxies and services of one client share a single connection', async (t) => {
    const forwarder = await countingForwarder(t, await startServer(t));
    const client = closeClientAfter(t, createClient({ url: forwarder.address }));
    const probes = Array.from({ length: 10 }, () => client.proxy(ProbeService));
    const echo = client.proxy(EchoService);
    const results = await Promise.all([
      ...probes.map((probe, i) => probe.add(i, 1)),
      echo.echo('hello'),
      client.invoke(ProbeService, 'add', [40, 2]),
    ]);
    assert.deepEqual(results, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 'hello', 42]);
    assert.equal(forwarder.connections(), 1);
  });

  test('1000 concurrent calls all complete with their own results over one connection', async (t) => {
    const stats: ProbeStats = { started: 0, finished: 0, aborted: [] };
    const forwarder = await countingForwarder(t, await startServer(t, {}, stats));
    const client = closeClientAfter(t, createClient({ url: forwarder.address }));
    const probe = client.proxy(ProbeService);
    const calls = Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? probe.add(i, i) : probe.sleep(i % 20)));
    const results = await Promise.all(calls);
    results.forEach((result, i) => assert.equal(result, i % 2 === 0 ? 2 * i : i % 20, `call ${i}`));
    assert.equal(stats.started, 1000);
    assert.equal(forwarder.connections(), 1);
  });
});

describe('losing and regaining a provider', () => {
  test('calls pending on a provider killed with SIGKILL reject with UNAVAILABLE at once', async (t) => {
    const provider = await startProvider(t);
    const client = closeClientAfter(t, createClient({ url: provider.address }));
    const probe = client.proxy(ProbeService);
    const pending = Array.from({ length: 5 }, () => probe.sleep(20_000));
    // Answered after the sleeps were dispatched, since one connection keeps their order.
    assert.equal((await probe.whoami()).pid, provider.child.pid);
    provider.child.kill('SIGKILL');
    const killedAt = Date.now();
    const outcomes = await within(Promise.allSettled(pending), 5000, 'pending calls');
    const elapsed = Date.now() - killedAt;
    for (const outcome of outcomes) {
      assert.equal(outcome.status, 'rejected');
      assert.ok(isUnavailable(outcome.reason), `expected UNAVAILABLE, got ${String(outcome.reason)}`);
    }
    assert.ok(elapsed < 2000, `pending calls failed ${elapsed} ms after the kill`);
  });

  test('after the provider restarts on the same port the same client reconnects by itself', async (t) => {
    const first = await startProvider(t, 0, 'first');
    const client = closeClientAfter(t, createClient({ url: first.address, backoff: { initialMs: 20, maxMs: 100, multiplier: 2, jitter: 0 } }));
    const probe = client.proxy(ProbeService);
    assert.equal((await probe.whoami()).label, 'first');
    first.child.kill('SIGKILL');
    await first.exited;
    await assert.rejects(within(probe.whoami(), 5000, 'a call to a dead provider'), isUnavailable);

    const second = await startProvider(t, hostPort(first.address).port, 'second');
    assert.equal(second.address, first.address);
    let answer: { pid: number; label: string } | undefined;
    let attempts = 0;
    const giveUpAt = Date.now() + 5000;
    while (answer === undefined && Date.now() < giveUpAt) {
      attempts++;
      answer = await probe.whoami().catch((error: unknown) => {
        assert.ok(isUnavailable(error), `while reconnecting: ${String(error)}`);
        return undefined;
      });
      if (answer === undefined) await sleep(25);
    }
    t.diagnostic(`reconnected after ${attempts} attempt(s)`);
    assert.deepEqual(answer, { pid: second.child.pid, label: 'second' });
    assert.equal(await probe.add(2, 3), 5);
  });
});

describe('heartbeats and idle timeouts', () => {
  test('a call pending on a provider stopped with SIGSTOP fails UNAVAILABLE once the idle timeout passes', async (t) => {
    const provider = await startProvider(t);
    const client = closeClientAfter(t, createClient({ url: provider.address, heartbeatIntervalMs: 100, idleTimeoutMs: 500 }));
    const probe = client.proxy(ProbeService);
    const pending = probe.sleep(20_000);
    assert.equal((await probe.whoami()).pid, provider.child.pid);
    provider.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    await assert.rejects(within(pending, 5000, 'the pending call'), (error: unknown) => isUnavailable(error) && /silent/.test((error as Error).message));
    const elapsed = Date.now() - stoppedAt;
    assert.ok(elapsed >= 300, `failed after ${elapsed} ms, before the idle timeout`);
    assert.ok(elapsed < 3000, `failed only after ${elapsed} ms`);
  });

  test('a call longer than the idle timeout succeeds because the busy server still answers heartbeats', async (t) => {
    const address = await startServer(t);
    const client = closeClientAfter(t, createClient({ url: address, heartbeatIntervalMs: 100, idleTimeoutMs: 400 }));
    assert.equal(await client.proxy(ProbeService).sleep(1200), 1200);
  });

  test('the server pings a client that sends nothing and closes it after its idle timeout', async (t) => {
    const warnings: Array<{ obj: object; msg: string | undefined }> = [];
    const ignore = (): void => {};
    const logger: Logger = { debug: ignore, info: ignore, error: ignore, warn: (obj, msg) => warnings.push({ obj, msg }) };
    const address = await startServer(t, { heartbeatIntervalMs: 100, idleTimeoutMs: 400, logger });
    const peer = await RawPeer.connect(address);
    t.after(() => peer.destroy());
    const connectedAt = Date.now();
    assert.equal(await peer.closesWithin(3000), true, 'the server closed the silent connection');
    const closedAfter = (await peer.closed) - connectedAt;
    assert.ok(closedAfter >= 300, `closed after ${closedAfter} ms, before the idle timeout`);
    assert.ok(peer.frames.some((frame) => frame.type === FrameType.PING && frame.requestId !== SETTINGS_PING_ID), 'the server sent a heartbeat PING first');
    assert.ok(warnings.some((w) => /silent/.test(w.msg ?? '')), 'the server logged why it closed');
  });

  test('the server keeps a quiet client that answers its pings', async (t) => {
    const address = await startServer(t, { heartbeatIntervalMs: 100, idleTimeoutMs: 400 });
    const peer = await RawPeer.connect(address);
    t.after(() => peer.destroy());
    let pongs = 0;
    peer.onFrame = (frame) => {
      if (frame.type !== FrameType.PING) return;
      if (frame.requestId !== SETTINGS_PING_ID) pongs++;
      peer.write(buildFrame({ type: FrameType.PONG, requestId: frame.requestId }));
    };
    assert.equal(await peer.closesWithin(1500), false, 'the connection stayed open');
    assert.ok(pongs >= 2, `answered ${pongs} heartbeat pings`);
    peer.destroy();
  });
});
