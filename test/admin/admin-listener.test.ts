import assert from 'node:assert/strict';
import test from 'node:test';
import { CallTable } from '../../src/core/call-table.js';
import { silentLogger } from '../../src/core/logger.js';
import { createClient } from '../../src/index.js';
import { connectionOptions } from '../../src/options.js';
import { SerializerSet } from '../../src/serialization/registry.js';
import { TcpServerTransport } from '../../src/transport/tcp/server.js';
import { adminRequest, realSources, startTestAdmin } from '../support/admin.js';
import { CalculatorService, calculatorImpl, newLog, onCleanup } from '../support/calculator.js';

// The endpoints of the admin listener, read from real pieces: a server's health, its refusal
// counts, a metrics registry, a TCP transport's connections. Binding, auth and failures:
// admin-listener-safety.test.ts.

test('GET /metrics answers the registry in Prometheus text format 0.0.4, uncached', async (t) => {
  const { sources } = realSources();
  const listener = await startTestAdmin(t, sources);
  const reply = await adminRequest(listener, '/metrics');
  assert.equal(reply.status, 200);
  assert.equal(reply.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  assert.equal(reply.headers['cache-control'], 'no-store');
  assert.match(reply.text, /^# TYPE switchyard_server_calls_total counter$/m);
  assert.match(reply.text, /^switchyard_server_calls_total\{service="demo.Calculator",method="add",code="OK"\} 2$/m);
});

test('/health is 503 until the server is registered, 200 once it is, and says why not', async (t) => {
  const { sources, health } = realSources();
  const listener = await startTestAdmin(t, sources);
  const starting = await adminRequest(listener, '/health');
  assert.equal(starting.status, 503);
  assert.equal(starting.headers['content-type'], 'application/json');
  assert.equal(starting.headers['cache-control'], 'no-store');
  assert.deepEqual(starting.json, { live: true, ready: false, reason: 'starting' });
  assert.deepEqual([(await adminRequest(listener, '/health/live')).status, (await adminRequest(listener, '/health/ready')).status], [200, 503]);

  health.markRegistered();
  const ready = await adminRequest(listener, '/health');
  assert.equal(ready.status, 200);
  assert.deepEqual(ready.json, { live: true, ready: true });
  assert.deepEqual((await adminRequest(listener, '/health/live')).json, { live: true });
  assert.deepEqual((await adminRequest(listener, '/health/ready')).json, { ready: true });

  health.markDraining();
  const draining = await adminRequest(listener, '/health/ready');
  assert.equal(draining.status, 503);
  assert.deepEqual(draining.json, { ready: false, reason: 'draining' });
});

test('GET /status answers the status source, refusal counts of a real Refusals included; ?pretty indents', async (t) => {
  const { sources, refusals } = realSources();
  const listener = await startTestAdmin(t, sources);
  refusals.refuse('maxConnections', { remote: '127.0.0.1' });
  const reply = await adminRequest(listener, '/status');
  assert.equal(reply.status, 200);
  const status = reply.json as { services: string[]; uptimeMs: number; refusals: Record<string, number> };
  assert.deepEqual(status.services, ['demo.Calculator']);
  assert.equal(typeof status.uptimeMs, 'number');
  assert.equal(status.refusals.maxConnections, 1);
  assert.equal(status.refusals.maxMetadataBytes, 0);
  assert.doesNotMatch(reply.text, /\n {2}"/);

  const pretty = await adminRequest(listener, '/status?pretty');
  assert.match(pretty.text, /^\{\n {2}"services": \[/);
  assert.deepEqual((pretty.json as typeof status).refusals, status.refusals);
});

test('GET /connections lists the open connections of a real TCP transport', async (t) => {
  const context = { table: new CallTable(), serializers: new SerializerSet(['msgpack']), logger: silentLogger };
  context.table.provide(CalculatorService, calculatorImpl(newLog()), []);
  const transport = new TcpServerTransport('127.0.0.1', 0, context, connectionOptions({}));
  const address = await transport.listen();
  onCleanup(t, () => transport.forceClose());
  const { sources } = realSources();
  const listener = await startTestAdmin(t, { ...sources, connections: () => transport.connections() });
  assert.deepEqual((await adminRequest(listener, '/connections')).json, []);

  const client = createClient({ url: address });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  assert.equal(await client.proxy(CalculatorService).add(2, 3), 5);
  const reply = await adminRequest(listener, '/connections');
  assert.equal(reply.status, 200);
  const connections = reply.json as Array<{ protocol: string; listener: string; state: string; calls: number }>;
  assert.equal(connections.length, 1);
  assert.equal(connections[0]!.protocol, 'tcp');
  assert.equal(connections[0]!.listener, address);
  assert.equal(connections[0]!.state, 'open');
  assert.equal(connections[0]!.calls, 1);
});

test('GET /providers answers a client\'s view; a process without one answers 404 JSON', async (t) => {
  const { sources } = realSources();
  const server = await startTestAdmin(t, sources);
  const none = await adminRequest(server, '/providers');
  assert.equal(none.status, 404);
  assert.equal((none.json as { code: string }).code, 'NOT_FOUND');

  const view = { 'demo.Calculator': [{ address: 'tcp://127.0.0.1:7000', weight: 100, breaker: 'closed', active: 0 }] };
  const client = await startTestAdmin(t, { ...sources, providers: () => view });
  const reply = await adminRequest(client, '/providers');
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.json, view);
});

test('POST /offline and POST /online run the actions and answer the health after them', async (t) => {
  const { sources, health, moves } = realSources();
  health.markRegistered();
  const listener = await startTestAdmin(t, sources);
  const offline = await adminRequest(listener, '/offline', { method: 'POST' });
  assert.equal(offline.status, 200);
  assert.deepEqual(offline.json, { live: true, ready: false, reason: 'offline' });
  assert.equal((await adminRequest(listener, '/health')).status, 503);

  const online = await adminRequest(listener, '/online', { method: 'POST' });
  assert.equal(online.status, 200);
  assert.deepEqual(online.json, { live: true, ready: true });
  assert.deepEqual(moves, ['offline', 'online']);
});

test('HEAD answers where GET does, with the headers and no body', async (t) => {
  const { sources } = realSources();
  const listener = await startTestAdmin(t, sources);
  const get = await adminRequest(listener, '/metrics');
  const head = await adminRequest(listener, '/metrics', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.text, '');
  assert.equal(head.headers['content-length'], String(Buffer.byteLength(get.text)));
  assert.equal(head.headers['content-type'], get.headers['content-type']);
  assert.equal((await adminRequest(listener, '/offline', { method: 'HEAD' })).status, 405);
});

test('an unknown path is 404 and a wrong method 405, both JSON, 405 with allow', async (t) => {
  const { sources, moves } = realSources();
  const listener = await startTestAdmin(t, sources);
  for (const path of ['/', '/metrics/', '/nope', '//metrics', '/health/other']) {
    const reply = await adminRequest(listener, path);
    assert.equal(reply.status, 404, path);
    assert.equal(reply.headers['content-type'], 'application/json');
    assert.equal((reply.json as { code: string }).code, 'NOT_FOUND');
  }
  const getOffline = await adminRequest(listener, '/offline');
  assert.equal(getOffline.status, 405);
  assert.equal(getOffline.headers.allow, 'POST');
  assert.equal((getOffline.json as { code: string }).code, 'UNIMPLEMENTED');
  const postHealth = await adminRequest(listener, '/health', { method: 'POST' });
  assert.equal(postHealth.status, 405);
  assert.equal(postHealth.headers.allow, 'GET, HEAD');
  assert.equal((await adminRequest(listener, '/status', { method: 'DELETE' })).status, 405);
  assert.deepEqual(moves, [], 'a refused request ran no action');
});
