// ZooKeeper ACLs with digest credentials, on a real ZooKeeper: a registry given `user:password`
// writes its nodes so that only that credential may change them, and a forged provider written by
// a client without it is refused.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { Code, RpcError, createClient, createServer, defineService } from '../../src/index.js';
import type { Logger } from '../../src/core/logger.js';
import { openRegistry } from '../../src/registry/index.js';
import { parseProviderUrl, providerUrl } from '../../src/registry/provider.js';
import type { Registry } from '../../src/registry/registry.js';
import { digestId } from '../../src/registry/zookeeper-acl.js';
import { maskRegistryAddress } from '../../src/registry/zookeeper-address.js';
import { Recorder, waitFor } from '../registry/contract.js';
import { zooKeeperForFile } from '../support/zookeeper.js';

const { server: zooKeeper, dir } = zooKeeperForFile('switchyard-zk-acl-');
const PASSWORD = 'pa55-w0rd!';
const ALICE = { username: 'alice', password: PASSWORD };
const NO_AUTH = -102;
const READ = 1, WRITE = 2, CREATE = 4, DELETE = 8, ALL = 31;

interface Who {
  who(): Promise<string>;
}

let roots = 0;
/** A registry root of its own per test, so that one test's locked tree cannot get in another's way. */
const freshRoot = () => `/acl-${process.pid}-${++roots}`;

/** Every record a logger was given, to check what reaches logs. */
class RecordingLogger implements Logger {
  readonly records: Array<{ level: string; obj: object; msg?: string }> = [];
  debug = (obj: object, msg?: string) => void this.records.push({ level: 'debug', obj, msg });
  info = (obj: object, msg?: string) => void this.records.push({ level: 'info', obj, msg });
  warn = (obj: object, msg?: string) => void this.records.push({ level: 'warn', obj, msg });
  error = (obj: object, msg?: string) => void this.records.push({ level: 'error', obj, msg });
  text(): string {
    return this.records.map((record) => `${record.msg ?? ''} ${JSON.stringify(record.obj, (_, value: unknown) => (value instanceof Error ? `${value.name}: ${value.message}` : value))}`).join('\n');
  }
}

/** `zookeeper://` spec of the test's ZooKeeper, with credentials when given. */
function spec(root: string, name: string, credentials?: { username: string; password: string }): string {
  const auth = credentials ? `${encodeURIComponent(credentials.username)}:${encodeURIComponent(credentials.password)}@` : '';
  return `zookeeper://${auth}${zooKeeper().connectString}${root}?sessionTimeoutMs=4000&cacheFile=${encodeURIComponent(join(dir, `${name}.json`))}`;
}

async function openSpec(t: TestContext, address: string, logger?: Logger): Promise<Registry> {
  const { registry } = await openRegistry(address, logger);
  t.after(() => registry.close());
  return registry;
}

/** A bare node-zookeeper-client session, with a digest credential or none: what another process could do. */
interface Plain {
  /** Creates a node that grants `world:anyone` these permissions (default all), like ZooKeeper's open ACL. */
  create(path: string, anyoneMay?: number): Promise<void>;
  remove(path: string): Promise<void>;
  children(path: string): Promise<string[]>;
  acl(path: string): Promise<Array<{ permission: number; scheme: string; id: string }>>;
}
async function plainClient(t: TestContext, credentials?: { username: string; password: string }): Promise<Plain> {
  const zkModule = 'node-zookeeper-client';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the package ships no types
  const lib: any = ((await import(zkModule)) as { default: unknown }).default;
  const client = lib.createClient(zooKeeper().connectString, { sessionTimeout: 4000 });
  if (credentials) client.addAuthInfo('digest', Buffer.from(`${credentials.username}:${credentials.password}`));
  t.after(() => client.close());
  await new Promise<void>((resolve) => {
    client.once('connected', resolve);
    client.connect();
  });
  const call = <T>(start: (cb: (error: unknown, value: T) => void) => void) =>
    new Promise<T>((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value))));
  return {
    create: (path, anyoneMay = ALL) =>
      call((cb) => client.create(path, Buffer.from('forged'), [new lib.ACL(anyoneMay, lib.Id.ANYONE_ID_UNSAFE)], lib.CreateMode.PERSISTENT, cb)),
    remove: (path) => call((cb) => client.remove(path, -1, cb)),
    children: (path) => call((cb) => client.getChildren(path, cb)),
    acl: (path) => call<Array<{ permission: number; id: { scheme: string; id: string } }>>((cb) => client.getACL(path, cb))
      .then((acls) => acls.map((acl) => ({ permission: acl.permission, scheme: acl.id.scheme, id: acl.id.id }))),
  };
}

/** Rejects with ZooKeeper's NO_AUTH. */
async function refusedByZooKeeper(operation: Promise<unknown>, what: string): Promise<void> {
  await assert.rejects(operation, (error: { getCode?: () => number }) => error.getCode?.() === NO_AUTH, `${what} should be refused with NO_AUTH`);
}

/** The ACL every node a credentialed registry writes carries. */
const lockedAcl = (credentials = ALICE) => [
  { permission: ALL, scheme: 'digest', id: digestId(credentials) },
  { permission: READ, scheme: 'world', id: 'anyone' },
];
const byScheme = (acls: Array<{ scheme: string }>) => [...acls].sort((a, b) => a.scheme.localeCompare(b.scheme));

describe('ZooKeeper registry with digest credentials', () => {
  test('a forged provider written without credentials is refused, the real one cannot be deleted, and consumers see only the real one', async (t) => {
    const root = freshRoot();
    const Service = defineService<Who>(`test.acl.Who${roots}`, { methods: { who: {} } });
    const logger = new RecordingLogger();
    let calls = 0;
    const provider = createServer({ listen: ['tcp://127.0.0.1:0'], registry: spec(root, 'provider', ALICE), warmupMs: 0, logger });
    provider.provide(Service, { who: async () => `real ${++calls}` });
    await provider.listen();
    t.after(() => provider.close({ timeoutMs: 1000 }));

    const providers = `${root}/${Service.key.name}/providers`;
    const stranger = await plainClient(t);
    const [entry] = await stranger.children(providers);
    assert.ok(entry !== undefined, 'the provider is registered');
    const realUrl = decodeURIComponent(entry);
    const colleague = await plainClient(t, ALICE);
    for (const path of [root, `${root}/${Service.key.name}`, providers, `${providers}/${entry}`]) {
      assert.deepEqual(byScheme(await colleague.acl(path)), lockedAcl(), `ACL of ${path}`);
    }

    // What a process without the credentials would write to steer consumers to itself.
    const forged = providerUrl(parseProviderUrl(`tcp://127.0.0.1:1/${Service.key.name}?methods=who&timestamp=${Date.now()}`));
    await refusedByZooKeeper(stranger.create(`${providers}/${encodeURIComponent(forged)}`), 'a forged provider without credentials');
    await refusedByZooKeeper(stranger.remove(`${providers}/${entry}`), 'deleting the real provider without credentials');
    await refusedByZooKeeper(stranger.create(`${root}/test.acl.Elsewhere`), 'a new service path without credentials');
    const impostor = await plainClient(t, { username: 'alice', password: 'guessed' });
    await refusedByZooKeeper(impostor.create(`${providers}/${encodeURIComponent(forged)}`), 'a forged provider with a wrong password');
    await refusedByZooKeeper(impostor.remove(`${providers}/${entry}`), 'deleting the real provider with a wrong password');
    assert.deepEqual(await stranger.children(providers), [entry]);

    // A consumer needs no credentials to read, and is told of the real provider alone.
    const consumerRegistry = await openSpec(t, spec(root, 'consumer'));
    const seen = new Recorder();
    t.after(consumerRegistry.subscribe(Service.key, seen.onChange));
    await seen.waitForUrls([providerUrl(parseProviderUrl(realUrl))]);
    const client = createClient({ registry: spec(root, 'client') });
    t.after(() => client.close());
    assert.equal(await client.proxy(Service).who(), 'real 1');

    assert.ok(!logger.text().includes(PASSWORD), 'the password never reaches the logs');
  });

  test('a registry with wrong credentials cannot register under the locked tree, and says where it was refused', async (t) => {
    const root = freshRoot();
    const name = `test.acl.Locked${roots}`;
    const owner = await openSpec(t, spec(root, 'owner', ALICE));
    await owner.register(parseProviderUrl(`tcp://127.0.0.1:20001/${name}?methods=who&timestamp=1`));

    const logger = new RecordingLogger();
    const wrong = await openSpec(t, spec(root, 'wrong', { username: 'alice', password: 'not-it' }), logger);
    await assert.rejects(wrong.register(parseProviderUrl(`tcp://127.0.0.1:20002/${name}?methods=who&timestamp=2`)), (error: RpcError) => {
      assert.equal(error.code, Code.PERMISSION_DENIED);
      assert.match(error.message, new RegExp(`ZooKeeper refused to create ${root}/${name.replaceAll('.', '\\.')}/providers/`));
      assert.ok(!error.message.includes('not-it'), 'the password is not in the message');
      return true;
    });
    const anonymous = await openSpec(t, spec(root, 'anonymous'));
    await assert.rejects(anonymous.register(parseProviderUrl(`tcp://127.0.0.1:20003/${name}?methods=who&timestamp=3`)), { code: Code.PERMISSION_DENIED });
    const stranger = await plainClient(t);
    assert.equal((await stranger.children(`${root}/${name}/providers`)).length, 1);
    assert.ok(!logger.text().includes('not-it'));
  });

  test('paths that let anyone write are tightened, entries already there are reported, and a path it may not change is named in a warning', async (t) => {
    const root = freshRoot();
    const name = `test.acl.Open${roots}`;
    const stranger = await plainClient(t);
    // A tree written before any credentials were used, with an entry nobody can vouch for.
    await stranger.create(root);
    await stranger.create(`${root}/${name}`);
    await stranger.create(`${root}/${name}/providers`);
    const early = providerUrl(parseProviderUrl(`tcp://127.0.0.1:1/${name}?methods=who&timestamp=1`));
    await stranger.create(`${root}/${name}/providers/${encodeURIComponent(early)}`);

    const logger = new RecordingLogger();
    const registry = await openSpec(t, spec(root, 'tighten', ALICE), logger);
    await registry.register(parseProviderUrl(`tcp://127.0.0.1:20011/${name}?methods=who&timestamp=2`));
    const colleague = await plainClient(t, ALICE);
    for (const path of [root, `${root}/${name}`, `${root}/${name}/providers`]) {
      assert.deepEqual(byScheme(await colleague.acl(path)), lockedAcl(), `ACL of ${path}`);
      assert.ok(logger.records.some((record) => record.level === 'info' && (record.obj as { path?: string }).path === path && /tightened/.test(record.msg ?? '')), `tightening ${path} is logged`);
    }
    assert.ok(logger.records.some((record) => record.level === 'warn' && (record.obj as { path?: string }).path === `${root}/${name}/providers` && /entries already there/.test(record.msg ?? '')));
    const later = providerUrl(parseProviderUrl(`tcp://127.0.0.1:2/${name}?methods=who&timestamp=3`));
    await refusedByZooKeeper(stranger.create(`${root}/${name}/providers/${encodeURIComponent(later)}`), 'a forged provider after tightening');

    // Anyone may write here but nobody may change the ACL (no ADMIN bit): the registry says so by name.
    const stubborn = `${root}/test.acl.Stubborn${roots}`;
    await colleague.create(stubborn, READ | WRITE | CREATE | DELETE);
    await registry.register(parseProviderUrl(`tcp://127.0.0.1:20012/test.acl.Stubborn${roots}?methods=who&timestamp=4`));
    assert.ok(logger.records.some((record) => record.level === 'warn' && (record.obj as { path?: string }).path === stubborn && /cannot change its ACL/.test(record.msg ?? '')));
    assert.ok(!logger.text().includes(PASSWORD));
  });

  test('after ZooKeeper restarts, the reconnected registry is authenticated again and still writes under its locked tree', async (t) => {
    const root = freshRoot();
    const registry = await openSpec(t, spec(root, 'restart', ALICE));
    await registry.register(parseProviderUrl(`tcp://127.0.0.1:20021/test.acl.Before${roots}?methods=who&timestamp=1`));
    await zooKeeper().restart();
    const after = `test.acl.After${roots}`;
    await registry.register(parseProviderUrl(`tcp://127.0.0.1:20022/${after}?methods=who&timestamp=2`));
    const colleague = await plainClient(t, ALICE);
    assert.equal((await colleague.children(`${root}/${after}/providers`)).length, 1);
    assert.deepEqual(byScheme(await colleague.acl(`${root}/${after}/providers`)), lockedAcl());
  });

  test('a consumer without credentials waits for a service path it may not create, and sees the provider once it registers', async (t) => {
    const root = freshRoot();
    const owner = await openSpec(t, spec(root, 'early-owner', ALICE));
    await owner.register(parseProviderUrl(`tcp://127.0.0.1:20031/test.acl.First${roots}?methods=who&timestamp=1`));
    const name = `test.acl.Later${roots}`;
    const consumer = await openSpec(t, spec(root, 'waiting-consumer'));
    const seen = new Recorder();
    t.after(consumer.subscribe({ name }, seen.onChange));
    await waitFor(() => seen.calls.length > 0, 'the consumer to be told there is no provider yet');
    assert.deepEqual(seen.urls(), []);
    const provider = parseProviderUrl(`tcp://127.0.0.1:20032/${name}?methods=who&timestamp=2`);
    await owner.register(provider);
    await seen.waitForUrls([providerUrl(provider)]);
  });

  test('the password is masked wherever an address is shown', async () => {
    assert.equal(maskRegistryAddress('zookeeper://alice:s%40cret@127.0.0.1:2181,127.0.0.2:2181/dubbo?sessionTimeoutMs=1'),
      'zookeeper://alice:***@127.0.0.1:2181,127.0.0.2:2181/dubbo?sessionTimeoutMs=1');
    assert.equal(maskRegistryAddress('zookeeper://127.0.0.1:2181/dubbo'), 'zookeeper://127.0.0.1:2181/dubbo');
    await assert.rejects(openRegistry(`zookeper://alice:${PASSWORD}@127.0.0.1:2181`), (error: RpcError) => {
      assert.equal(error.code, Code.INVALID_ARGUMENT);
      assert.match(error.message, /alice:\*\*\*@127\.0\.0\.1:2181/);
      assert.ok(!error.message.includes(PASSWORD), error.message);
      return true;
    });
    await assert.rejects(openRegistry('zookeeper://alice:@127.0.0.1:2181'), (error: RpcError) => {
      assert.equal(error.code, Code.INVALID_ARGUMENT);
      return true;
    });
    await assert.rejects(openRegistry(`zookeeper://:${PASSWORD}@127.0.0.1:2181`), (error: RpcError) => {
      assert.equal(error.code, Code.INVALID_ARGUMENT);
      assert.ok(!error.message.includes(PASSWORD), error.message);
      return true;
    });
    await assert.rejects(openRegistry(`zookeeper://al%3Ace:${PASSWORD}@127.0.0.1:2181`), (error: RpcError) => {
      assert.equal(error.code, Code.INVALID_ARGUMENT);
      assert.ok(!error.message.includes(PASSWORD), error.message);
      return true;
    });
  });
});
