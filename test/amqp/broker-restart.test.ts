import assert from 'node:assert/strict';
import { connect, createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { Code, RpcError, createClient, createServer, currentCall } from '../../src/index.js';
import { CalculatorService, calculatorImpl, newLog, onCleanup, waitUntil } from '../support/calculator.js';
import { brokerScope, closeConnectionsNamed, startAmqpClient, startAmqpServer } from '../support/rabbitmq.js';
import { JobsService, type RunCounts } from './fixtures/jobs.js';

// The machine's broker is shared with other test runs, so it is not restarted: the broker closes
// this test's connections instead (`rabbitmqctl close_connection`), which ends them for the
// clients and servers exactly as a broker going down does.

test('connections closed by the broker while calls flow: calls fail UNAVAILABLE or succeed, none hang, traffic resumes', async (t) => {
  const scope = await brokerScope(t);
  await startAmqpServer(t, scope, 's1');
  const { calc } = startAmqpClient(t, scope);
  const timeoutMs = 3000;
  let ok = 0;
  let longest = 0;
  const failures = new Map<string, number>();
  let running = true;
  const lanes = Array.from({ length: 8 }, async (_, lane) => {
    for (let i = 0; running; i++) {
      const started = Date.now();
      try {
        assert.equal(await calc.add.with({ timeoutMs })(lane, i), lane + i);
        ok++;
      } catch (error) {
        const code = (error as RpcError).code;
        failures.set(`${code}`, (failures.get(`${code}`) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      longest = Math.max(longest, Date.now() - started);
    }
  });
  await waitUntil(() => ok >= 100, 10_000);
  const closed = await closeConnectionsNamed(`exchange=${scope.exchange}`);
  assert.ok(closed >= 2, `closed the client's and the server's connections (${closed})`);
  const okAtCut = ok;
  await waitUntil(() => ok >= okAtCut + 200, 20_000);
  running = false;
  await Promise.all(lanes);
  assert.deepEqual([...failures.keys()].filter((code) => code !== `${Code.UNAVAILABLE}`), [], `only UNAVAILABLE failures: ${JSON.stringify([...failures])}`);
  assert.ok(longest <= timeoutMs + 500, `no call outlived its deadline (longest ${longest} ms)`);
});

test('a server whose connection is cut mid-call reconnects; the interrupted request runs again if idempotent, else its caller gets UNAVAILABLE', async (t) => {
  const scope = (await brokerScope(t)).uses(JobsService.id);
  const runs: RunCounts = new Map();
  const aborts: unknown[] = [];
  // The first run of each of these lasts until it is aborted; any other run answers at once.
  const hanging = new Set(['refresh r1', 'charge c1']);
  const run = (method: string, id: string): Promise<string> => {
    const { signal } = currentCall();
    const key = `${method} ${id}`;
    runs.set(key, (runs.get(key) ?? 0) + 1);
    if (!hanging.delete(key)) return Promise.resolve(id);
    return new Promise((_, reject) => signal!.addEventListener('abort', () => {
      aborts.push(signal!.reason);
      reject(signal!.reason);
    }, { once: true }));
  };
  const server = createServer({ listen: [scope.url({ server: 's1' })], registry: false });
  server.provide(JobsService, { charge: (id) => run('charge', id), refresh: (id) => run('refresh', id) });
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  await server.listen();
  const client = createClient({ url: scope.url() });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  const jobs = client.proxy(JobsService);

  const refreshed = jobs.refresh.with({ timeoutMs: 20_000 })('r1');
  const charged = jobs.charge.with({ timeoutMs: 20_000 })('c1').then(() => undefined, (error: unknown) => error as RpcError);
  await waitUntil(() => runs.get('refresh r1') === 1 && runs.get('charge c1') === 1, 3000);
  // The connection that consumes requests, not the one that publishes replies.
  assert.equal(await closeConnectionsNamed(`exchange=${scope.exchange}&server=s1"`), 1);
  assert.equal(await refreshed, 'r1');
  assert.equal(runs.get('refresh r1'), 2, 'the idempotent request ran again after the reconnect');
  const error = await charged;
  assert.equal(error?.code, Code.UNAVAILABLE);
  assert.match(error.message, /not run again/);
  assert.equal(runs.get('charge c1'), 1, 'the other one did not');
  assert.deepEqual(aborts.map((reason) => (reason as RpcError).code), [Code.UNAVAILABLE, Code.UNAVAILABLE], 'both first runs were aborted when their connection went');
  assert.equal(await jobs.charge.with({ timeoutMs: 10_000 })('c2'), 'c2');
});

test('a client whose connection is cut fails its calls in flight with UNAVAILABLE and reconnects by itself', async (t) => {
  const scope = await brokerScope(t);
  await startAmqpServer(t, scope, 's1');
  const { client, calc } = startAmqpClient(t, scope);
  const pending = calc.slow.with({ timeoutMs: 15_000 })(10_000);
  const outcome = pending.then(() => undefined, (error: unknown) => error);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.ok((await closeConnectionsNamed(`switchyard client amqp://127.0.0.1:5672/?exchange=${scope.exchange}`)) >= 1);
  // Counted from when rabbitmqctl has closed it, which can take seconds on a busy machine.
  const closed = Date.now();
  assert.equal(((await outcome) as RpcError | undefined)?.code, Code.UNAVAILABLE);
  assert.ok(Date.now() - closed < 3000, 'failed when the connection went, not at the deadline');
  assert.equal(await calc.add(1, 2), 3);
  assert.equal(await client.invoke(CalculatorService, 'add', [2, 3]), 5);
});

/** A TCP relay to the broker that can be stopped (connections cut, port refusing) and started again on the same port. */
async function brokerRelay(t: TestContext): Promise<{ port: number; stop(): Promise<void>; start(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const start = () => new Promise<void>((resolve, reject) => {
    server = createTcpServer((client) => {
      const upstream = connect({ host: '127.0.0.1', port: 5672 });
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      port = (server!.address() as AddressInfo).port;
      resolve();
    });
  });
  const stop = () => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy();
    server?.close(() => resolve());
  });
  await start();
  t.after(stop);
  return { get port() { return port; }, stop, start };
}

test('while the broker is unreachable calls fail with UNAVAILABLE; once it is back, client and server reconnect by themselves', async (t) => {
  const scope = await brokerScope(t);
  const relay = await brokerRelay(t);
  const viaRelay = (url: string) => url.replace('127.0.0.1:5672', `127.0.0.1:${relay.port}`);
  const server = createServer({ listen: [viaRelay(scope.url({ server: 's1' }))], registry: false });
  server.provide(CalculatorService, calculatorImpl(newLog()));
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  await server.listen();
  const client = createClient({ url: viaRelay(scope.url()), connectTimeoutMs: 1000 });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  const calc = client.proxy(CalculatorService);
  assert.equal(await calc.add(1, 2), 3);

  await relay.stop();
  for (let i = 0; i < 5; i++) {
    const started = Date.now();
    await assert.rejects(calc.add.with({ timeoutMs: 2000 })(1, 2), { code: Code.UNAVAILABLE });
    assert.ok(Date.now() - started <= 2500, 'no call outlived its deadline');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await relay.start();
  let answer: unknown;
  for (const until = Date.now() + 20_000; answer !== 3 && Date.now() < until;) {
    answer = await calc.add.with({ timeoutMs: 2000 })(1, 2).catch(() => undefined);
    if (answer !== 3) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.equal(answer, 3, 'traffic resumed through the same client and server');
});
