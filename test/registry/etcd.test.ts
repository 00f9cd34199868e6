// The etcd registry against a real etcd started by scripts/etcd.sh: the registry and rule store
// contracts, Dubbo's layout as another etcd client reads it, addresses, and what happens while
// etcd is down, when it comes back, and when it comes back empty.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { importOptional } from '../../src/core/optional-module.js';
import { Code, RpcError } from '../../src/index.js';
import { createEtcdRegistry, type EtcdRegistryOptions } from '../../src/registry/etcd.js';
import { openRegistry } from '../../src/registry/index.js';
import { providerUrl, type Provider } from '../../src/registry/provider.js';
import { ruleStoreContract } from '../rules/store-contract.js';
import { Recorder, makeProvider, registryContract, uniqueServiceName } from './contract.js';
import { etcdForFile, startEtcd } from './etcd-servers.js';

const { etcd } = etcdForFile();
const dir = mkdtempSync(join(tmpdir(), 'switchyard-etcd-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
/** Every key of this run starts with it: runs and files never meet. */
const PREFIX = `/switchyard-test-${Date.now().toString(36)}${process.pid}`;
const LEASE_S = 3;

registryContract('etcd', () => createEtcdRegistry(etcd().hosts, { prefix: PREFIX, leaseTtlS: LEASE_S, cacheFile: join(dir, 'contract-cache.json') }));
ruleStoreContract('etcd', () => createEtcdRegistry(etcd().hosts, { prefix: PREFIX, cacheFile: false, registerConsumers: false }));

let caches = 0;
async function open(t: TestContext, options: EtcdRegistryOptions = {}) {
  const registry = await createEtcdRegistry(etcd().hosts, {
    prefix: PREFIX, leaseTtlS: LEASE_S, dialTimeoutMs: 3000, cacheFile: join(dir, `cache-${++caches}.json`), ...options,
  });
  t.after(() => registry.close());
  return registry;
}

function watch(t: TestContext, registry: { subscribe(k: { name: string }, f: (p: Provider[]) => void): () => void }, name: string) {
  const recorder = new Recorder();
  t.after(registry.subscribe({ name }, recorder.onChange));
  return recorder;
}

/** A bare etcd3 client: another tool reading and writing the same etcd. */
async function plainClient(t: TestContext): Promise<Etcd3> {
  const { Etcd3: Client } = await importOptional<typeof import('etcd3')>('etcd3', 'the etcd registry tests');
  const client = new Client({ hosts: etcd().hosts });
  t.after(() => client.close());
  return client;
}

describe('etcd registry', () => {
  test('keys follow the Dubbo layout under the prefix, on a lease, and a plain etcd client reads them', async (t) => {
    const registry = await open(t);
    const service = uniqueServiceName('Layout');
    const provider = makeProvider(service, 22001, '&version=1.0.0&group=blue');
    await registry.register(provider);
    const seen = watch(t, registry, service);
    await seen.waitForUrls([providerUrl(provider)]);
    const plain = await plainClient(t);
    const key = `${PREFIX}/dubbo/${service}/providers/${encodeURIComponent(providerUrl(provider))}`;
    const stored = await plain.get(key).exec();
    assert.equal(stored.kvs.length, 1, `the provider's key ${key}`);
    assert.equal(stored.kvs[0]!.value.toString(), providerUrl(provider));
    assert.notEqual(stored.kvs[0]!.lease, '0', 'the key hangs on a lease');
    const consumers = await plain.getAll().prefix(`${PREFIX}/dubbo/${service}/consumers/`).strings();
    const urls = Object.values(consumers).map((url) => new URL(url));
    assert.equal(urls.length, 1);
    assert.equal(urls[0]!.protocol, 'consumer:');
    assert.equal(urls[0]!.searchParams.get('pid'), String(process.pid));
    assert.deepEqual(await registry.consumersOf(service), Object.values(consumers));
    assert.ok((await registry.services()).includes(service));
    assert.ok(!(await registry.services()).includes('config'), 'the rules folder is no service');
  });

  test('an entry written by another tool is listed; one that is no provider URL is skipped', async (t) => {
    const registry = await open(t);
    const plain = await plainClient(t);
    const service = uniqueServiceName('Foreign');
    const provider = makeProvider(service, 22011);
    const folder = `${PREFIX}/dubbo/${service}/providers/`;
    await plain.put(`${folder}${encodeURIComponent('not a url')}`).value('x');
    const seen = watch(t, registry, service);
    await seen.waitForUrls([]);
    await plain.put(`${folder}${encodeURIComponent(providerUrl(provider))}`).value(providerUrl(provider));
    await seen.waitForUrls([providerUrl(provider)], 'the entry another tool wrote');
  });

  test('an etcd:// address opens the registry; its options, prefix and credentials are read and its password never shown', async (t) => {
    const address = `etcd://${etcd().hosts.join(',')}${PREFIX}?leaseTtlS=${LEASE_S}&cacheFile=false&registerConsumers=false`;
    const { registry } = await openRegistry(address);
    t.after(() => registry.close());
    const service = uniqueServiceName('Address');
    const provider = makeProvider(service, 22021);
    await registry.register(provider);
    const plain = await plainClient(t);
    assert.deepEqual(await plain.getAll().prefix(`${PREFIX}/dubbo/${service}/`).keys(),
      [`${PREFIX}/dubbo/${service}/providers/${encodeURIComponent(providerUrl(provider))}`]);

    const refused = (error: unknown, pattern: RegExp) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT &&
      pattern.test(error.message) && !error.message.includes('s3cret');
    await assert.rejects(openRegistry('etcd://alice:s3cret@127.0.0.1:2379?leaseTTL=3'), (error) => refused(error, /unknown option "leaseTTL".*alice:\*\*\*@/));
    await assert.rejects(openRegistry('etcd://alice:s3cret@127.0.0.1:99999'), (error) => refused(error, /invalid member/));
    await assert.rejects(openRegistry('etcd://alice:s3cret@127.0.0.1:2379?leaseTtlS=0'), (error) => refused(error, /leaseTtlS/));
    await assert.rejects(openRegistry('etcd://'), (error) => refused(error, /use etcd:\/\/host:port/));
  });

  test('with etcd authentication on, a user works within its role; a wrong password is UNAUTHENTICATED, a key outside the role PERMISSION_DENIED', async (t) => {
    // An etcd of its own: turning authentication on would lock the other tests out of the shared one.
    const secured = await startEtcd();
    t.after(() => secured.stop());
    const { Etcd3: Client } = await importOptional<typeof import('etcd3')>('etcd3', 'the etcd registry tests');
    const admin = new Client({ hosts: secured.hosts });
    await admin.role('root').create();
    await (await admin.user('root').create('root-pw')).addRole('root');
    const role = await admin.role('team-a').create();
    await role.grant({ permission: 'Readwrite', range: admin.range({ prefix: '/team-a/' }) });
    await (await admin.user('alice').create('s3cret')).addRole('team-a');
    await admin.auth.authEnable();
    admin.close();

    const options = { cacheFile: false as const, dialTimeoutMs: 2000, leaseTtlS: LEASE_S };
    const alice = await createEtcdRegistry(secured.hosts, { ...options, prefix: '/team-a', credentials: { username: 'alice', password: 's3cret' } });
    t.after(() => alice.close());
    const service = uniqueServiceName('Secured');
    const provider = makeProvider(service, 22061);
    await alice.register(provider);
    await watch(t, alice, service).waitForUrls([providerUrl(provider)]);

    const wrong = await createEtcdRegistry(secured.hosts, { ...options, prefix: '/team-a', credentials: { username: 'alice', password: 'wrong' } });
    t.after(() => wrong.close());
    await assert.rejects(wrong.register(makeProvider(service, 22062)), (error) =>
      error instanceof RpcError && error.code === Code.UNAUTHENTICATED && !error.message.includes('wrong'));
    const outside = await createEtcdRegistry(secured.hosts, { ...options, prefix: '/team-b', credentials: { username: 'alice', password: 's3cret' } });
    t.after(() => outside.close());
    await assert.rejects(outside.register(makeProvider(service, 22063)), (error) => error instanceof RpcError && error.code === Code.PERMISSION_DENIED);
  });

  test('without the etcd3 package, opening an etcd registry fails with FAILED_PRECONDITION naming it', async () => {
    const hook = `export async function resolve(specifier, context, next) {
      if (specifier === 'etcd3') throw Object.assign(new Error("Cannot find package 'etcd3'"), { code: 'ERR_MODULE_NOT_FOUND' });
      return next(specifier, context);
    }`;
    const script = `
      import { register } from 'node:module';
      register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
      const { openRegistry } = await import(${JSON.stringify(new URL('../../src/registry/index.ts', import.meta.url).href)});
      await openRegistry('etcd://127.0.0.1:2379?cacheFile=false').then(() => console.log('opened'), (error) => console.log(JSON.stringify({ code: error.code, message: error.message })));
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await once(child, 'exit');
    assert.deepEqual(JSON.parse(output), { code: Code.FAILED_PRECONDITION, message: 'the etcd registry needs the package etcd3: npm install etcd3' });
  });

  test('while etcd is down subscribers keep their providers; once it is back, what changed meanwhile reaches them', async (t) => {
    const provider = await open(t, { dialTimeoutMs: 10_000 });
    const consumer = await open(t);
    const service = uniqueServiceName('Outage');
    const earlier = makeProvider(service, 22031);
    const during = makeProvider(service, 22032);
    await provider.register(earlier);
    const seen = watch(t, consumer, service);
    await seen.waitForUrls([providerUrl(earlier)]);
    await etcd().pause();
    t.after(() => etcd().resume().catch(() => undefined));
    const registering = provider.register(during);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(seen.urls(), [providerUrl(earlier)], 'the last list stays while etcd is down');
    await etcd().resume();
    const backAt = performance.now();
    await registering;
    await seen.waitForUrls([providerUrl(earlier), providerUrl(during)], 'the provider registered during the outage');
    console.log(`etcd: after a restart, the provider registered during the outage reached the subscriber ${Math.round(performance.now() - backAt)} ms after etcd was ready`);
  });

  test('an etcd that comes back empty (leases and keys gone) gets every entry written again, and later changes still reach subscribers', async (t) => {
    const provider = await open(t);
    const consumer = await open(t);
    const service = uniqueServiceName('Wiped');
    const entry = makeProvider(service, 22041);
    await provider.register(entry);
    const seen = watch(t, consumer, service);
    await seen.waitForUrls([providerUrl(entry)]);
    await etcd().wipe();
    // The lease is unknown to the new etcd: the registry takes a new one and writes its keys again.
    const plain = await plainClient(t);
    await waitForKeys(plain, `${PREFIX}/dubbo/${service}/providers/`, 1);
    await seen.waitForUrls([providerUrl(entry)], 'the entry written again');
    // The subscriber watches the new etcd from its own (lower) revision: later changes reach it too.
    const later = makeProvider(service, 22042);
    await provider.register(later);
    await seen.waitForUrls([providerUrl(entry), providerUrl(later)], 'a provider registered after etcd came back empty');
  });

  test('a consumer started while etcd is down is told the cached providers, then what etcd says', async (t) => {
    const cacheFile = join(dir, 'outage-cache.json');
    const provider = await open(t);
    const service = uniqueServiceName('Cached');
    const entry = makeProvider(service, 22051);
    await provider.register(entry);
    const first = await open(t, { cacheFile });
    await watch(t, first, service).waitForUrls([providerUrl(entry)]);
    await first.close();
    await etcd().pause();
    t.after(() => etcd().resume().catch(() => undefined));
    const second = await open(t, { cacheFile, cacheAfterMs: 200 });
    const seen = watch(t, second, service);
    await seen.waitForUrls([providerUrl(entry)], 'the cached provider');
    await etcd().resume();
    const added = makeProvider(service, 22052);
    await provider.register(added);
    await seen.waitForUrls([providerUrl(entry), providerUrl(added)], 'what etcd says once back');
  });
});

async function waitForKeys(client: Etcd3, prefix: string, count: number): Promise<void> {
  const until = Date.now() + 5000;
  while ((await client.getAll().prefix(prefix).keys()).length !== count) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${count} keys under ${prefix}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
