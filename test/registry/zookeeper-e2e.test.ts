import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { Code, RpcError, createClient, createServer, createZooKeeperRegistry, defineService, parseProviderUrl, providerUrl, type Server } from '../../src/index.js';
import { startZooKeeper, type TestZooKeeper } from '../support/zookeeper.js';

// Servers and clients configured with nothing but a zookeeper:// address find each other.

interface Who {
  who(): Promise<string>;
}
const WhoService = defineService<Who>('test.e2e.Who', { version: '1.0.0', methods: { who: { idempotent: true } } });

let zk: TestZooKeeper;
let cacheDir: string;
before(async () => {
  zk = await startZooKeeper();
  cacheDir = await mkdtemp(join(tmpdir(), 'switchyard-zk-e2e-'));
}, { timeout: 360_000 });
after(async () => {
  await zk?.stop();
  if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
});

const spec = (name: string) => `zookeeper://${zk.connectString}?sessionTimeoutMs=4000&cacheFile=${encodeURIComponent(join(cacheDir, name))}`;

test('providers registered through zookeeper:// are found and called by a client given only the registry', async (t) => {
  const servers: Server[] = [];
  t.after(async () => {
    for (const server of servers) await server.close({ timeoutMs: 1000 });
  });
  for (const label of ['a', 'b']) {
    const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: spec(`server-${label}`), warmupMs: 0 });
    server.provide(WhoService, { who: async () => label });
    await server.listen();
    servers.push(server);
  }
  const client = createClient({ registry: spec('client'), loadBalance: 'roundrobin' });
  t.after(() => client.close());
  const who = client.proxy(WhoService);

  const seen = new Map<string, number>();
  for (let i = 0; i < 20; i++) {
    const label = await who.who();
    seen.set(label, (seen.get(label) ?? 0) + 1);
  }
  assert.deepEqual(Object.fromEntries(seen), { a: 10, b: 10 });

  await servers.shift()!.close({ timeoutMs: 1000 });
  const afterClose = await Promise.all(Array.from({ length: 20 }, () => who.who()));
  assert.ok(afterClose.every((label) => label === 'b'), `after a closed: ${afterClose.join(',')}`);
});

/** A server of `definition` registered through `spec(name)`, answering `label`; closed when the test ends. */
async function serve(t: TestContext, definition: typeof WhoService, name: string, label: string): Promise<Server> {
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: spec(name), warmupMs: 0 });
  server.provide(definition, { who: async () => label });
  await server.listen();
  t.after(() => server.close({ timeoutMs: 1000 }));
  return server;
}

/** A loopback address nothing listens on: connecting to it is refused. */
async function deadAddress(): Promise<string> {
  const probe = createNetServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return `tcp://127.0.0.1:${port}`;
}

test('a client whose cache file lists providers that have moved calls the live ones from its first call', async (t) => {
  const Moved = defineService<Who>('test.e2e.Moved', { version: '1.0.0', methods: { who: {} } });
  await serve(t, Moved, 'moved-server', 'live');
  // What a consumer of an earlier run cached, before its providers moved to other ports.
  const stale = providerUrl(parseProviderUrl(`${await deadAddress()}/${Moved.key.name}?version=1.0.0&methods=who&timestamp=1`));
  await writeFile(join(cacheDir, 'moved-client'), JSON.stringify({ [Moved.key.name]: [stale] }), { mode: 0o600 });
  const client = createClient({ registry: spec('moved-client') });
  t.after(() => client.close());
  const who = client.proxy(Moved);
  const failures: string[] = [];
  for (let i = 0; i < 20; i++) await who.who().catch((error: Error) => failures.push(error.message));
  assert.deepEqual(failures, [], 'no call went to the cached, dead address');
});

test('with a dead and a live provider registered, every call succeeds: a refused connection fails over', async (t) => {
  const Split = defineService<Who>('test.e2e.Split', { version: '1.0.0', methods: { who: {} } });
  const dead = await deadAddress();
  // An entry left by a provider that died without unregistering, still listed by ZooKeeper.
  const leftover = await createZooKeeperRegistry(zk.connectString, { cacheFile: false });
  t.after(() => leftover.close());
  await leftover.register(parseProviderUrl(`${dead}/${Split.key.name}?version=1.0.0&methods=who&timestamp=1`));
  await serve(t, Split, 'split-server', 'live');

  // The error a refused connection gives: one failover may retry on another provider.
  const direct = createClient({ url: dead });
  t.after(() => direct.close());
  await assert.rejects(direct.proxy(Split).who(), (error: unknown) =>
    error instanceof RpcError && error.code === Code.UNAVAILABLE && error.unprocessed && /ECONNREFUSED/.test(error.message));

  const failovers: string[] = [];
  const quiet = () => {};
  const logger = { info: quiet, warn: quiet, error: quiet, debug: (obj: object, msg?: string) => {
    if (msg === 'failing over') failovers.push(String((obj as { code: unknown }).code));
  } };
  // Round robin: the dead provider is chosen for about every other call.
  const client = createClient({ registry: spec('split-client'), loadBalance: 'roundrobin', logger });
  t.after(() => client.close());
  const who = client.proxy(Split);
  const answers = [];
  for (let i = 0; i < 20; i++) answers.push(await who.who());
  assert.ok(answers.every((answer) => answer === 'live'));
  assert.ok(failovers.length > 0, 'the dead provider was tried, and the calls failed over');
  assert.ok(failovers.every((code) => code === String(Code.UNAVAILABLE)), failovers.join(','));
});
