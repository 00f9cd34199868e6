// switchyard ls and describe against a real ZooKeeper, in Dubbo's layout; the command only looks.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createServer, createZooKeeperRegistry, defineService, type Server } from '../../src/index.js';
import { startZooKeeper, type TestZooKeeper } from '../support/zookeeper.js';
import { runCli } from './run-cli.js';

const ZkService = defineService<{ hello(name: string): Promise<string> }>('test.cli.Zk', { version: '1.0.0', methods: { hello: {} } });

let zooKeeper: TestZooKeeper | undefined;
const dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-zk-'));
const zk = { server: () => zooKeeper ?? assert.fail('ZooKeeper did not start') };
let server: Server | undefined;
let url: string;
before(async () => {
  zooKeeper = await startZooKeeper();
  const spec = `zookeeper://${zooKeeper.connectString}?cacheFile=${encodeURIComponent(join(dir, 'server-cache.json'))}`;
  server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: spec });
  server.provide(ZkService, { hello: async (name) => `hello ${name}` });
  [url] = (await server.listen()) as [string];
}, { timeout: 360_000 });
after(async () => {
  await server?.close({ timeoutMs: 1000 });
  await zooKeeper?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('ls lists the services under /dubbo with their providers', async () => {
  const registry = `zookeeper://${zk.server().connectString}`;
  const { code, stdout, stderr } = await runCli(['ls', registry]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, new RegExp(`^test\\.cli\\.Zk +${url.replace(/\./g, '\\.')} +tcp +1\\.0\\.0 +- +100$`, 'm'));

  const json = await runCli(['ls', registry, 'test.cli.Zk', '--json']);
  const { services } = JSON.parse(json.stdout) as { services: { name: string; providers: { address: string; version: string }[] }[] };
  assert.deepEqual(services.map(({ name, providers }) => ({ name, providers: providers.map(({ address, version }) => ({ address, version })) })),
    [{ name: 'test.cli.Zk', providers: [{ address: url, version: '1.0.0' }] }]);
});

test('describe and call through ZooKeeper; the command announces no consumer there', async () => {
  const registry = `zookeeper://${zk.server().connectString}`;
  const described = await runCli(['describe', registry, 'test.cli.Zk']);
  assert.equal(described.code, 0, described.stderr);
  assert.match(described.stdout, /^test\.cli\.Zk {2}version 1\.0\.0 {2}group -\n {2}hello\n/);
  const called = await runCli(['call', registry, 'test.cli.Zk', 'hello', '"zoo"']);
  assert.equal(called.code, 0, called.stderr);
  assert.equal(called.stdout, '"hello zoo"\n');

  // What a tool reading the tree sees: the service, and no consumer:// node left by the command.
  const looking = await createZooKeeperRegistry(zk.server().connectString, { cacheFile: false, registerConsumers: false });
  try {
    assert.ok((await looking.services()).includes('test.cli.Zk'));
    const consumers = await listChildren(zk.server().connectString, '/dubbo/test.cli.Zk/consumers');
    assert.deepEqual(consumers, []);
  } finally {
    await looking.close();
  }
});

test('a ZooKeeper nobody listens at is unreachable: exit 3', async () => {
  const probe = createNetServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  const { code, stderr } = await runCli(['ls', `zookeeper://127.0.0.1:${port}?connectTimeoutMs=1000`]);
  assert.equal(code, 3);
  assert.match(stderr, /UNAVAILABLE: no connection to ZooKeeper/);
});

/** The children of a path as a plain ZooKeeper client reads them; none when it does not exist. */
async function listChildren(connectString: string, path: string): Promise<string[]> {
  const zkModule = 'node-zookeeper-client';
  const lib = ((await import(zkModule)) as { default: { createClient(cs: string): PlainClient } }).default;
  const client = lib.createClient(connectString);
  try {
    await new Promise<void>((resolve) => {
      client.once('connected', resolve);
      client.connect();
    });
    return await new Promise<string[]>((resolve, reject) => client.getChildren(path, (error, children) => {
      if (error === null || error === undefined) resolve(children);
      else if (error.getCode() === -101) resolve([]);
      else reject(error);
    }));
  } finally {
    client.close();
  }
}

interface PlainClient {
  once(event: 'connected', listener: () => void): void;
  connect(): void;
  close(): void;
  getChildren(path: string, callback: (error: { getCode(): number } | null | undefined, children: string[]) => void): void;
}
