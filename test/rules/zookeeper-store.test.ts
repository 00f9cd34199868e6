// The ZooKeeper registry's rule store against a real ZooKeeper: the contract, Dubbo's layout, rules
// written by another ZooKeeper client (as Dubbo Admin writes them), and watches that outlive a
// server restart and a session expiry.
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { Code, RpcError } from '../../src/index.js';
import { openRegistry } from '../../src/registry/index.js';
import { providerUrl } from '../../src/registry/provider.js';
import { createZooKeeperRegistry, type ZooKeeperRegistryOptions } from '../../src/registry/zookeeper.js';
import { faultProxy } from '../../src/testing/index.js';
import { serviceRuleKey } from '../../src/rules/store-keys.js';
import type { RuleId } from '../../src/rules/types.js';
import { makeProvider, uniqueServiceName, waitFor } from '../registry/contract.js';
import { zooKeeperForFile } from '../support/zookeeper.js';
import { TextRecorder, invalidArgument, ruleStoreContract, uniqueKey } from './store-contract.js';

const SESSION_MS = 3000;
const FOLDER = '/dubbo/config/dubbo';
const { server } = zooKeeperForFile('switchyard-zk-rules-');

ruleStoreContract('zookeeper', () =>
  createZooKeeperRegistry(server().connectString, { sessionTimeoutMs: SESSION_MS, cacheFile: false, registerConsumers: false }));

async function open(t: TestContext, options: ZooKeeperRegistryOptions = {}, connectString = server().connectString) {
  const registry = await createZooKeeperRegistry(connectString, { sessionTimeoutMs: SESSION_MS, cacheFile: false, registerConsumers: false, ...options });
  t.after(() => registry.close());
  return registry;
}

/** A bare node-zookeeper-client session, promisified: another tool on the same ZooKeeper, as Dubbo Admin is. */
async function plainClient(t: TestContext) {
  const zkModule = 'node-zookeeper-client';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const lib: any = ((await import(zkModule)) as { default: unknown }).default;
  const client = lib.createClient(server().connectString, { sessionTimeout: SESSION_MS });
  t.after(() => client.close());
  await new Promise<void>((resolve) => {
    client.once('connected', resolve);
    client.connect();
  });
  const call = <T>(start: (cb: (error: unknown, value: T) => void) => void) =>
    new Promise<T>((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value))));
  return {
    data: (path: string) => call<Buffer>((cb) => client.getData(path, cb)).then((b) => b.toString('utf8')),
    ephemeralOwner: (path: string) => call<{ ephemeralOwner: Buffer } | null>((cb) => client.exists(path, cb)).then((stat) => stat?.ephemeralOwner.toString('hex')),
    exists: (path: string) => call<unknown>((cb) => client.exists(path, cb)).then((stat) => stat !== null),
    children: (path: string) => call<string[]>((cb) => client.getChildren(path, cb)),
    /** Creates a persistent node with `text`, and its missing parents, as Dubbo's config center does. */
    create: (path: string, text: string) => call<void>((cb) => client.mkdirp(path.slice(0, path.lastIndexOf('/')), cb))
      .then(() => call<void>((cb) => client.create(path, Buffer.from(text), lib.CreateMode.PERSISTENT, cb))),
    setData: (path: string, text: string) => call<void>((cb) => client.setData(path, Buffer.from(text), -1, cb)),
    remove: (path: string) => call<void>((cb) => client.remove(path, -1, cb)),
  };
}

/** A logger that keeps what it is told. */
function recordingLogger() {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (_obj: object, msg = '') => void lines.push({ level, msg });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('zookeeper rule store', () => {
  test('rules are persistent nodes /dubbo/config/dubbo/<key>.<kind> holding the text, as Dubbo\'s config center writes them', async (t) => {
    const registry = await open(t);
    const plain = await plainClient(t);
    const name = uniqueServiceName('Layout');
    const service: RuleId = { key: serviceRuleKey({ name, version: '1.0.0' }), kind: 'configurators' };
    assert.equal(service.key, `${name}:1.0.0:`);
    const text = 'configVersion: v3.0\nscope: service\nkey: café\n';
    await registry.rules.put(service, text);
    assert.equal(await plain.data(`${FOLDER}/${name}:1.0.0:.configurators`), text);
    assert.equal(await plain.ephemeralOwner(`${FOLDER}/${name}:1.0.0:.configurators`), '0000000000000000', 'persistent');
    // A key with "/" is written as Dubbo Admin writes it: "*" in its place.
    await registry.rules.put({ key: `blue/${name}:1.0.0`, kind: 'condition-router' }, 'force: false\n');
    assert.equal(await plain.data(`${FOLDER}/blue*${name}:1.0.0.condition-router`), 'force: false\n');
  });

  test('a rule written straight into ZooKeeper, as Dubbo Admin does, is seen by watch within 2 s, then its changes and removal', async (t) => {
    const registry = await open(t);
    const plain = await plainClient(t);
    const key = `${uniqueServiceName('Admin')}:1.0.0:`;
    const path = `${FOLDER}/${key}.condition-router`;
    const seen = new TextRecorder();
    t.after(registry.rules.watch({ key, kind: 'condition-router' }, seen.onChange));
    await seen.waitFor(undefined, 'absent first');
    await plain.create(path, 'scope: service\nforce: true\n');
    await seen.waitFor('scope: service\nforce: true\n', 'the rule Dubbo Admin wrote', 2000);
    assert.equal(await registry.rules.get({ key, kind: 'condition-router' }), 'scope: service\nforce: true\n');
    assert.ok((await registry.rules.list()).some((id) => id.key === key && id.kind === 'condition-router'));
    await plain.setData(path, 'scope: service\nforce: false\n');
    await seen.waitFor('scope: service\nforce: false\n', 'the changed rule', 2000);
    await plain.remove(path);
    await seen.waitFor(undefined, 'the removed rule', 2000);
  });

  test('list shows the rules of the folder only, decoding "*" back to "/"', async (t) => {
    const registry = await open(t);
    const plain = await plainClient(t);
    const prefix = uniqueKey('Foreign');
    await plain.create(`${FOLDER}/${prefix}.dubbo.properties`, 'dubbo.registry.address=zookeeper://127.0.0.1:2181\n');
    await plain.create(`${FOLDER}/${prefix}.script-router`, 'script: ...\n');
    await plain.create(`${FOLDER}/green*${prefix}.tag-router`, 'tags: []\n');
    const listed = (await registry.rules.list()).filter((id) => id.key.includes(prefix));
    assert.deepEqual(listed, [{ key: `green/${prefix}`, kind: 'tag-router' }]);
    assert.equal(await registry.rules.get({ key: `green/${prefix}`, kind: 'tag-router' }), 'tags: []\n');
  });

  test('the folder follows the registry root, rulesPath moves it, and services() does not list it', async (t) => {
    const plain = await plainClient(t);
    const id: RuleId = { key: uniqueKey('Root'), kind: 'tag-router' };
    const rooted = await open(t, { root: '/switchyard-rules' });
    await rooted.rules.put(id, 'a: 1\n');
    assert.equal(await plain.data(`/switchyard-rules/config/switchyard-rules/${id.key}.tag-router`), 'a: 1\n');
    const service = uniqueServiceName('Listed');
    await rooted.register(makeProvider(service, 23101));
    assert.deepEqual(await rooted.services(), [service]);

    const { registry } = await openRegistry(`zookeeper://${server().connectString}/?rulesPath=/switchyard-custom/rules&cacheFile=false`);
    t.after(() => registry.close());
    await registry.rules!.put(id, 'b: 2\n');
    assert.equal(await plain.data(`/switchyard-custom/rules/${id.key}.tag-router`), 'b: 2\n');
    for (const rulesPath of ['relative', '/trailing/', '/a//b', '/a/../b']) {
      await assert.rejects(open(t, { rulesPath }), invalidArgument, rulesPath);
    }
  });

  test('a watch outlives a ZooKeeper restart and follows what was written after it', async (t) => {
    const zookeeper = server();
    const registry = await open(t);
    const id: RuleId = { key: uniqueKey('Restart'), kind: 'configurators' };
    const seen = new TextRecorder();
    t.after(registry.rules.watch(id, seen.onChange));
    await registry.rules.put(id, 'v: 1\n');
    await seen.waitFor('v: 1\n');
    await zookeeper.pause();
    t.after(() => zookeeper.resume().catch(() => {}));
    await zookeeper.resume();
    const plain = await plainClient(t);
    await plain.setData(`${FOLDER}/${id.key}.configurators`, 'v: 2\n');
    await seen.waitFor('v: 2\n', 'the change after the restart', 15_000);
    assert.deepEqual(seen.calls, [undefined, 'v: 1\n', 'v: 2\n'], 'the outage told the watcher nothing');
  });

  test('a watch outlives the expiry of the session and catches up with what changed meanwhile', async (t) => {
    // ZooKeeper out of reach while the server runs on, so that it expires the session.
    const relay = await faultProxy({ target: `tcp://127.0.0.1:${server().port}` });
    t.after(() => relay.close());
    const { lines, logger } = recordingLogger();
    const registry = await open(t, { sessionTimeoutMs: 2000, logger }, relay.address.replace('tcp://', ''));
    const plain = await plainClient(t);
    const id: RuleId = { key: uniqueKey('Expiry'), kind: 'condition-router' };
    const path = `${FOLDER}/${id.key}.condition-router`;
    const seen = new TextRecorder();
    t.after(registry.rules.watch(id, seen.onChange));
    await plain.create(path, 'v: 1\n');
    await seen.waitFor('v: 1\n');
    // An ephemeral node of the session shows when the server has expired it.
    const provider = makeProvider(uniqueServiceName('Expiry'), 23201);
    await registry.register(provider);
    const node = `/dubbo/${provider.service.name}/providers/${encodeURIComponent(providerUrl(provider))}`;
    assert.equal(await plain.exists(node), true);

    relay.faults.update({ dead: true });
    await waitFor(() => lines.some((line) => /disconnected from ZooKeeper/.test(line.msg)), 'the registry to lose its connection');
    let expired = false;
    await waitFor(() => {
      void plain.exists(node).then((exists) => (expired ||= !exists));
      return expired;
    }, 'the server to expire the session', 15_000);
    await plain.setData(path, 'v: 2\n');
    relay.faults.update({ dead: false });
    await seen.waitFor('v: 2\n', 'the change made while the session expired', 15_000);
    assert.ok(lines.some((line) => /session expired/.test(line.msg)), 'it was a new session');
    await plain.setData(path, 'v: 3\n');
    await seen.waitFor('v: 3\n', 'a change on the new session', 5000);
    assert.deepEqual(seen.calls, [undefined, 'v: 1\n', 'v: 2\n', 'v: 3\n']);
  });

  test('a refused put reports PERMISSION_DENIED when the folder is locked by another credential', async (t) => {
    const owner = await open(t, { rulesPath: `/switchyard-locked-${process.pid}`, credentials: { username: 'owner', password: 'secret' } });
    await owner.rules.put({ key: 'shop-app', kind: 'tag-router' }, 'tags: []\n');
    const stranger = await open(t, { rulesPath: `/switchyard-locked-${process.pid}` });
    assert.equal(await stranger.rules.get({ key: 'shop-app', kind: 'tag-router' }), 'tags: []\n', 'anyone may read');
    await assert.rejects(stranger.rules.put({ key: 'shop-app', kind: 'tag-router' }, 'tags: [planted]\n'),
      (error: unknown) => error instanceof RpcError && error.code === Code.PERMISSION_DENIED);
    await assert.rejects(stranger.rules.put({ key: 'other-app', kind: 'tag-router' }, 'tags: []\n'),
      (error: unknown) => error instanceof RpcError && error.code === Code.PERMISSION_DENIED);
  });
});
