// Servers and clients configured with nothing but an etcd:// address find each other through a real
// etcd; a provider process killed outright leaves the directory once its lease runs out; and a rule
// written into etcd (as Dubbo Admin writes it) steers a running client.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { importOptional } from '../../src/core/optional-module.js';
import { createClient, createServer, defineService, type Server } from '../../src/index.js';
import { openRegistry } from '../../src/registry/index.js';
import { providerUrl, type Provider } from '../../src/registry/provider.js';
import { onCleanup } from '../support/calculator.js';
import { consumerRule } from '../rules/wiring-consumer-scenarios.js';
import { CallLoop, startFleet, within, type RuleBackend } from '../rules/wiring-kit.js';
import { RpcError } from '../../src/core/rpc-error.js';
import { uniqueServiceName, waitFor } from './contract.js';
import { etcdForFile } from './etcd-servers.js';

interface Who {
  who(): Promise<string>;
}
const WhoService = defineService<Who>('test.etcd.e2e.Who', { version: '1.0.0', methods: { who: { idempotent: true } } });

const { etcd } = etcdForFile();
const PREFIX = `/switchyard-e2e-${Date.now().toString(36)}${process.pid}`;
const LEASE_S = 2;

/** The address every server and client of a test is given: nothing else tells them of each other. */
const address = (extra = '') => `etcd://${etcd().hosts.join(',')}${PREFIX}?leaseTtlS=${LEASE_S}&cacheFile=false${extra}`;

async function plainClient(t: TestContext): Promise<Etcd3> {
  const { Etcd3: Client } = await importOptional<typeof import('etcd3')>('etcd3', 'the etcd registry tests');
  const client = new Client({ hosts: etcd().hosts });
  onCleanup(t, () => client.close());
  return client;
}

test('providers registered through etcd:// are found and called by a client given only the registry', async (t) => {
  const servers: Server[] = [];
  t.after(async () => {
    for (const server of servers) await server.close({ timeoutMs: 1000 });
  });
  for (const label of ['a', 'b']) {
    const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: address(), warmupMs: 0 });
    server.provide(WhoService, { who: async () => label });
    await server.listen();
    servers.push(server);
  }
  const client = createClient({ registry: address(), loadBalance: 'roundrobin' });
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

const moduleUrl = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
const childScript = `
const { createServer, defineService } = await import(${moduleUrl('../../src/index.ts')});
const [address, name] = process.argv.slice(1);
const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: address, warmupMs: 0 });
server.provide(defineService(name, { version: '1.0.0', methods: { who: { idempotent: true } } }), { who: async () => 'child' });
const [listening] = await server.listen();
console.log(listening);
setInterval(() => {}, 1000);
`;

test(`a provider process killed with SIGKILL leaves the directory within its lease (${LEASE_S} s)`, async (t) => {
  const name = uniqueServiceName('Killed');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', childScript, address(), name], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const lines = createInterface({ input: child.stdout });
  const [listening] = (await Promise.race([once(lines, 'line'), exited.then(() => assert.fail('the child exited'))])) as [string];

  const { registry } = await openRegistry(address('&registerConsumers=false'));
  t.after(() => registry.close());
  let latest: Provider[] = [];
  t.after(registry.subscribe({ name }, (providers) => (latest = providers)));
  await waitFor(() => latest.some((provider) => provider.address === listening), 'the child registered', 10_000);
  const entry = providerUrl(latest.find((provider) => provider.address === listening)!);

  const killedAt = performance.now();
  child.kill('SIGKILL');
  await exited;
  // etcd ends an expired lease on its next check (every 500 ms): allow that, and the watch's delivery
  // and the read after it on a busy machine.
  await waitFor(() => !latest.some((provider) => providerUrl(provider) === entry), 'the killed provider to leave the directory', LEASE_S * 1000 + 2000);
  console.log(`etcd: a SIGKILLed provider left the directory ${Math.round(performance.now() - killedAt)} ms after the kill (lease ${LEASE_S} s)`);
  const plain = await plainClient(t);
  assert.deepEqual(await plain.getAll().prefix(`${PREFIX}/dubbo/${name}/providers/`).keys(), [], 'no key of the killed provider is left');
});

test('a configurator written into etcd that disables a provider stops the consumer calling it within 2 s', async (t) => {
  const folder = `${PREFIX}/dubbo/config/dubbo`;
  const backend: RuleBackend = {
    name: 'etcd',
    registry: () => address('&registerConsumers=false'),
    put: async (context, _registry, key, kind, text) => void (await (await plainClient(context)).put(`${folder}/${key}.${kind}`).value(text)),
    remove: async (context, _registry, key, kind) => void (await (await plainClient(context)).delete().key(`${folder}/${key}.${kind}`)),
  };
  const fleet = await startFleet(t, backend, ['a', 'b']);
  const [a] = fleet.providers;
  const loop = new CallLoop(t, () => fleet.proxy.whoami());
  await loop.next(20);
  const disable = consumerRule(fleet, `  - side: consumer\n    providerAddresses: ["${fleet.address(a!)}"]\n    parameters:\n      disabled: true\n`);
  await backend.put(t, fleet.registry, fleet.ruleKey, 'configurators', disable);
  await within(2000, async () => (await loop.next(40)).every((answer) => answer === 'b'), 'no call reaching provider a after the rule disabled it');
  const mark = loop.answers.length;
  await loop.next(100);
  assert.equal(loop.countSince(mark, 'a'), 0, 'a disabled provider is never chosen');
  const removed = loop.answers.length;
  await backend.remove(t, fleet.registry, fleet.ruleKey, 'configurators');
  await within(2000, () => loop.countSince(removed, 'a') > 0, 'provider a getting calls again once the rule was deleted');
  await loop.stop();
  assert.deepEqual(loop.answers.filter((answer) => answer instanceof RpcError), [], 'no call failed');
});
