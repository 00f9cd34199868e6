// The etcd registry on a 3-member etcd cluster on loopback, while a client calls two servers found
// through it: each member in turn is killed outright (the leader first, then the member serving the
// most watch streams, then the last), a change is made to the directory, and the client's registry
// must show it. No call may fail, and the directory must be right again after each kill; how long
// that took is printed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClient, createServer, defineService, type Server } from '../../src/index.js';
import { createEtcdRegistry } from '../../src/registry/etcd.js';
import { providerUrl } from '../../src/registry/provider.js';
import { RpcError } from '../../src/core/rpc-error.js';
import { CallLoop } from '../rules/wiring-kit.js';
import { Recorder, makeProvider, uniqueServiceName } from './contract.js';
import { etcdForFile } from './etcd-servers.js';

interface Who {
  who(): Promise<string>;
}

const { etcd } = etcdForFile(3);
const PREFIX = `/switchyard-cluster-${Date.now().toString(36)}${process.pid}`;

test('members of a 3-member etcd killed one at a time, leader first, while calls run: no call fails and the directory is right again', async (t) => {
  const WhoService = defineService<Who>(uniqueServiceName('Who'), { version: '1.0.0', methods: { who: { idempotent: true } } });
  const address = `etcd://${etcd().hosts.join(',')}${PREFIX}?leaseTtlS=5&dialTimeoutMs=10000&cacheFile=false`;
  const servers: Server[] = [];
  t.after(async () => {
    for (const server of servers) await server.close({ timeoutMs: 1000 });
  });
  for (const label of ['a', 'b']) {
    const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: address, warmupMs: 0 });
    server.provide(WhoService, { who: async () => label });
    await server.listen();
    servers.push(server);
  }
  // The client's own registry, to watch its directory as the client sees it.
  const registry = await createEtcdRegistry(etcd().hosts, { prefix: PREFIX, leaseTtlS: 5, dialTimeoutMs: 10_000, cacheFile: false });
  t.after(() => registry.close());
  const client = createClient({ registry, loadBalance: 'roundrobin' });
  t.after(() => client.close({ timeoutMs: 1000 }));
  const who = client.proxy(WhoService);
  const directory = new Recorder();
  t.after(registry.subscribe(WhoService.key, directory.onChange));
  const servedBy = new Set<string>();
  for (let i = 0; i < 10; i++) servedBy.add(await who.who());
  assert.deepEqual([...servedBy].sort(), ['a', 'b']);
  const serverUrls = directory.urls()!;

  // Changes to the directory made during each outage, by another process's registry.
  const changer = await createEtcdRegistry(etcd().hosts, { prefix: PREFIX, leaseTtlS: 5, dialTimeoutMs: 10_000, cacheFile: false, registerConsumers: false });
  t.after(() => changer.close());
  const probeService = uniqueServiceName('Probe');
  const probes = new Recorder();
  t.after(registry.subscribe({ name: probeService }, probes.onChange));
  await probes.waitForUrls([]);

  const loop = new CallLoop(t, () => who.who());
  await loop.next(20);
  const added: string[] = [];
  const killed = new Set<number>();
  for (let round = 0; round < 3; round++) {
    const leader = await etcd().leader();
    const streams = await etcd().watchStreams();
    // First the leader; then, of the others, the member serving the most watch streams; then the last one.
    const candidates = [0, 1, 2].filter((index) => !killed.has(index) && (round === 0 ? index === leader : round === 2 || index !== leader));
    const index = candidates.sort((x, y) => streams[y]! - streams[x]!)[0]!;
    killed.add(index);
    const member = etcd().members[index]!;
    const killedAt = performance.now();
    await etcd().kill(index);
    const probe = makeProvider(probeService, 23001 + round);
    await changer.register(probe);
    added.push(providerUrl(probe));
    await probes.waitForUrls(added, `the client's directory to show the change made after ${member.name} was killed`);
    const recoveredMs = Math.round(performance.now() - killedAt);
    assert.deepEqual(directory.urls(), serverUrls, 'both servers stay listed');
    console.log(`etcd cluster: killed ${member.name}${index === leader ? ' (the leader)' : ''}, serving ${streams[index]} of ${streams.reduce((a, b) => a + b, 0)} watch streams; ` +
      `a change made after the kill reached the client's directory ${recoveredMs} ms after the kill`);
    await loop.next(20);
    await etcd().resume(index);
  }
  await loop.next(20);
  await loop.stop();
  const failed = loop.answers.filter((answer) => answer instanceof RpcError);
  assert.deepEqual(failed, [], 'no call failed');
  console.log(`etcd cluster: ${loop.answers.length} calls, ${failed.length} failed`);
  await directory.waitForUrls(serverUrls, 'both servers listed after the three kills');
});
