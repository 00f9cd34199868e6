// switchyard health against real servers: grpc.health.v1.Health/Check over grpc://, tcp:// and http://.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createServer, defineService, type Server } from '../../src/index.js';
import { runCli } from './run-cli.js';

const PingService = defineService<{ ping(): Promise<string> }>('test.cli.Ping', { methods: { ping: {} } });

let server: Server;
let urls: string[];
before(async () => {
  server = createServer({ listen: ['grpc://127.0.0.1:0', 'tcp://127.0.0.1:0', 'http://127.0.0.1:0'], registry: false });
  server.provide(PingService, { ping: async () => 'pong' });
  urls = await server.listen();
});
after(() => server.close({ timeoutMs: 1000 }));

test('health prints SERVING and exits 0 over grpc, tcp and http', async () => {
  await Promise.all(urls.map(async (url) => {
    const { code, stdout, stderr } = await runCli(['health', url]);
    assert.equal(code, 0, `${url}: ${stderr}`);
    assert.equal(stdout, 'SERVING\n', url);
  }));
});

test('health of one service, as JSON; a service the server does not provide exits 1 with NOT_FOUND', async () => {
  const grpc = urls[0]!;
  const known = await runCli(['health', grpc, '--service', 'test.cli.Ping', '--json']);
  assert.equal(known.code, 0, known.stderr);
  assert.deepEqual(JSON.parse(known.stdout), { status: 'SERVING' });

  const unknown = await runCli(['health', grpc, '--service', 'test.cli.Nope']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /health check failed: NOT_FOUND/);
});

test('health needs a server address: a registry is a usage error', async () => {
  const { code, stderr } = await runCli(['health', 'embedded']);
  assert.equal(code, 2);
  assert.match(stderr, /health needs a server address/);
});
