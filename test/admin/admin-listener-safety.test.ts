import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import test from 'node:test';
import { AdminService, isLoopback, startAdmin } from '../../src/admin/index.js';
import { Code } from '../../src/core/code.js';
import { silentLogger } from '../../src/core/logger.js';
import { authGate } from '../../src/security/auth-gate.js';
import { adminRequest, realSources, startTestAdmin } from '../support/admin.js';

// What keeps the admin listener safe: loopback only unless public, the server's auth gate, a
// failing or silent source never killing the process or hanging a request, close() letting go.

test('a host that is not loopback is refused unless public: true', async (t) => {
  for (const host of ['127.0.0.1', '127.8.9.10', '[::1]', 'localhost', 'LOCALHOST', '[::ffff:127.0.0.1]']) {
    assert.equal(isLoopback(host.replace(/^\[|\]$/g, '')), true, host);
  }
  for (const host of ['0.0.0.0', '192.0.2.7', '10.0.0.1', '::', '2001:db8::1', 'example.com', '128.0.0.1']) {
    assert.equal(isLoopback(host), false, host);
  }
  const { sources } = realSources();
  for (const url of ['http://0.0.0.0:0', 'http://192.0.2.7:9464', 'http://[::]:0', 'http://example.com:9464']) {
    await assert.rejects(startAdmin(url, sources), (error: { code: number; message: string }) => {
      assert.equal(error.code, Code.INVALID_ARGUMENT, url);
      assert.match(error.message, /public: true/);
      return true;
    });
  }
  for (const url of ['https://127.0.0.1:0', 'http://127.0.0.1:0/admin', 'http://127.0.0.1:0?x=1', 'not a url']) {
    await assert.rejects(startAdmin(url, sources), { code: Code.INVALID_ARGUMENT }, url);
  }

  const ipv6 = await startTestAdmin(t, sources, {}, 'http://[::1]:0');
  assert.match(ipv6.address, /^http:\/\/\[::1\]:\d+$/);
  assert.equal((await adminRequest(ipv6, '/health/live')).status, 200);
  const named = await startTestAdmin(t, sources, {}, 'http://localhost:0');
  assert.equal((await adminRequest(named, '/health/live')).status, 200);
  const open = await startTestAdmin(t, sources, { public: true }, 'http://0.0.0.0:0');
  assert.match(open.address, /^http:\/\/0\.0\.0\.0:\d+$/);
});

test('with a gate, every endpoint is a call of switchyard.Admin: 401 without a token, 403 without the role, 200 with it', async (t) => {
  const { sources, health, moves } = realSources();
  health.markRegistered();
  const gate = authGate({
    tokens: { 'ops-token': { id: 'olga', roles: ['ops'] }, 'dev-token': { id: 'dan', roles: ['dev'] } },
    policy: { [AdminService.key.name]: { roles: ['ops'], methods: { health: { public: true } } } },
  }, silentLogger);
  const listener = await startTestAdmin(t, { ...sources, gate });
  const asOps = { authorization: 'Bearer ops-token' };

  const anonymous = await adminRequest(listener, '/metrics');
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.headers['www-authenticate'], 'Bearer');
  assert.equal((anonymous.json as { code: string }).code, 'UNAUTHENTICATED');
  const badToken = await adminRequest(listener, '/status', { headers: { authorization: 'Bearer nobody' } });
  assert.equal(badToken.status, 401);

  const dev = await adminRequest(listener, '/offline', { method: 'POST', headers: { authorization: 'Bearer dev-token' } });
  assert.equal(dev.status, 403);
  assert.equal((dev.json as { code: string }).code, 'PERMISSION_DENIED');
  assert.match((dev.json as { message: string }).message, /offline/);
  assert.deepEqual(moves, [], 'a refused caller took nothing offline');

  assert.equal((await adminRequest(listener, '/metrics', { headers: asOps })).status, 200);
  assert.equal((await adminRequest(listener, '/status', { headers: asOps })).status, 200);
  assert.equal((await adminRequest(listener, '/connections', { headers: asOps })).status, 200);
  assert.equal((await adminRequest(listener, '/offline', { method: 'POST', headers: asOps })).status, 200);
  assert.deepEqual(moves, ['offline']);
  // The policy made health public: a load balancer's probe needs no token.
  assert.equal((await adminRequest(listener, '/health/live')).status, 200);
});

test('a source that throws or rejects answers 500 JSON and the listener keeps serving', async (t) => {
  const { sources, health } = realSources();
  health.markRegistered();
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const listener = await startTestAdmin(t, {
    ...sources,
    metrics: () => {
      throw new Error('registry broke');
    },
    status: () => cyclic,
    connections: () => Promise.reject(new TypeError('transport gone')),
    offline: () => Promise.reject(new Error('registry unreachable')),
  });
  const metrics = await adminRequest(listener, '/metrics');
  assert.equal(metrics.status, 500);
  assert.equal(metrics.headers['content-type'], 'application/json');
  assert.deepEqual(metrics.json, { code: 'INTERNAL', message: 'registry broke' });
  assert.equal((await adminRequest(listener, '/status')).status, 500);
  assert.equal((await adminRequest(listener, '/connections')).status, 500);
  assert.equal((await adminRequest(listener, '/offline', { method: 'POST' })).status, 500);
  assert.equal((await adminRequest(listener, '/health')).status, 200);
});

test('a source that never answers is 504 after requestTimeoutMs, and close() still finishes', async (t) => {
  const { sources } = realSources();
  const listener = await startTestAdmin(t, { ...sources, status: () => new Promise(() => {}) }, { requestTimeoutMs: 100 });
  const reply = await adminRequest(listener, '/status');
  assert.equal(reply.status, 504);
  assert.equal((reply.json as { code: string }).code, 'DEADLINE_EXCEEDED');
  await listener.close();
});

test('close() ends idle keep-alive connections and frees the port; a second close() is harmless', async (t) => {
  const { sources } = realSources();
  const listener = await startAdmin('http://127.0.0.1:0', sources);
  const agent = new Agent({ keepAlive: true });
  t.after(() => agent.destroy());
  assert.equal((await adminRequest(listener, '/health/live', { agent })).status, 200);
  assert.equal(Object.values(agent.freeSockets).flat().length, 1, 'the connection stayed open');

  await listener.close();
  await listener.close();
  const port = Number(new URL(listener.address).port);
  const again = createNetServer();
  await new Promise<void>((resolve, reject) => {
    again.once('error', reject);
    again.listen(port, '127.0.0.1', resolve);
  });
  await new Promise((resolve) => again.close(resolve));
});

test('a port in use is refused with UNAVAILABLE', async (t) => {
  const { sources } = realSources();
  const first = await startTestAdmin(t, sources);
  await assert.rejects(startAdmin(first.address, sources), { code: Code.UNAVAILABLE });
});
