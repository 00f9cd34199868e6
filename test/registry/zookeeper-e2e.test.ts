import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createClient, createServer, defineService, type Server } from '../../src/index.js';
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
