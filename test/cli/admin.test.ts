// switchyard offline and online against a server's admin listener; health follows them.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createServer, defineService, type Server } from '../../src/index.js';
import { runCli } from './run-cli.js';

const PingService = defineService<{ ping(): Promise<string> }>('test.cli.AdminPing', { methods: { ping: {} } });

const dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-admin-'));
const registry = `embedded://${dir}`;
let server: Server;
let url: string;
let admin: string;
before(async () => {
  server = createServer({
    listen: ['tcp://127.0.0.1:0'],
    registry,
    admin: 'http://127.0.0.1:0',
    auth: { tokens: { 'ops-token': { id: 'ops' } } },
  });
  server.provide(PingService, { ping: async () => 'pong' });
  [url] = (await server.listen()) as [string];
  admin = server.adminAddress!;
});
after(async () => {
  await server.close({ timeoutMs: 1000 });
  rmSync(dir, { recursive: true, force: true });
});

test('offline takes the server out of the registry and makes it NOT_SERVING; online brings it back', async () => {
  const off = await runCli(['offline', admin, '--token', 'ops-token', '--json']);
  assert.equal(off.code, 0, off.stderr);
  assert.deepEqual(JSON.parse(off.stdout), { live: true, ready: false, reason: 'offline' });

  const listed = await runCli(['ls', registry, 'test.cli.AdminPing']);
  assert.match(listed.stdout, /test\.cli\.AdminPing {2}\(no providers\)/);
  const down = await runCli(['health', url, '--token', 'ops-token']);
  assert.equal(down.code, 1, 'NOT_SERVING is a failure');
  assert.equal(down.stdout, 'NOT_SERVING\n');

  const on = await runCli(['online', admin, '--token', 'ops-token']);
  assert.equal(on.code, 0, on.stderr);
  assert.match(on.stdout, /^online: done/);
  const up = await runCli(['health', url, '--token', 'ops-token']);
  assert.equal(up.code, 0, up.stderr);
  assert.equal(up.stdout, 'SERVING\n');
  const back = await runCli(['ls', registry, 'test.cli.AdminPing', '--json']);
  assert.equal((JSON.parse(back.stdout) as { services: { providers: unknown[] }[] }).services[0]!.providers.length, 1);
});

test('the admin listener refuses a caller without the token: exit 1 with the code name', async () => {
  const refused = await runCli(['offline', admin]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /offline http:\/\/127\.0\.0\.1:\d+ failed: UNAUTHENTICATED: HTTP 401/);
  const health = await runCli(['health', url, '--token', 'ops-token']);
  assert.equal(health.stdout, 'SERVING\n', 'a refused offline changed nothing');
});

test('an admin url nobody listens on is unreachable (exit 3); a non-http url is a usage error (exit 2)', async () => {
  const probe = createNetServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  const dead = await runCli(['online', `http://127.0.0.1:${port}`]);
  assert.equal(dead.code, 3);
  assert.match(dead.stderr, /UNAVAILABLE: cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);

  const usage = await runCli(['offline', 'tcp://127.0.0.1:1']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /an admin url is http:\/\/ or https:\/\//);
});
