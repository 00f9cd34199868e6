import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Code, RpcError } from '../../src/index.js';
import { providerUrl, type Provider } from '../../src/registry/provider.js';
import { createZooKeeperRegistry, type ZooKeeperRegistryOptions } from '../../src/registry/zookeeper.js';
import { zooKeeperForFile } from '../support/zookeeper.js';
import { Recorder, makeProvider, registryContract, uniqueServiceName, waitFor } from './contract.js';

const SESSION_MS = 3000;
const { server, dir } = zooKeeperForFile('switchyard-zk-test-');

registryContract('zookeeper', () =>
  createZooKeeperRegistry(server().connectString, { sessionTimeoutMs: SESSION_MS, cacheFile: join(dir, 'contract-cache.json') }));

let caches = 0;
async function open(t: TestContext, options: ZooKeeperRegistryOptions = {}) {
  const registry = await createZooKeeperRegistry(server().connectString, {
    sessionTimeoutMs: SESSION_MS, connectTimeoutMs: 5000, cacheFile: join(dir, `cache-${++caches}.json`), ...options,
  });
  t.after(() => registry.close());
  return registry;
}

function watch(t: TestContext, registry: { subscribe(k: { name: string }, f: (p: Provider[]) => void): () => void }, name: string) {
  const recorder = new Recorder();
  t.after(registry.subscribe({ name }, recorder.onChange));
  return recorder;
}

/** A bare node-zookeeper-client session, promisified: what another tool reading the registry sees. */
interface Plain {
  children(path: string): Promise<string[]>;
  data(path: string): Promise<string>;
  ephemeralOwner(path: string): Promise<string | undefined>;
  create(path: string, ephemeral: boolean): Promise<void>;
  close(): void;
}
async function plainClient(t: TestContext): Promise<Plain> {
  const zkModule = 'node-zookeeper-client';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const lib: any = ((await import(zkModule)) as { default: unknown }).default;
  const client = lib.createClient(server().connectString, { sessionTimeout: SESSION_MS });
  let closed = false;
  const close = () => {
    if (!closed) client.close();
    closed = true;
  };
  t.after(close);
  await new Promise<void>((resolve) => {
    client.once('connected', resolve);
    client.connect();
  });
  const call = <T>(start: (cb: (error: unknown, value: T) => void) => void) =>
    new Promise<T>((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value))));
  return {
    children: (path) => call((cb) => client.getChildren(path, cb)),
    data: (path) => call<Buffer>((cb) => client.getData(path, cb)).then((b) => b.toString()),
    ephemeralOwner: (path) => call<{ ephemeralOwner: Buffer } | null>((cb) => client.exists(path, cb))
      .then((stat) => stat?.ephemeralOwner.toString('hex')),
    create: (path, ephemeral) => call<void>((cb) => client.mkdirp(path.slice(0, path.lastIndexOf('/')), cb))
      .then(() => call<void>((cb) => client.create(path, ephemeral ? lib.CreateMode.EPHEMERAL : lib.CreateMode.PERSISTENT, cb))),
    close,
  };
}

const moduleUrl = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
const childScript = `
const { createZooKeeperRegistry } = await import(${moduleUrl('../../src/registry/zookeeper.ts')});
const { parseProviderUrl, providerUrl } = await import(${moduleUrl('../../src/registry/provider.ts')});
const [connectString, url, watched, cacheFile] = process.argv.slice(1);
const registry = await createZooKeeperRegistry(connectString, { sessionTimeoutMs: 2000, cacheFile });
registry.subscribe({ name: watched }, (list) => console.log(JSON.stringify(list.map(providerUrl).sort())));
await registry.register(parseProviderUrl(url));
console.log('"registered"');
setInterval(() => {}, 1000);
process.on('SIGTERM', () => registry.close().then(() => process.exit(0)));
`;

/**
 * Another process with a 2 s session: it registers `provider` and subscribes to `watched`.
 * `lists` holds what its subscriber was told (sorted URLs). Killed when the test ends.
 */
async function startChild(t: TestContext, provider: Provider, watched = provider.service.name) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', childScript,
    server().connectString, providerUrl(provider), watched, join(dir, 'child-cache.json')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
    await exited;
  });
  const lists: string[][] = [];
  let registered = false;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const value = JSON.parse(line) as unknown;
    if (value === 'registered') registered = true;
    else lists.push(value as string[]);
  });
  await Promise.race([
    waitFor(() => registered, 'the child to register its provider', 15_000),
    exited.then(() => assert.fail('the child exited')),
  ]);
  return { child, lists };
}

describe('zookeeper registry', () => {
  test('nodes follow the Dubbo layout and a plain ZooKeeper client can read them', async (t) => {
    const registry = await open(t);
    const service = uniqueServiceName('Layout');
    const provider = makeProvider(service, 22001, '&version=1.0.0&group=blue');
    await registry.register(provider);
    const seen = watch(t, registry, service);
    await seen.waitForUrls([providerUrl(provider)]);
    const plain = await plainClient(t);
    const providers = `/dubbo/${service}/providers`;
    assert.deepEqual(await plain.children(providers), [encodeURIComponent(providerUrl(provider))]);
    assert.equal(await plain.data(`${providers}/${encodeURIComponent(providerUrl(provider))}`), providerUrl(provider));
    assert.notEqual(await plain.ephemeralOwner(`${providers}/${encodeURIComponent(providerUrl(provider))}`), '0000000000000000');
    let consumers: string[] = [];
    for (let i = 0; i < 100 && consumers.length === 0; i++) {
      if (i > 0) await sleep(50);
      consumers = (await plain.children(`/dubbo/${service}/consumers`).catch(() => [])).map(decodeURIComponent);
    }
    assert.equal(consumers.length, 1);
    const consumer = new URL(consumers[0]!);
    assert.equal(consumer.protocol, 'consumer:');
    assert.equal(consumer.pathname, `/${service}`);
    assert.equal(consumer.searchParams.get('side'), 'consumer');
    assert.equal(consumer.searchParams.get('pid'), String(process.pid));
  });

  test('the root option moves the whole layout', async (t) => {
    const registry = await open(t, { root: '/switchyard-test' });
    const service = uniqueServiceName('Rooted');
    const provider = makeProvider(service, 22011);
    await registry.register(provider);
    const plain = await plainClient(t);
    assert.deepEqual(await plain.children(`/switchyard-test/${service}/providers`), [encodeURIComponent(providerUrl(provider))]);
  });

  test('children that are not provider URLs are skipped', async (t) => {
    const registry = await open(t);
    const service = uniqueServiceName('Garbage');
    const provider = makeProvider(service, 22021);
    const plain = await plainClient(t);
    await plain.create(`/dubbo/${service}/providers/not-a-url`, true);
    await plain.create(`/dubbo/${service}/providers/%E0%A4%A`, true);
    await plain.create(`/dubbo/${service}/providers/${encodeURIComponent('tcp://127.0.0.1/no-port')}`, true);
    await registry.register(provider);
    const seen = watch(t, registry, service);
    await seen.waitForUrls([providerUrl(provider)]);
  });

  test('a provider node left by an earlier session is taken over, so it outlives that session', async (t) => {
    const registry = await open(t);
    const service = uniqueServiceName('TakeOver');
    const provider = makeProvider(service, 22031);
    const path = `/dubbo/${service}/providers/${encodeURIComponent(providerUrl(provider))}`;
    const earlier = await plainClient(t);
    await earlier.create(path, true);
    const before = await earlier.ephemeralOwner(path);
    await registry.register(provider);
    const reader = await plainClient(t);
    assert.notEqual(await reader.ephemeralOwner(path), before);
    earlier.close();
    const seen = watch(t, await open(t), service);
    await seen.waitForUrls([providerUrl(provider)]);
    await sleep(500);
    assert.deepEqual(await reader.children(`/dubbo/${service}/providers`), [encodeURIComponent(providerUrl(provider))]);
  });

  test('the node of a provider whose process is SIGKILLed disappears when its session expires', async (t) => {
    const registry = await open(t);
    const service = uniqueServiceName('Crash');
    const provider = makeProvider(service, 22041);
    const seen = watch(t, registry, service);
    const { child } = await startChild(t, provider);
    await seen.waitForUrls([providerUrl(provider)], 'the child provider');
    child.kill('SIGKILL');
    await waitFor(() => seen.urls()?.length === 0, 'the node to expire', 15_000);
  });

  test('after its session expired a registry registers again and its subscriptions follow changes again', async (t) => {
    const registry = await open(t);
    const service = uniqueServiceName('Expiry');
    const provider = makeProvider(service, 22051);
    const seen = watch(t, registry, service);
    const { child, lists } = await startChild(t, provider);
    await seen.waitForUrls([providerUrl(provider)], 'the child provider');
    // Frozen past its 2 s session: the server expires the session and deletes its node.
    child.kill('SIGSTOP');
    await waitFor(() => seen.urls()?.length === 0, 'the frozen provider to expire', 15_000);
    const meanwhile = makeProvider(service, 22052);
    await registry.register(meanwhile);
    child.kill('SIGCONT');
    await seen.waitForUrls([providerUrl(provider), providerUrl(meanwhile)], 'the provider to be registered again');
    const childSees = (urls: string[]) => waitFor(() => JSON.stringify(lists.at(-1)) === JSON.stringify(urls.sort()),
      `the child to see ${urls.join(' ')}`, 10_000);
    await childSees([providerUrl(provider), providerUrl(meanwhile)]);
    // A change after the new session proves the child's watch was set again, not just read once.
    const later = makeProvider(service, 22053);
    await registry.register(later);
    await childSees([providerUrl(provider), providerUrl(meanwhile), providerUrl(later)]);
  });

  test('while ZooKeeper is down subscribers keep their providers, a new registry reads the cache, and all recover', async (t) => {
    const zookeeper = server();
    const cacheFile = join(dir, 'outage-cache.json');
    const provider = await open(t, { connectTimeoutMs: 1000 });
    const consumer = await open(t, { cacheFile });
    const service = uniqueServiceName('Outage');
    const first = makeProvider(service, 22061);
    const second = makeProvider(service, 22062);
    await provider.register(first);
    const seen = watch(t, consumer, service);
    await seen.waitForUrls([providerUrl(first)]);
    await waitFor(() => readCache(cacheFile)[service]?.[0] === providerUrl(first), 'the cache file to hold the provider');

    await zookeeper.pause();
    t.after(() => zookeeper.resume().catch(() => {}));
    const late = await open(t, { cacheFile, connectTimeoutMs: 1000 });
    const seenLate = watch(t, late, service);
    await seenLate.waitForUrls([providerUrl(first)], 'the new registry to read the cache');
    const started = Date.now();
    await assert.rejects(late.register(makeProvider(service, 22063)), (error: unknown) =>
      error instanceof RpcError && error.code === Code.UNAVAILABLE);
    assert.ok(Date.now() - started < 5000, 'register gives up after connectTimeoutMs');
    await provider.unregister(first);
    await sleep(500);
    assert.deepEqual(seen.urls(), [providerUrl(first)]);
    assert.ok(seen.calls.every((list) => list.length > 0), 'no empty list because of the outage');

    await zookeeper.resume();
    await provider.register(second);
    await seen.waitForUrls([providerUrl(second)], 'the old subscriber to see the change');
    await seenLate.waitForUrls([providerUrl(second)], 'the new subscriber to see the change');
    await waitFor(() => readCache(cacheFile)[service]?.join() === providerUrl(second), 'the cache file to follow');
  });

  test('register and ready fail with UNAVAILABLE after connectTimeoutMs when no ZooKeeper answers', async (t) => {
    const nowhere = await createZooKeeperRegistry(`127.0.0.1:${await closedPort()}`, { connectTimeoutMs: 300, cacheFile: false });
    t.after(() => nowhere.close());
    const unavailable = (error: unknown) => error instanceof RpcError && error.code === Code.UNAVAILABLE;
    await assert.rejects(nowhere.ready(), unavailable);
    const started = Date.now();
    await assert.rejects(nowhere.register(makeProvider(uniqueServiceName('Nowhere'), 22071)), unavailable);
    assert.ok(Date.now() - started < 3000, 'register gives up after about connectTimeoutMs');
  });

  test('a register issued while ZooKeeper is down completes when it comes back in time', async (t) => {
    const zookeeper = server();
    const registry = await open(t, { connectTimeoutMs: 20_000 });
    await registry.ready();
    const service = uniqueServiceName('Waiting');
    const provider = makeProvider(service, 22081);
    await zookeeper.pause();
    t.after(() => zookeeper.resume().catch(() => {}));
    let settled = false;
    const pending = registry.register(provider).finally(() => (settled = true));
    await sleep(500);
    assert.equal(settled, false, 'register waits while ZooKeeper is down');
    await zookeeper.resume();
    await pending;
    const seen = watch(t, await open(t), service);
    await seen.waitForUrls([providerUrl(provider)]);
  });

  test('a connection ZooKeeper accepts but never answers is dropped and tried again, keeping the session', async (t) => {
    const relay = await stallingRelay();
    relay.stallNext();
    // A longer session than the other tests': the reconnection below must resume it, not outlive it.
    const registry = await createZooKeeperRegistry(relay.connectString, { sessionTimeoutMs: 6000, connectTimeoutMs: 5000, cacheFile: false });
    // The registry first: it ends its session through the relay.
    t.after(() => registry.close().finally(relay.close));
    await registry.ready();
    assert.equal(relay.stalled(), 1, 'the first connection was held unanswered');
    const service = uniqueServiceName('Unanswered');
    const first = makeProvider(service, 22091);
    const second = makeProvider(service, 22092);
    const nodePath = (provider: Provider) => `/dubbo/${service}/providers/${encodeURIComponent(providerUrl(provider))}`;
    await registry.register(first);
    const plain = await plainClient(t);
    const session = await plain.ephemeralOwner(nodePath(first));
    assert.ok(session);

    relay.stallNext();
    relay.cut();
    await registry.register(second);
    assert.equal(relay.stalled(), 2, 'the reconnection was held unanswered');
    assert.equal(await plain.ephemeralOwner(nodePath(first)), session, 'the node of the resumed session stayed');
    assert.equal(await plain.ephemeralOwner(nodePath(second)), session);
  });
});

/**
 * A TCP relay to the test ZooKeeper. After `stallNext()` it accepts the next connection and reads it
 * but never answers nor closes it, as a ZooKeeper that is starting sometimes does; `cut()` closes the
 * connections it relays, as a ZooKeeper that stops does.
 */
async function stallingRelay() {
  const upstreamPort = server().port;
  const relayed = new Set<Socket>();
  const held = new Set<Socket>();
  let stallNext = false;
  let stalled = 0;
  const relay = createServer((socket) => {
    socket.on('error', () => {});
    if (stallNext) {
      stallNext = false;
      stalled++;
      held.add(socket);
      socket.on('close', () => held.delete(socket));
      socket.resume();
      return;
    }
    const upstream = connect(upstreamPort, '127.0.0.1');
    upstream.on('error', () => {});
    for (const [from, to] of [[socket, upstream], [upstream, socket]] as const) {
      relayed.add(from);
      from.pipe(to);
      from.on('close', () => {
        relayed.delete(from);
        to.destroy();
      });
    }
  }).listen(0, '127.0.0.1');
  await once(relay, 'listening');
  return {
    connectString: `127.0.0.1:${(relay.address() as AddressInfo).port}`,
    stallNext: () => void (stallNext = true),
    stalled: () => stalled,
    cut: () => {
      for (const socket of relayed) socket.destroy();
    },
    close: async () => {
      for (const socket of [...relayed, ...held]) socket.destroy();
      await new Promise((resolve) => relay.close(resolve));
    },
  };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function readCache(file: string): Record<string, string[]> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string[]>;
  } catch {
    return {};
  }
}
