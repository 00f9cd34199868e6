// Consumer-side override rules obeyed by a running client: disabling and weighting providers,
// timeouts for the service and for one provider, and a malformed document that changes nothing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Code, RpcError } from '../../src/index.js';
import { callMany } from '../support/cluster.js';
import { CallLoop, startFleet, timed, within, type Fleet, type RuleBackend } from './wiring-kit.js';

/** A service-scoped configurator of consumer-side items (YAML list items, indented by 2). */
export function consumerRule(fleet: Fleet, items: string): string {
  return `configVersion: v2.7\nscope: service\nkey: ${fleet.yamlKey}\nenabled: true\nconfigs:\n${items}`;
}

function disable(fleet: Fleet, address: string): string {
  return consumerRule(fleet, `  - side: consumer\n    providerAddresses: ["${address}"]\n    parameters:\n      disabled: true\n`);
}

function timeoutRule(fleet: Fleet, ms: number): string {
  return consumerRule(fleet, `  - side: consumer\n    parameters:\n      timeout: ${ms}\n`);
}

export function consumerScenarios(backend: RuleBackend): void {
  describe(`consumer-side override rules (${backend.name})`, () => {
    test('a disabled provider gets no call within 2 s of the write; deleting the rule brings its calls back', async (t) => {
      const fleet = await startFleet(t, backend, ['a', 'b']);
      const [a] = fleet.providers;
      const loop = new CallLoop(t, () => fleet.proxy.whoami());
      await loop.next(20);
      await backend.put(t, fleet.registry, fleet.ruleKey, 'configurators', disable(fleet, fleet.address(a!)));
      await within(2000, async () => (await loop.next(40)).every((answer) => answer === 'b'), 'no call reaching provider a after the rule disabled it');
      const mark = loop.answers.length;
      await loop.next(200);
      assert.equal(loop.countSince(mark, 'a'), 0, 'a disabled provider is never chosen');
      const removed = loop.answers.length;
      await backend.remove(t, fleet.registry, fleet.ruleKey, 'configurators');
      await within(2000, () => loop.countSince(removed, 'a') > 0, 'provider a getting calls again once the rule was deleted');
      await loop.stop();
      assert.deepEqual(loop.answers.filter((answer) => answer instanceof RpcError), [], 'no call failed');
    });

    test('weights 90 and 10 set by a rule split 4000 calls 90/10 within 5 %', async (t) => {
      const fleet = await startFleet(t, backend, ['a', 'b']);
      const [a, b] = fleet.providers;
      await backend.put(t, fleet.registry, fleet.ruleKey, 'configurators', consumerRule(fleet,
        `  - side: consumer\n    providerAddresses: ["${fleet.address(a!)}"]\n    parameters:\n      weight: 90\n`
        + `  - side: consumer\n    providerAddresses: ["${fleet.address(b!)}"]\n    parameters:\n      weight: 10\n`));
      await within(2000, async () => {
        const answers = await callMany(400, 8, () => fleet.proxy.whoami());
        return answers.filter((answer) => answer.status === 'fulfilled' && answer.value === 'a').length > 320;
      }, 'provider a taking most calls once weighted 90 to 10');
      const answers = await callMany(4000, 16, () => fleet.proxy.whoami());
      const share = answers.filter((answer) => answer.status === 'fulfilled' && answer.value === 'a').length / answers.length;
      assert.ok(Math.abs(share - 0.9) <= 0.05, `provider a took ${(share * 100).toFixed(1)} % of the calls, expected 90 % ± 5`);
      assert.ok(answers.every((answer) => answer.status === 'fulfilled'), 'every call succeeded');
    });

    test('a timeout rule gives calls a longer deadline, then a shorter one, and a call\'s own timeout still wins', async (t) => {
      const fleet = await startFleet(t, backend, ['a'], { timeoutMs: 3000 });
      // Longer than the client's 3 s: a call of 3.5 s succeeds.
      await backend.put(t, fleet.registry, fleet.ruleKey, 'configurators', timeoutRule(fleet, 6000));
      await within(2000, () => fleet.clientLog.some((entry) => entry.msg === 'rule in force'), 'the client reading the timeout rule');
      assert.equal(await fleet.proxy.sleep(3500), 'a');
      // Shorter: the call ends with DEADLINE_EXCEEDED at 300 ms, well before the 3 s it had.
      await backend.put(t, fleet.registry, fleet.ruleKey, 'configurators', timeoutRule(fleet, 300));
      await within(2000, async () => (await timed(() => fleet.proxy.sleep(1000))).error?.code === Code.DEADLINE_EXCEEDED, 'calls ending at the rule\'s 300 ms timeout');
      const short = await timed(() => fleet.proxy.sleep(2500));
      assert.equal(short.error?.code, Code.DEADLINE_EXCEEDED);
      assert.ok(short.ms >= 295 && short.ms < 2000, `ended after ${short.ms.toFixed(0)} ms: at least the rule's 300 ms, well before the old 3000 ms`);
      // A call's own timeout wins over the rule.
      assert.equal(await fleet.proxy.sleep.with({ timeoutMs: 3000 })(800), 'a');
      // Deleting the rule restores the client's 3 s.
      await backend.remove(t, fleet.registry, fleet.ruleKey, 'configurators');
      await within(2000, async () => (await timed(() => fleet.proxy.sleep(600))).value === 'a', 'calls getting the client\'s timeout back');
    });

    test('a timeout aimed at one provider applies to the calls sent to it alone', async (t) => {
      const fleet = await startFleet(t, backend, ['a', 'b'], { timeoutMs: 5000 });
      const [a] = fleet.providers;
      const slowCalls = fleet.client.proxy(fleet.definition, { loadBalance: 'roundrobin' });
      await backend.put(t, fleet.registry, fleet.ruleKey, 'configurators', consumerRule(fleet,
        `  - side: consumer\n    providerAddresses: ["${fleet.address(a!)}"]\n    parameters:\n      timeout: 300\n`));
      const round = () => Promise.all(Array.from({ length: 4 }, () => timed(() => slowCalls.sleep(800))));
      await within(2000, async () => (await round()).some((outcome) => outcome.error?.code === Code.DEADLINE_EXCEEDED), 'calls to provider a ending at its 300 ms timeout');
      const outcomes = await round();
      for (const outcome of outcomes) {
        if (outcome.error === undefined) assert.equal(outcome.value, 'b', 'calls to b keep the client\'s 5 s');
        else assert.ok(outcome.error.code === Code.DEADLINE_EXCEEDED && outcome.ms >= 295 && outcome.ms < 800, `a call to a ended ${outcome.error.code} after ${outcome.ms.toFixed(0)} ms`);
      }
      assert.ok(outcomes.some((outcome) => outcome.value === 'b') && outcomes.some((outcome) => outcome.error !== undefined), 'round robin reached both providers');
    });

    test('a malformed rule is logged and ignored, the previous rule stays in force; deleting it restores the providers', async (t) => {
      const fleet = await startFleet(t, backend, ['a', 'b']);
      const [a] = fleet.providers;
      const loop = new CallLoop(t, () => fleet.proxy.whoami());
      await backend.put(t, fleet.registry, fleet.ruleKey, 'configurators', disable(fleet, fleet.address(a!)));
      await within(2000, async () => (await loop.next(40)).every((answer) => answer === 'b'), 'provider a disabled');
      const malformed = disable(fleet, fleet.address(a!)).replace('disabled: true', 'disabled: true\n      timeout: abc');
      await backend.put(t, fleet.registry, fleet.ruleKey, 'configurators', malformed);
      const warned = () => fleet.clientLog.find((entry) => entry.level === 'warn' && entry.msg === 'malformed rule ignored; the previous one stays in force');
      await within(2000, () => warned() !== undefined, 'the client logging the malformed rule');
      assert.match(String(warned()!.obj.message), /invalid configurator rule at configs\[0\]\.parameters\.timeout .*"abc" is not a valid timeout/);
      assert.equal(warned()!.obj.key, fleet.ruleKey);
      const mark = loop.answers.length;
      await loop.next(200);
      assert.equal(loop.countSince(mark, 'a'), 0, 'the rule before the malformed one still disables a');
      const removed = loop.answers.length;
      await backend.remove(t, fleet.registry, fleet.ruleKey, 'configurators');
      await within(2000, () => loop.countSince(removed, 'a') > 0, 'provider a getting calls again once the rule was deleted');
    });
  });
}
