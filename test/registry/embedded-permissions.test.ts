// Whoever can write an entry into an embedded registry folder receives the calls of its consumers,
// metadata (credentials) included. These tests plant entries the way another local user could and
// check that they are never used. They change file owners, so they need root; elsewhere they skip.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Code, RpcError, createClient, createServer, currentCall, defineService } from '../../src/index.js';
import { createEmbeddedRegistry, type EmbeddedRegistryOptions } from '../../src/registry/embedded.js';
import { parseProviderUrl, providerUrl } from '../../src/registry/provider.js';
import { Recorder, makeProvider, uniqueServiceName, waitFor } from './contract.js';

const root = mkdtempSync(join(tmpdir(), 'switchyard-registry-perm-'));
after(() => rmSync(root, { recursive: true, force: true }));
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0 ? {} : { skip: 'changing file owners needs root' };

let dirs = 0;
function freshDir(mode?: number): string {
  const dir = join(root, `d${++dirs}`);
  mkdirSync(dir);
  // chmod, not mkdir's mode: the umask would take the group and world bits away.
  if (mode !== undefined) chmodSync(dir, mode);
  return dir;
}

/** A logger that keeps what it is told. */
function recordingLogger() {
  const lines: Array<{ level: string; msg: string; obj: object }> = [];
  const at = (level: string) => (obj: object, msg = '') => void lines.push({ level, msg, obj });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

function open(t: TestContext, options: EmbeddedRegistryOptions) {
  const registry = createEmbeddedRegistry({ pollMs: 50, ...options });
  t.after(() => registry.close());
  return registry;
}

/** Writes an entry as another process would, pointing at `url`, alive by pid (this process). */
function plant(folder: string, file: string, url: string, owner?: number, mode?: number): string {
  mkdirSync(folder, { recursive: true });
  const path = join(folder, file);
  writeFileSync(path, JSON.stringify({ url, pid: process.pid, host: hostname() }));
  if (owner !== undefined) chownSync(path, owner, owner);
  if (mode !== undefined) chmodSync(path, mode);
  return path;
}

const refused = (pattern: RegExp) => (error: unknown) =>
  error instanceof RpcError && error.code === Code.FAILED_PRECONDITION && pattern.test(error.message);

interface Who {
  who(): Promise<string>;
}

describe('embedded registry permissions', () => {
  test('a registry folder other users can write or own is refused with FAILED_PRECONDITION saying how to fix it', asRoot, async (t) => {
    const cases = [
      { dir: freshDir(0o777), fix: /written by every user.*chmod 700/s },
      { dir: freshDir(0o770), fix: /written by its group.*chmod 700/s },
      { dir: freshDir(0o1777), fix: /written by every user.*chmod 700/s },
      // The machine's temp folder itself: world-writable and sticky, never a registry folder.
      { dir: tmpdir(), fix: /written by every user/ },
    ];
    const owned = freshDir(0o700);
    chownSync(owned, NOBODY, NOBODY);
    cases.push({ dir: owned, fix: new RegExp(`owned by uid ${NOBODY}.*another folder`, 's') });
    for (const { dir, fix } of cases) {
      const registry = open(t, { dir });
      await assert.rejects(registry.register(makeProvider(uniqueServiceName('Refused'), 23001)), refused(fix), dir);
      await assert.rejects(registry.ready(), refused(fix), dir);
    }
    const inside = join(freshDir(0o777), 'registry');
    await assert.rejects(open(t, { dir: inside }).register(makeProvider(uniqueServiceName('Below'), 23002)),
      refused(/lies in .* not sticky/), 'a folder whose parent others can write');
  });

  test('a consumer of a folder others can write lists nothing from it and logs why', asRoot, async (t) => {
    const dir = freshDir(0o777);
    const service = uniqueServiceName('Planted');
    plant(join(dir, service), 'planted.json', providerUrl(makeProvider(service, 23011)), NOBODY);
    const { lines, logger } = recordingLogger();
    const registry = open(t, { dir, logger });
    const seen = new Recorder();
    t.after(registry.subscribe({ name: service }, seen.onChange));
    await waitFor(() => seen.calls.length > 0, 'the first call');
    await sleep(300);
    assert.deepEqual(seen.calls, [[]], 'the planted provider is never listed');
    const errors = lines.filter((line) => line.level === 'error');
    assert.equal(errors.length, 1, 'the refusal is logged once, not at every poll');
    assert.match(String((errors[0]!.obj as { err: Error }).err.message), /chmod 700/);

    // Fixing the folder takes effect without a restart.
    chmodSync(dir, 0o700);
    chmodSync(join(dir, service), 0o700);
    const genuine = makeProvider(service, 23012);
    await open(t, { dir }).register(genuine);
    await seen.waitForUrls([providerUrl(genuine)], 'the genuine provider once the folder is private');
  });

  test('entries owned by another user or writable by others are ignored with a warning, and never called', asRoot, async (t) => {
    const dir = freshDir(0o700);
    const registry = `embedded://${dir}`;
    const Service = defineService<Who>(uniqueServiceName('Who'), { version: '1.0.0', methods: { who: {} } });
    const genuine = createServer({ listen: ['tcp://127.0.0.1:0'], registry, warmupMs: 0 });
    genuine.provide(Service, { who: async () => 'genuine' });
    await genuine.listen();
    t.after(() => genuine.close({ timeoutMs: 500 }));
    const stolen: string[] = [];
    const impostor = createServer({ listen: ['tcp://127.0.0.1:0', 'tcp://127.0.0.1:0'], registry: false });
    impostor.provide(Service, {
      who: async () => {
        stolen.push(String(currentCall().metadata.get('authorization')));
        return 'impostor';
      },
    });
    const [first, second] = await impostor.listen();
    t.after(() => impostor.close({ timeoutMs: 500 }));
    const folder = join(dir, Service.key.name);
    const impostorUrl = (address: string) =>
      providerUrl(parseProviderUrl(`${address}/${Service.key.name}?version=1.0.0&methods=who&weight=1000&timestamp=1`));
    const byOther = plant(folder, 'by-other-user.json', impostorUrl(first!), NOBODY, 0o644);
    const writable = plant(folder, 'writable-by-all.json', impostorUrl(second!), undefined, 0o666);

    const client = createClient({ registry, loadBalance: 'roundrobin' });
    t.after(() => client.close());
    const who = client.proxy(Service, { metadata: { authorization: 'Bearer secret' } });
    const answers = [];
    for (let i = 0; i < 20; i++) answers.push(await who.who());
    assert.deepEqual(stolen, [], 'no call, and no credential, reached the impostor');
    assert.ok(answers.every((answer) => answer === 'genuine'), answers.join(','));

    const { lines, logger } = recordingLogger();
    const watcher = open(t, { dir, logger });
    const seen = new Recorder();
    t.after(watcher.subscribe({ name: Service.key.name }, seen.onChange));
    await waitFor(() => seen.calls.length > 0, 'the first call');
    assert.deepEqual(seen.urls()?.map((url) => new URL(url).host), [new URL(genuine.addresses[0]!).host]);
    await sleep(200); // several polls
    const warned = lines.filter((line) => line.level === 'warn').map((line) => (line.obj as { file: string }).file).sort();
    assert.deepEqual(warned, [byOther, writable].sort(), 'each ignored entry is reported, once');
    assert.equal(statSync(byOther).uid, NOBODY, 'an ignored entry is left where it is');
  });

  test('folders are created with mode 0700 and entries with mode 0600', async (t) => {
    const base = join(freshDir(), 'a');
    const dir = join(base, 'b', 'registry');
    const registry = open(t, { dir });
    const service = uniqueServiceName('Modes');
    await registry.register(makeProvider(service, 23021));
    for (const folder of [base, join(base, 'b'), dir, join(dir, service)]) {
      assert.equal(statSync(folder).mode & 0o7777, 0o700, folder);
    }
    const [entry] = readdirSync(join(dir, service));
    assert.equal(statSync(join(dir, service, entry!)).mode & 0o7777, 0o600);
  });

  test('the default folder is per user, <os.tmpdir()>/switchyard-<uid>/registry, created with mode 0700', async (t) => {
    const temp = freshDir();
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = temp;
    t.after(() => {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    });
    const registry = open(t, {});
    const user = join(temp, `switchyard-${process.getuid!()}`);
    assert.equal(registry.dir, join(user, 'registry'));
    await registry.ready();
    assert.equal(statSync(user).mode & 0o7777, 0o700);
    assert.equal(statSync(registry.dir).mode & 0o7777, 0o700);
  });
});
