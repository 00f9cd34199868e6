// Consumer-side configurators that change how a running client spreads and guards its calls:
// `cluster`, `forks` and the circuit breaker, through real servers on the embedded registry (a temp
// folder), each call counted on the servers that ran it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Code, RpcError } from '../../src/index.js';
import { callMany, type ProbeProvider } from '../support/cluster.js';
import { consumerRule } from './wiring-consumer-scenarios.js';
import { embeddedBackend, startFleet, within, type Fleet } from './wiring-kit.js';

/** A consumer-side item for every provider, setting `parameters`. */
function settingRule(fleet: Fleet, parameters: Record<string, string | number | boolean>): string {
  const lines = Object.entries(parameters).map(([name, value]) => `      ${name}: ${value}\n`).join('');
  return consumerRule(fleet, `  - side: consumer\n    parameters:\n${lines}`);
}

/** Calls of `method` the providers have run so far, all together. */
const ran = (providers: readonly ProbeProvider[], method: string) => providers.reduce((sum, provider) => sum + provider.count(method), 0);

/** Runs `run` once and resolves with how many calls of `method` the providers ran for it, once they stop changing. */
async function attemptsOf(providers: readonly ProbeProvider[], method: string, run: () => Promise<unknown>): Promise<number> {
  const before = ran(providers, method);
  await run().catch(() => undefined);
  // Forked attempts may still be on their way when the first answer comes back.
  let last = -1;
  while (ran(providers, method) !== last) {
    last = ran(providers, method);
    await sleep(30);
  }
  return last - before;
}

describe('cluster settings set by configurators, on a running client (embedded)', () => {
  test('cluster: failfast makes a failing provider\'s error reach the caller with no retry; per method, and deleted, failover returns', async (t) => {
    // Retries not budgeted: failover retries every failure here, and the counts say so.
    const fleet = await startFleet(t, embeddedBackend, ['a', 'b'], { retryBudget: false });
    const [a, b] = fleet.providers as [ProbeProvider, ProbeProvider];
    a.behaviour.failing = true;
    const readCalls = (count: number) => callMany(count, 4, () => fleet.proxy.read('k'));
    // Failover, the client's strategy: each failure at a is tried again at b, so every call succeeds.
    let [aBefore, bBefore] = [a.count('read'), b.count('read')];
    const failedOver = await readCalls(40);
    assert.ok(failedOver.every((outcome) => outcome.status === 'fulfilled' && outcome.value === 'b'), 'every call answered by b');
    assert.equal(b.count('read') - bBefore, 40);
    assert.ok(a.count('read') > aBefore, 'some calls tried a first');

    await embeddedBackend.put(t, fleet.registry, fleet.ruleKey, 'configurators', settingRule(fleet, { cluster: 'failfast' }));
    await within(2000, async () => (await readCalls(8)).some((outcome) => outcome.status === 'rejected'), 'a call failing once failfast is in force');
    [aBefore, bBefore] = [a.count('read'), b.count('read')];
    const failedFast = await readCalls(40);
    const failures = failedFast.filter((outcome) => outcome.status === 'rejected').map((outcome) => RpcError.from(outcome.reason));
    assert.ok(failures.length > 0, 'some calls went to a');
    for (const failure of failures) {
      assert.equal(failure.code, Code.UNAVAILABLE);
      assert.match(failure.message, /provider a is failing/);
    }
    assert.equal(a.count('read') - aBefore, failures.length, 'a ran each failed call once');
    assert.equal(b.count('read') - bBefore, 40 - failures.length, 'b ran only the calls it answered: none was retried');

    // Per method: read fails fast, sleep (idempotent too) still fails over.
    await embeddedBackend.put(t, fleet.registry, fleet.ruleKey, 'configurators', settingRule(fleet, { 'read.cluster': 'failfast' }));
    await within(2000, async () => (await callMany(8, 4, () => fleet.proxy.sleep(0))).every((outcome) => outcome.status === 'fulfilled'), 'sleep failing over again');
    const sleeps = await callMany(20, 4, () => fleet.proxy.sleep(0));
    assert.ok(sleeps.every((outcome) => outcome.status === 'fulfilled' && outcome.value === 'b'), 'sleep calls fail over to b');
    assert.ok((await readCalls(40)).some((outcome) => outcome.status === 'rejected'), 'read calls still fail fast');

    await embeddedBackend.remove(t, fleet.registry, fleet.ruleKey, 'configurators');
    await within(2000, async () => (await readCalls(20)).every((outcome) => outcome.status === 'fulfilled'), 'read failing over again once the rule was deleted');
  });

  test('cluster: forking with forks sends each call to that many providers at once; forks: 0 to every provider', async (t) => {
    const fleet = await startFleet(t, embeddedBackend, ['a', 'b', 'c']);
    const { providers } = fleet;
    const whoami = () => fleet.proxy.whoami();
    assert.equal(await attemptsOf(providers, 'whoami', whoami), 1, 'failover: one provider per call');
    for (const [forks, expected] of [[2, 2], [3, 3], [1, 1], [0, 3]] as const) {
      await embeddedBackend.put(t, fleet.registry, fleet.ruleKey, 'configurators', settingRule(fleet, { cluster: 'forking', forks }));
      await within(2000, async () => (await attemptsOf(providers, 'whoami', whoami)) === expected, `each call reaching ${expected} providers with forks: ${forks}`);
      for (let i = 0; i < 10; i++) assert.equal(await attemptsOf(providers, 'whoami', whoami), expected, `forks: ${forks}`);
    }
    await embeddedBackend.remove(t, fleet.registry, fleet.ruleKey, 'configurators');
    await within(2000, async () => (await attemptsOf(providers, 'whoami', whoami)) === 1, 'one provider per call once the rule was deleted');
  });

  test('circuitbreaker settings: a breaker switched on opens on a failing provider and stops its calls; a changed openMs and a switch-off take effect at once', async (t) => {
    const fleet = await startFleet(t, embeddedBackend, ['a'], { cluster: 'failfast' });
    const [a] = fleet.providers as [ProbeProvider];
    a.behaviour.failing = true;
    const outcomes = async (count: number) => (await callMany(count, 1, () => fleet.proxy.whoami())).map((outcome) => (outcome.status === 'rejected' ? RpcError.from(outcome.reason).message : outcome.value));
    // No breaker: every call reaches a and fails there.
    let before = a.count('whoami');
    assert.ok((await outcomes(20)).every((message) => /provider a is failing/.test(message)));
    assert.equal(a.count('whoami') - before, 20);

    const breaker = { circuitbreaker: true, 'circuitbreaker.minimumCalls': 4, 'circuitbreaker.failureRateThreshold': 0.5, 'circuitbreaker.openMs': 60_000 };
    await embeddedBackend.put(t, fleet.registry, fleet.ruleKey, 'configurators', settingRule(fleet, breaker));
    await within(2000, async () => (await outcomes(4)).some((message) => /circuit open/.test(message)), 'the breaker opening on a');
    before = a.count('whoami');
    const refused = await outcomes(20);
    assert.ok(refused.every((message) => /^circuit open for .*\.whoami at tcp:\/\/127\.0\.0\.1:\d+$/.test(message)), `refused by the open circuit: ${refused[0]}`);
    assert.equal(a.count('whoami') - before, 0, 'no call reached a while the circuit was open');

    // a recovers; the open circuit (60 s) still refuses, until a rule shortens openMs: a breaker with new options starts closed.
    a.behaviour.failing = false;
    assert.ok((await outcomes(4)).every((message) => /circuit open/.test(message)));
    await embeddedBackend.put(t, fleet.registry, fleet.ruleKey, 'configurators', settingRule(fleet, { ...breaker, 'circuitbreaker.openMs': 200 }));
    await within(2000, async () => (await outcomes(1))[0] === 'a', 'calls answered by a under the new breaker options');

    // Failing again, the breaker opens again; switched off by the rule, every call reaches a.
    a.behaviour.failing = true;
    await within(2000, async () => (await outcomes(4)).some((message) => /circuit open/.test(message)), 'the breaker opening again');
    await embeddedBackend.put(t, fleet.registry, fleet.ruleKey, 'configurators', settingRule(fleet, { circuitbreaker: false }));
    await within(2000, async () => (await outcomes(4)).every((message) => /provider a is failing/.test(message)), 'calls reaching a with the breaker off');
    before = a.count('whoami');
    await outcomes(20);
    assert.equal(a.count('whoami') - before, 20);
  });
});
