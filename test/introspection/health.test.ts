// grpc.health.v1.Health, served from every server's call table on every transport.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Code, GrpcHealthService, createClient, createServer, defineService, type Provider, type Server, type ServerOptions } from '../../src/index.js';
import { ServerHealth, type HealthSnapshot } from '../../src/introspection/index.js';
import { hasCode } from '../support/assertions.js';
import { CalculatorService, calculatorImpl, newLog, onCleanup, waitUntil, type CalculatorLog } from '../support/calculator.js';
import { MemoryRegistry } from '../support/memory-registry.js';
import { brokerScope } from '../support/rabbitmq.js';
import { grpcJs, grpcJsClient, healthJs, unaryJs } from '../grpc/fixtures/grpc-js.js';
import type { TestContext } from 'node:test';

/** A Calculator server on `url` without a registry, closed when the test ends. */
async function calculatorServer(t: TestContext, url: string, options: Partial<ServerOptions> = {}): Promise<{ server: Server; address: string; log: CalculatorLog }> {
  const log = newLog();
  const server = createServer({ registry: false, ...options, listen: [url] });
  server.provide(CalculatorService, calculatorImpl(log));
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  return { server, address: address!, log };
}

function healthClient(t: TestContext, url: string) {
  const client = createClient({ url });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  return { client, health: client.proxy(GrpcHealthService), calc: client.proxy(CalculatorService) };
}

test('ServerHealth: starting, ready once registered, offline and back, then draining for good', () => {
  const health = new ServerHealth();
  const seen: HealthSnapshot[] = [];
  const stop = health.onChange((snapshot) => seen.push(snapshot));
  assert.deepEqual([health.live, health.ready, health.reason], [true, false, 'starting']);
  health.markRegistered();
  assert.deepEqual(health.snapshot(), { live: true, ready: true, since: seen[0]!.since });
  health.markOffline();
  assert.deepEqual([health.ready, health.reason], [false, 'offline']);
  health.markOnline();
  health.markRegistered(); // no change: no event
  health.markDraining();
  health.markOnline(); // still draining
  assert.deepEqual(seen.map((s) => [s.ready, s.reason]), [[true, undefined], [false, 'offline'], [true, undefined], [false, 'draining']]);
  stop();
  health.markOffline();
  assert.equal(seen.length, 4, 'an unsubscribed listener hears nothing more');
  assert.deepEqual([health.ready, health.reason], [false, 'draining'], 'draining outranks offline');
});

for (const scheme of ['tcp', 'http', 'grpc']) {
  test(`health check over ${scheme}://: the server and its services are SERVING; an unknown service is NOT_FOUND`, async (t) => {
    const { address } = await calculatorServer(t, `${scheme}://127.0.0.1:0`);
    const { health } = healthClient(t, address);
    for (const service of ['', 'demo.Calculator', CalculatorService.id]) {
      assert.deepEqual(await health.check({ service }), { status: 'SERVING' }, `status of ${JSON.stringify(service)}`);
    }
    await assert.rejects(health.check({ service: 'no.Such' }), hasCode(Code.NOT_FOUND, /unknown service "no.Such"/));
    await assert.rejects(health.check({ service: 'switchyard.Introspection' }), hasCode(Code.NOT_FOUND), 'built-ins are not services of the user');
  });
}

test('grpc-js health client (official health.proto) checks a grpc:// server', async (t) => {
  const { address } = await calculatorServer(t, 'grpc://127.0.0.1:0');
  const health = grpcJsClient(t, healthJs(), Number(new URL(address).port));
  for (const service of ['', 'demo.Calculator']) {
    const outcome = await unaryJs(health, 'check', { service });
    assert.equal(outcome.error, null);
    assert.deepEqual(outcome.response, { status: 'SERVING' });
  }
  assert.equal((await unaryJs(health, 'check', { service: 'no.Such' })).error?.code, grpcJs.status.NOT_FOUND);
});

test('health check over amqp:// answers from a server on the exchange', async (t) => {
  const scope = await brokerScope(t);
  await calculatorServer(t, scope.url({ server: 'h1' }));
  const { health } = healthClient(t, scope.url());
  assert.deepEqual(await health.check({ service: '' }), { status: 'SERVING' });
  assert.deepEqual(await health.check({ service: 'demo.Calculator' }), { status: 'SERVING' });
  await assert.rejects(health.check({ service: 'no.Such' }), hasCode(Code.NOT_FOUND));
});

/** A registry whose `register` waits until the test lets it through. */
class HeldRegistry extends MemoryRegistry {
  release!: () => void;
  private readonly released = new Promise<void>((resolve) => {
    this.release = resolve;
  });

  override async register(provider: Provider): Promise<void> {
    await this.released;
    return super.register(provider);
  }
}

test('a server is NOT_SERVING until its services are registered; watch sees it become SERVING', async (t) => {
  const registry = new HeldRegistry(`health-${process.pid}-${Date.now()}`);
  const server = createServer({ registry, listen: ['tcp://127.0.0.1:0'] });
  server.provide(CalculatorService, calculatorImpl(newLog()));
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const listening = server.listen();
  await waitUntil(() => server.addresses.length === 1);
  const { health } = healthClient(t, server.addresses[0]!);
  assert.deepEqual(await health.check({ service: '' }), { status: 'NOT_SERVING' });
  const statuses: string[] = [];
  const watching = (async () => {
    for await (const { status } of health.watch({ service: 'demo.Calculator' })) {
      statuses.push(status);
      if (status === 'SERVING') return;
    }
  })();
  await waitUntil(() => statuses.length === 1);
  registry.release();
  await listening;
  await watching;
  assert.deepEqual(statuses, ['NOT_SERVING', 'SERVING']);
  assert.deepEqual(await health.check({ service: '' }), { status: 'SERVING' });
});

for (const scheme of ['tcp', 'grpc']) {
  test(`over ${scheme}://, close() with a call in flight turns health NOT_SERVING; watch reports it and ends, and the call finishes`, async (t) => {
    const { server, address, log } = await calculatorServer(t, `${scheme}://127.0.0.1:0`);
    const { health, calc } = healthClient(t, address);
    const statuses: string[] = [];
    const watching = (async () => {
      for await (const { status } of health.watch({ service: '' })) statuses.push(status);
    })();
    await waitUntil(() => statuses.length === 1);
    const slow = calc.slow(300);
    await waitUntil(() => log.slow.length === 1);
    const closing = server.close({ timeoutMs: 5000 });
    await watching;
    assert.deepEqual(statuses, ['SERVING', 'NOT_SERVING']);
    assert.equal(await slow, 300, 'the call in flight finished');
    await closing;
  });
}

for (const scheme of ['tcp', 'http', 'grpc']) {
  test(`over ${scheme}://, while close() waits out unregisterDelayMs a check answers NOT_SERVING`, async (t) => {
    const { server, address } = await calculatorServer(t, `${scheme}://127.0.0.1:0`, { unregisterDelayMs: 1000 });
    const { health } = healthClient(t, address);
    assert.deepEqual(await health.check({ service: '' }), { status: 'SERVING' });
    const closing = server.close({ timeoutMs: 2000 });
    assert.deepEqual(await health.check({ service: '' }), { status: 'NOT_SERVING' });
    assert.deepEqual(await health.check({ service: 'demo.Calculator' }), { status: 'NOT_SERVING' });
    await closing;
  });
}

test('a service the user provides as grpc.health.v1.Health takes the built-in one\'s place', async (t) => {
  const Own = defineService<{ check(request: { service?: string }): Promise<{ status: string }> }>('grpc.health.v1.Health', { methods: { check: {} } });
  const server = createServer({ registry: false, listen: ['tcp://127.0.0.1:0'] });
  server.provide(Own, { check: async () => ({ status: 'NOT_SERVING' }) });
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  const { health } = healthClient(t, address!);
  assert.deepEqual(await health.check({ service: '' }), { status: 'NOT_SERVING' });
});
