// The ZooKeeper registry's cache file serves consumers only while ZooKeeper cannot be reached: a
// file left from an earlier run, listing providers that have since moved or died, must never send
// calls to them while ZooKeeper answers.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Code, RpcError } from '../../src/index.js';
import { openRegistry } from '../../src/registry/index.js';
import { providerUrl } from '../../src/registry/provider.js';
import { createZooKeeperRegistry, type ZooKeeperRegistryOptions } from '../../src/registry/zookeeper.js';
import { defaultCacheFile } from '../../src/registry/zookeeper-cache.js';
import { zooKeeperForFile } from '../support/zookeeper.js';
import { Recorder, makeProvider, uniqueServiceName, waitFor } from './contract.js';

const SESSION_MS = 4000;
const CACHE_AFTER_MS = 300;
const { server, dir } = zooKeeperForFile('switchyard-zk-cache-test-');

let files = 0;
const cachePath = () => join(dir, `cache-${++files}.json`);

async function open(t: TestContext, options: ZooKeeperRegistryOptions = {}) {
  const registry = await createZooKeeperRegistry(server().connectString, {
    sessionTimeoutMs: SESSION_MS, connectTimeoutMs: 1000, cacheFile: false, cacheAfterMs: CACHE_AFTER_MS, ...options,
  });
  t.after(() => registry.close());
  return registry;
}

function recordingLogger() {
  const warnings: string[] = [];
  const quiet = () => {};
  return { warnings, logger: { debug: quiet, info: quiet, error: quiet, warn: (_: object, msg = '') => void warnings.push(msg) } };
}

function readCache(file: string): Record<string, string[]> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string[]>;
}

/** Pauses the test ZooKeeper until the test ends (or `resume` is called). */
async function outage(t: TestContext) {
  const zookeeper = server();
  await zookeeper.pause();
  let down = true;
  t.after(() => (down ? zookeeper.resume().catch(() => {}) : undefined));
  return async () => {
    down = false;
    await zookeeper.resume();
  };
}

describe('zookeeper registry cache file', () => {
  test('while ZooKeeper answers, a stale cache file is never served, not even before the first answer', async (t) => {
    const service = uniqueServiceName('Moved');
    const live = makeProvider(service, 24001);
    const dead = makeProvider(service, 24002);
    await (await open(t)).register(live);
    const cacheFile = cachePath();
    writeFileSync(cacheFile, JSON.stringify({ [service]: [providerUrl(dead)] }));

    const consumer = await open(t, { cacheFile });
    const seen = new Recorder();
    t.after(consumer.subscribe({ name: service }, seen.onChange));
    await seen.waitForUrls([providerUrl(live)]);
    await sleep(CACHE_AFTER_MS * 2);
    assert.deepEqual(seen.calls.map((list) => list.map(providerUrl)), [[providerUrl(live)]], 'only ever the live list');
    await waitFor(() => readCache(cacheFile)[service]?.join() === providerUrl(live), 'the file to hold the live list alone');
  });

  test('while ZooKeeper is down the cache is served after cacheAfterMs, then replaced wholesale by the first answer', async (t) => {
    const service = uniqueServiceName('Outage');
    const live = makeProvider(service, 24011);
    await (await open(t, { connectTimeoutMs: 5000 })).register(live);
    const stale = [makeProvider(service, 24012), makeProvider(service, 24013)].map(providerUrl);
    const cacheFile = cachePath();
    const unrelated = uniqueServiceName('Unrelated');
    writeFileSync(cacheFile, JSON.stringify({ [service]: stale, [unrelated]: ['tcp://127.0.0.1:1/x?methods=y'] }));
    const resume = await outage(t);

    const consumer = await open(t, { cacheFile });
    const seen = new Recorder();
    const subscribedAt = Date.now();
    t.after(consumer.subscribe({ name: service }, seen.onChange));
    await seen.waitForUrls(stale, 'the cached list while ZooKeeper is down');
    assert.ok(Date.now() - subscribedAt >= CACHE_AFTER_MS - 20, 'the cache waited for ZooKeeper first');

    await resume();
    await seen.waitForUrls([providerUrl(live)], 'the live list alone, no cached entry kept');
    await waitFor(() => readCache(cacheFile)[service]?.join() === providerUrl(live), 'the file to hold the live list alone', 10_000);
    assert.deepEqual(readCache(cacheFile)[unrelated], ['tcp://127.0.0.1:1/x?methods=y'], 'other services of the file are kept');
  });

  test('a cache file another user owns or could write is ignored, with a warning', async (t) => {
    const service = uniqueServiceName('Foreign');
    const planted = JSON.stringify({ [service]: [providerUrl(makeProvider(service, 24021))] });
    const writable = cachePath();
    writeFileSync(writable, planted);
    chmodSync(writable, 0o666);
    const cases = [writable];
    if (process.getuid?.() === 0) {
      const foreign = cachePath();
      writeFileSync(foreign, planted);
      chownSync(foreign, 65534, 65534);
      cases.push(foreign);
    }
    await outage(t);
    for (const cacheFile of cases) {
      const { warnings, logger } = recordingLogger();
      const consumer = await open(t, { cacheFile, logger });
      const seen = new Recorder();
      t.after(consumer.subscribe({ name: service }, seen.onChange));
      await sleep(CACHE_AFTER_MS * 2);
      assert.deepEqual(seen.calls, [], `nothing from ${cacheFile}`);
      assert.ok(warnings.some((warning) => /ignoring the registry cache: the file (is owned by uid 65534|can be written by every user)/.test(warning)),
        warnings.join('\n'));
      // Closed while ZooKeeper is still down: node-zookeeper-client misreads the handshake of a
      // connection it completes after close() (an uncaught "Unknown code").
      await consumer.close();
    }
  });

  test('the default cache file is private to the user and to the application', async (t) => {
    const temp = mkdtempSync(join(dir, 'tmp-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = temp;
    t.after(() => {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    });
    const connectString = server().connectString;
    const folder = join(temp, `switchyard-${process.getuid!()}`, 'zookeeper-cache');
    const one = defaultCacheFile(connectString, '/dubbo', '/srv/billing/main.js');
    assert.equal(dirname(one), folder);
    assert.match(one, /\/main-127\.0\.0\.1_\d+_dubbo-[0-9a-f]{12}\.json$/);
    assert.equal(defaultCacheFile(connectString, '/dubbo', '/srv/billing/main.js'), one, 'restarts of one application share it');
    assert.notEqual(defaultCacheFile(connectString, '/dubbo', '/srv/reports/main.js'), one, 'another application does not');
    assert.notEqual(defaultCacheFile(connectString, '/other', '/srv/billing/main.js'), one, 'nor does another registry');

    const consumer = await open(t, { cacheFile: undefined });
    assert.equal(consumer.cacheFile, defaultCacheFile(connectString, '/dubbo'));
    assert.equal(dirname(consumer.cacheFile as string), folder);
    const service = uniqueServiceName('Default');
    const provider = makeProvider(service, 24031);
    await consumer.register(provider);
    const seen = new Recorder();
    t.after(consumer.subscribe({ name: service }, seen.onChange));
    await seen.waitForUrls([providerUrl(provider)]);
    const file = consumer.cacheFile as string;
    await waitFor(() => existsSync(file) && readCache(file)[service]?.join() === providerUrl(provider), 'the default cache file');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(folder).mode & 0o7777, 0o700);
    assert.equal(statSync(dirname(folder)).mode & 0o7777, 0o700);
  });

  test('a cacheAfterMs that is not a number of milliseconds is refused, as it would serve the cache at once', async () => {
    for (const value of ['abc', '-1']) {
      await assert.rejects(openRegistry(`zookeeper://${server().connectString}?cacheFile=false&cacheAfterMs=${value}`),
        (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT, value);
    }
  });
});
