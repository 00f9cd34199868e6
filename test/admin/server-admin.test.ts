import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createClient, createEmbeddedRegistry, createServer, MetricsRegistry } from '../../src/index.js';
import type { AdminListener } from '../../src/admin/index.js';
import { adminRequest } from '../support/admin.js';
import { CalculatorService, calculatorImpl, newLog, onCleanup } from '../support/calculator.js';

const at = (address: string | undefined): AdminListener => ({ address: address!, close: async () => {} });

function registryDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-admin-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a server\'s admin listener serves its status, connections and metrics, counting the calls made', async (t) => {
  const metrics = new MetricsRegistry();
  const registry = createEmbeddedRegistry({ dir: registryDir(t), pollMs: 50 });
  const server = createServer({ listen: ['tcp://127.0.0.1:0', 'http://127.0.0.1:0'], registry, admin: 'http://127.0.0.1:0', metrics });
  server.provide(CalculatorService, calculatorImpl(newLog()));
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [tcp] = await server.listen();
  assert.match(server.adminAddress ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
  const client = createClient({ url: tcp! });
  onCleanup(t, () => client.close());
  const calc = client.proxy(CalculatorService);
  for (let i = 0; i < 5; i++) await calc.add(i, 1);
  await assert.rejects(calc.divide(1, 0));

  const admin = at(server.adminAddress);
  const status = (await adminRequest(admin, '/status')).json as { services: Array<{ id: string; methods: Array<{ name: string; calls: number; inFlight: number }> }>; addresses: string[]; uptimeMs: number };
  assert.deepEqual(status.addresses, server.addresses);
  assert.ok(status.uptimeMs >= 0);
  const calculator = status.services.find((service) => service.id === CalculatorService.id);
  assert.ok(calculator !== undefined, 'the provided service is listed, the built-in ones are not');
  assert.equal(status.services.length, 1);
  assert.deepEqual(calculator.methods.find((method) => method.name === 'add'), { name: 'add', inFlight: 0, calls: 5 });

  const connections = (await adminRequest(admin, '/connections')).json as { connections: Array<{ protocol: string; calls: number; bytesIn: number }> };
  const tcpConnection = connections.connections.find((connection) => connection.protocol === 'tcp');
  assert.ok(tcpConnection !== undefined && tcpConnection.calls >= 6 && tcpConnection.bytesIn > 0, JSON.stringify(connections));

  const text = (await adminRequest(admin, '/metrics')).text;
  assert.match(text, /switchyard_server_calls_total\{service="demo\.Calculator:1\.0\.0",method="add",code="OK"\} 5/);
  assert.match(text, /switchyard_server_calls_total\{service="demo\.Calculator:1\.0\.0",method="divide",code="INVALID_ARGUMENT"\} 1/);
  assert.match(text, /switchyard_connections\{protocol="tcp",state="open"\} 1/);
  assert.match(text, /switchyard_limit_refusals_total\{limit="maxConnections"\} 0/);
});

test('POST /offline takes the server out of the registry and /health says so; /online brings it back', async (t) => {
  const dir = registryDir(t);
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: createEmbeddedRegistry({ dir, pollMs: 50 }), admin: 'http://127.0.0.1:0' });
  server.provide(CalculatorService, calculatorImpl(newLog()));
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  await server.listen();
  const watcher = createEmbeddedRegistry({ dir, pollMs: 50 });
  t.after(() => watcher.close());
  const seen: number[] = [];
  const changed = (count: number) => new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (seen.at(-1) === count) {
        clearInterval(check);
        resolve();
      }
    }, 20);
  });
  const unsubscribe = watcher.subscribe(CalculatorService.key, (providers) => seen.push(providers.length));
  t.after(unsubscribe);
  await changed(1);
  const admin = at(server.adminAddress);
  assert.equal((await adminRequest(admin, '/health')).status, 200);

  const offline = await adminRequest(admin, '/offline', { method: 'POST' });
  assert.equal(offline.status, 200);
  await changed(0);
  const health = await adminRequest(admin, '/health');
  assert.equal(health.status, 503);
  assert.deepEqual({ ready: (health.json as { ready: boolean }).ready, reason: (health.json as { reason: string }).reason }, { ready: false, reason: 'offline' });
  // Still serving those who know its address.
  const direct = createClient({ url: server.addresses[0]! });
  onCleanup(t, () => direct.close());
  assert.equal(await direct.proxy(CalculatorService).add(2, 2), 4);

  assert.equal((await adminRequest(admin, '/online', { method: 'POST' })).status, 200);
  await changed(1);
  assert.equal((await adminRequest(admin, '/health')).status, 200);
});

test('/health is not ready while the server drains, and the admin listener closes with the server', async (t) => {
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false, admin: 'http://127.0.0.1:0' });
  server.provide(CalculatorService, calculatorImpl(newLog()));
  const [address] = await server.listen();
  const admin = at(server.adminAddress);
  assert.equal((await adminRequest(admin, '/health/ready')).status, 200);
  const client = createClient({ url: address! });
  onCleanup(t, () => client.close());
  const slow = client.proxy(CalculatorService).slow(400);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const closing = server.close({ timeoutMs: 5000 });
  const during = await adminRequest(admin, '/health');
  assert.equal(during.status, 503);
  assert.equal((during.json as { reason: string }).reason, 'draining');
  assert.equal((await adminRequest(admin, '/health/live')).status, 200);
  assert.equal(await slow, 400, 'the call in flight finished');
  await closing;
  await assert.rejects(adminRequest(admin, '/health'), { code: 'ECONNREFUSED' });
});

test('a client\'s admin listener shows the providers it sees, their breakers and its connections', async (t) => {
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false });
  server.provide(CalculatorService, calculatorImpl(newLog()));
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  const client = createClient({ url: address!, admin: 'http://127.0.0.1:0', circuitBreaker: {} });
  onCleanup(t, () => client.close());
  await client.proxy(CalculatorService).add(1, 1);
  const admin = at(await client.admin());
  const providers = (await adminRequest(admin, '/providers')).json as { services: Array<{ service: string; providers: Array<{ address: string; state: string; active: number; breakers: Array<{ method: string; state: string }> }> }> };
  assert.equal(providers.services[0]?.service, CalculatorService.id);
  const [provider] = providers.services[0]!.providers;
  assert.equal(provider?.address, address);
  assert.equal(provider?.state, 'READY');
  assert.deepEqual(provider?.breakers, [{ method: 'add', state: 'CLOSED' }]);
  const connections = (await adminRequest(admin, '/connections')).json as { connections: Array<{ address: string; calls: number }> };
  assert.equal(connections.connections[0]?.address, address);
  assert.ok((connections.connections[0]?.calls ?? 0) >= 1);
  const text = (await adminRequest(admin, '/metrics')).text;
  assert.match(text, /switchyard_client_calls_total\{[^}]*method="add"[^}]*\} 1/);
  assert.match(text, /switchyard_circuit_breaker_state\{provider="[^"]+",method="add",state="CLOSED"\} 1/);
  await assert.rejects(createClient({ url: address! }).admin(), /no admin listener/);
});
