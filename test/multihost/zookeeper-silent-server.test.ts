import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createZooKeeperRegistry, type Logger } from '../../src/index.js';
import { parseProviderUrl, providerUrl, type Provider } from '../../src/registry/provider.js';
import { faultProxy, type FaultProxy } from '../../src/testing/index.js';
import { zooKeeperForFile } from '../support/zookeeper.js';

// A ZooKeeper server that goes silent (partitioned away, or frozen) sends no reset: the client must
// notice the silence itself and move to another server of its connect string while its session
// lives. Relays in front of one server stand for the servers of an ensemble; one is blackholed.

const { server } = zooKeeperForFile('switchyard-zk-silent-');
const SESSION_MS = 4_000;
const SERVICE = 'test.silent.Who';

function providerAt(port: number): Provider {
  return parseProviderUrl(`tcp://10.0.0.1:${port}/${SERVICE}?version=1.0.0&methods=who&timestamp=1`);
}

/** The `connected to ZooKeeper` log records, with the session id of each, and the silences noticed. */
function connectionLog(): { logger: Logger; sessions: string[]; expired: () => number; silences: () => number } {
  const sessions: string[] = [];
  let expired = 0;
  let silences = 0;
  const quiet = () => {};
  const logger: Logger = {
    debug: quiet,
    error: quiet,
    info: (obj, msg) => {
      if (msg === 'connected to ZooKeeper') sessions.push(String((obj as { sessionId?: unknown }).sessionId));
    },
    warn: (_obj, msg) => {
      if (msg?.startsWith('ZooKeeper session expired')) expired++;
      if (msg?.startsWith('ZooKeeper server silent')) silences++;
    },
  };
  return { logger, sessions, expired: () => expired, silences: () => silences };
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await sleep(25);
  }
}

/**
 * A registry reaching the one ZooKeeper server through `count` relays (as if through that many
 * servers), its connection log, and an observer connected straight to the server.
 */
async function relayedRegistry(t: TestContext, count: number) {
  const target = `tcp://${server().connectString}`;
  const relays: FaultProxy[] = await Promise.all(Array.from({ length: count }, () => faultProxy({ target })));
  t.after(() => Promise.all(relays.map((relay) => relay.close())));
  const log = connectionLog();
  const registry = await createZooKeeperRegistry(relays.map((relay) => relay.address.slice('tcp://'.length)).join(','),
    { sessionTimeoutMs: SESSION_MS, cacheFile: false, logger: log.logger });
  t.after(() => registry.close());
  const observer = await createZooKeeperRegistry(server().connectString, { sessionTimeoutMs: SESSION_MS, cacheFile: false, registerConsumers: false });
  t.after(() => observer.close());
  return { relays, log, registry, observer };
}

test('a registry whose ZooKeeper server goes silent reconnects to another server with its session, nodes and watch', async (t) => {
  const { relays, log, registry, observer } = await relayedRegistry(t, 2);

  const first = providerAt(1);
  await registry.register(first);
  const heard: string[][] = [];
  registry.subscribe({ name: SERVICE }, (providers) => heard.push(providers.map(providerUrl)));
  const observed: string[][] = [];
  observer.subscribe({ name: SERVICE }, (providers) => observed.push(providers.map(providerUrl)));
  await until('the observer sees the provider', () => observed.at(-1)?.includes(providerUrl(first)) === true, 5_000);
  await until('the subscription is answered', () => heard.length > 0, 5_000);

  const carrying = relays.find((relay) => relay.connections > 0);
  assert.ok(carrying, 'the registry is connected through one of the relays');
  const silentSince = Date.now();
  carrying.faults.update({ blackhole: true });

  await until('the registry connects again', () => log.sessions.length >= 2, 3 * SESSION_MS);
  assert.equal(new Set(log.sessions).size, 1, `the session is kept: ${log.sessions.join(', ')}`);

  // The watch set through the silent server lives on: a provider added now reaches the subscriber.
  const second = providerAt(2);
  await observer.register(second);
  await until('the subscriber hears of the new provider', () => heard.at(-1)?.includes(providerUrl(second)) === true, 2 * SESSION_MS);

  // Past the time the server would have expired a session it no longer heard from.
  await sleep(Math.max(0, silentSince + 2 * SESSION_MS - Date.now()));
  assert.equal(log.expired(), 0, 'the session never expired');
  assert.ok(observed.slice(observed.findIndex((list) => list.includes(providerUrl(first)))).every((list) => list.includes(providerUrl(first))),
    `the provider's ephemeral node never went away: ${JSON.stringify(observed)}`);
});

test('a registry that lost a silent server tries the others, not that one, while they refuse, and resumes its session on the first that serves', async (t) => {
  const { relays, log, registry, observer } = await relayedRegistry(t, 3);

  const first = providerAt(3);
  await registry.register(first);
  const heard: string[][] = [];
  registry.subscribe({ name: SERVICE }, (providers) => heard.push(providers.map(providerUrl)));
  await until('the subscription is answered', () => heard.at(-1)?.includes(providerUrl(first)) === true, 5_000);

  const silent = relays.find((relay) => relay.connections > 0);
  assert.ok(silent, 'the registry is connected through one of the relays');
  const others = relays.filter((relay) => relay !== silent);
  // As in an ensemble whose leader is cut off: the others refuse clients until they have elected a new one.
  for (const relay of others) relay.faults.update({ dead: true });
  silent.faults.update({ blackhole: true });

  // An attempt on the silent relay would open a connection there (it accepts, and keeps what it
  // holds open while blackholed) and stay for a good part of a second until the client gives up on
  // the handshake: sampled often from the blackhole on, it shows as a rise.
  let previous = silent.connections;
  let tried = false;
  const watchUntil = async (done: () => boolean, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!done() && Date.now() < deadline) {
      await sleep(10);
      if (silent.connections > previous) tried = true;
      previous = silent.connections;
    }
  };
  await watchUntil(() => log.silences() > 0, 3 * SESSION_MS);
  assert.ok(log.silences() > 0, 'the registry noticed the silence');
  const electionEnds = Date.now() + 300;
  await watchUntil(() => Date.now() >= electionEnds, 1_000);
  others[0]!.faults.update({ dead: false });
  await watchUntil(() => log.sessions.length >= 2, 2 * SESSION_MS);
  assert.equal(tried, false, 'the registry went back to the silent server while the others refused');
  assert.ok(log.sessions.length >= 2, 'the registry connected again');
  assert.equal(new Set(log.sessions).size, 1, `the session is kept: ${log.sessions.join(', ')}`);
  assert.equal(log.expired(), 0, 'the session never expired');

  const second = providerAt(4);
  await observer.register(second);
  await until('the subscriber hears of the new provider', () => heard.at(-1)?.includes(providerUrl(second)) === true, 2 * SESSION_MS);
});
