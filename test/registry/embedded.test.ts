import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Code, RpcError } from '../../src/index.js';
import { createEmbeddedRegistry, type EmbeddedRegistryOptions } from '../../src/registry/embedded.js';
import { providerUrl, type Provider } from '../../src/registry/provider.js';
import { Recorder, makeProvider, registryContract, uniqueServiceName, waitFor } from './contract.js';

const fixture = fileURLToPath(new URL('../support/fixtures/registry-provider.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'switchyard-registry-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

const contractDir = join(root, 'contract');
registryContract('embedded', async () => createEmbeddedRegistry({ dir: contractDir }));

let dirs = 0;
/** A registry in a folder of its own test (or `dir`), closed when the test ends. */
function open(t: TestContext, options: EmbeddedRegistryOptions = {}) {
  const registry = createEmbeddedRegistry({ dir: join(root, `t${++dirs}`), ...options });
  t.after(() => registry.close());
  return registry;
}

function watchService(t: TestContext, registry: { subscribe: (k: { name: string }, f: (p: Provider[]) => void) => () => void }, name: string) {
  const recorder = new Recorder();
  t.after(registry.subscribe({ name }, recorder.onChange));
  return recorder;
}

function jsonFiles(folder: string): string[] {
  return existsSync(folder) ? readdirSync(folder).filter((f) => f.endsWith('.json')) : [];
}

/** Writes an entry file by hand, as another (possibly dead or remote) process would have. */
function writeEntry(folder: string, file: string, entry: object, ageMs = 0): string {
  mkdirSync(folder, { recursive: true });
  const path = join(folder, file);
  writeFileSync(path, JSON.stringify(entry));
  const when = new Date(Date.now() - ageMs);
  utimesSync(path, when, when);
  return path;
}

/** The pid of a process that has already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

/** Starts the fixture child that registers `url` in `dir`, and waits until it has. */
async function startChildProvider(t: TestContext, dir: string, url: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir, url], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await Promise.race([once(lines, 'line'), exited.then(() => ['exited'])])) as string[];
  lines.close();
  assert.equal(line, 'registered', 'the child should register its provider');
  return { child, exited };
}

describe('embedded registry', () => {
  test('a provider in another process is seen, and disappears soon after that process is SIGKILLed', async (t) => {
    const registry = open(t);
    const service = uniqueServiceName('Remote');
    const provider = makeProvider(service, 21001, '&version=1.0.0');
    const seen = watchService(t, registry, service);
    const { child, exited } = await startChildProvider(t, registry.dir, providerUrl(provider));
    await seen.waitForUrls([providerUrl(provider)], 'the child provider');

    const killedAt = Date.now();
    child.kill('SIGKILL');
    await exited;
    // Documented bound with the defaults: about pollMs (500) by the pid check, at worst ttlMs + pollMs (3500).
    const boundMs = 3000 + 500 + 2500;
    await waitFor(() => seen.urls()?.length === 0, 'the killed provider to disappear', boundMs);
    const tookMs = Date.now() - killedAt;
    t.diagnostic(`killed provider disappeared after ${tookMs} ms`);
    assert.ok(tookMs < boundMs);
    assert.deepEqual(jsonFiles(join(registry.dir, service)), [], 'the dead entry file is removed');
  });

  test('a process that exits without closing its registry removes its entries as it exits', async (t) => {
    const dir = join(root, `t${++dirs}`);
    const service = uniqueServiceName('Leaving');
    const { child, exited } = await startChildProvider(t, dir, providerUrl(makeProvider(service, 21011)));
    assert.equal(jsonFiles(join(dir, service)).length, 1);
    child.stdin!.write('exit\n');
    await exited;
    // No consumer is looking at the folder, so only the exiting process can have removed the entry.
    assert.deepEqual(jsonFiles(join(dir, service)), []);
  });

  test('an entry file holds the provider URL, the pid and the host, in a folder named after the service', async (t) => {
    const registry = open(t);
    const service = uniqueServiceName('Layout');
    const provider = makeProvider(service, 21021, '&group=blue');
    await registry.register(provider);
    const files = jsonFiles(join(registry.dir, service));
    assert.equal(files.length, 1);
    const entry: unknown = JSON.parse(readFileSync(join(registry.dir, service, files[0]!), 'utf8'));
    assert.deepEqual(entry, { url: providerUrl(provider), pid: process.pid, host: hostname() });
    await registry.unregister(provider);
    assert.deepEqual(jsonFiles(join(registry.dir, service)), []);
  });

  test('garbage in a service folder is skipped without harm', async (t) => {
    const registry = open(t, { pollMs: 50 });
    const service = uniqueServiceName('Garbage');
    const folder = join(registry.dir, service);
    const alive = { pid: process.pid, host: hostname() };
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'not-json.json'), '{ this is not json');
    writeFileSync(join(folder, 'empty.json'), '');
    writeFileSync(join(folder, 'null.json'), 'null');
    writeEntry(folder, 'wrong-types.json', { url: 5, pid: 'x', host: null });
    writeEntry(folder, 'bad-url.json', { url: 'not a url', ...alive });
    writeEntry(folder, 'bad-pid.json', { url: providerUrl(makeProvider(service, 21031)), pid: -1, host: hostname() });
    writeEntry(folder, 'other-service.json', { url: providerUrl(makeProvider(`${service}X`, 21032)), ...alive });
    writeEntry(folder, 'not-an-entry.txt', { url: providerUrl(makeProvider(service, 21033)), ...alive });
    writeFileSync(join(folder, 'huge.json'), JSON.stringify({ url: providerUrl(makeProvider(service, 21034)), ...alive, pad: 'x'.repeat(100_000) }));
    mkdirSync(join(folder, 'a-folder.json'));
    const good = makeProvider(service, 21035);
    await registry.register(good);
    const seen = watchService(t, registry, service);
    await seen.waitForUrls([providerUrl(good)]);
    await sleep(200);
    assert.deepEqual(seen.urls(), [providerUrl(good)]);
    assert.ok(existsSync(join(folder, 'not-json.json')), 'garbage is left alone, not deleted');
  });

  test('entries of dead processes and entries with an expired heartbeat are removed and never listed', async (t) => {
    const registry = open(t, { pollMs: 50 });
    const service = uniqueServiceName('Stale');
    const folder = join(registry.dir, service);
    const dead = writeEntry(folder, 'dead.json', { url: providerUrl(makeProvider(service, 21041)), pid: await deadPid(), host: hostname() });
    const expired = writeEntry(folder, 'expired.json', { url: providerUrl(makeProvider(service, 21042)), pid: process.pid, host: hostname() }, 10_000);
    const seen = watchService(t, registry, service);
    await waitFor(() => seen.calls.length > 0, 'the first call');
    assert.deepEqual(seen.calls[0], []);
    await waitFor(() => !existsSync(dead) && !existsSync(expired), 'the stale entries to be removed');
  });

  test('entries from another host are judged by their heartbeat alone', async (t) => {
    const registry = open(t, { pollMs: 50, heartbeatMs: 100, ttlMs: 1000 });
    const service = uniqueServiceName('Remote');
    const remote = makeProvider(service, 21051);
    const path = writeEntry(join(registry.dir, service), 'remote.json', { url: providerUrl(remote), pid: await deadPid(), host: `not-${hostname()}` });
    const seen = watchService(t, registry, service);
    await seen.waitForUrls([providerUrl(remote)], 'the remote entry, whose pid cannot be checked here');
    await seen.waitForUrls([], 'the remote entry to expire without heartbeats');
    assert.ok(!existsSync(path));
  });

  test('the heartbeat keeps own entries fresh and writes them again when someone removes them', async (t) => {
    const registry = open(t, { heartbeatMs: 50, ttlMs: 500, pollMs: 50 });
    const service = uniqueServiceName('Beat');
    const provider = makeProvider(service, 21061);
    await registry.register(provider);
    const [file] = jsonFiles(join(registry.dir, service));
    const path = join(registry.dir, service, file!);
    const old = new Date(Date.now() - 60_000);
    utimesSync(path, old, old);
    await waitFor(() => Date.now() - statSync(path).mtimeMs < 5000, 'the heartbeat to refresh the mtime');
    unlinkSync(path);
    await waitFor(() => existsSync(path), 'the entry to be written again');
    const seen = watchService(t, registry, service);
    await seen.waitForUrls([providerUrl(provider)]);
  });

  test('subscribers are called only when the set of providers changes, never from inside subscribe', async (t) => {
    const registry = open(t, { heartbeatMs: 30, ttlMs: 500, pollMs: 30 });
    const service = uniqueServiceName('Quiet');
    const first = makeProvider(service, 21071);
    await registry.register(first);
    const seen = watchService(t, registry, service);
    assert.equal(seen.calls.length, 0, 'the first call is asynchronous');
    await seen.waitForUrls([providerUrl(first)]);
    await sleep(400); // many heartbeats and polls
    assert.equal(seen.calls.length, 1);
    const second = makeProvider(service, 21072);
    await registry.register(second);
    await seen.waitForUrls([providerUrl(first), providerUrl(second)]);
    assert.equal(seen.calls.length, 2);
  });

  test('a subscriber that throws does not stop the others', async (t) => {
    const registry = open(t);
    const service = uniqueServiceName('Throwing');
    t.after(registry.subscribe({ name: service }, () => {
      throw new Error('subscriber failure');
    }));
    const seen = watchService(t, registry, service);
    const provider = makeProvider(service, 21081);
    await registry.register(provider);
    await seen.waitForUrls([providerUrl(provider)]);
  });

  test('service names that could leave the registry folder are refused', async (t) => {
    const registry = open(t);
    for (const name of ['../escape', 'a/b', 'a\\b', 'a\0b', '..', '.', '']) {
      const provider = { ...makeProvider('valid.Name', 21091), service: { name } };
      await assert.rejects(registry.register(provider), (e: unknown) => e instanceof RpcError && e.code === Code.INVALID_ARGUMENT, name);
      assert.throws(() => registry.subscribe({ name }, () => {}), (e: unknown) => e instanceof RpcError && e.code === Code.INVALID_ARGUMENT, name);
    }
    assert.ok(!existsSync(join(root, 'escape')));
  });

  test('a registry folder that cannot be written makes register fail with UNAVAILABLE', async (t) => {
    const blocker = join(root, `t${++dirs}-file`);
    writeFileSync(blocker, 'a file where the registry folder should be');
    const registry = open(t, { dir: blocker });
    await assert.rejects(registry.register(makeProvider(uniqueServiceName('Blocked'), 21111)), (e: unknown) => e instanceof RpcError && e.code === Code.UNAVAILABLE);
    const seen = watchService(t, registry, uniqueServiceName('Blocked'));
    await waitFor(() => seen.calls.length > 0, 'the first call');
    assert.deepEqual(seen.calls[0], [], 'subscribers still get an (empty) answer');
  });

  test('a closed registry refuses register and subscribe', async (t) => {
    const registry = open(t);
    await registry.close();
    const refused = (e: unknown) => e instanceof RpcError && e.code === Code.FAILED_PRECONDITION;
    await assert.rejects(registry.register(makeProvider(uniqueServiceName('Closed'), 21101)), refused);
    assert.throws(() => registry.subscribe({ name: 'closed.Service' }, () => {}), refused);
  });

  test('timing options that cannot work are refused', () => {
    for (const options of [{ ttlMs: 1000, heartbeatMs: 1000 }, { pollMs: 0 }, { heartbeatMs: -1 }, { ttlMs: Number.NaN }]) {
      assert.throws(() => createEmbeddedRegistry({ dir: root, ...options }), (e: unknown) => e instanceof RpcError && e.code === Code.INVALID_ARGUMENT);
    }
  });
});
