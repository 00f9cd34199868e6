// Condition and tag routers obeyed by a running client: per method, per call (an argument, a tag),
// falling back or failing with the router's explanation as the rule says.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Code, RpcError } from '../../src/index.js';
import { CallLoop, startFleet, within, type Fleet, type RuleBackend } from './wiring-kit.js';

function conditionRule(fleet: Fleet, conditions: readonly string[], force = true): string {
  return `configVersion: v3.0\nscope: service\nkey: ${fleet.yamlKey}\nforce: ${force}\nenabled: true\nconditions:\n${conditions.map((c) => `  - ${c}\n`).join('')}`;
}

function tagRule(fleet: Fleet, tag: string, address: string): string {
  return `configVersion: v2.7\nforce: false\nenabled: true\nkey: ${fleet.app}\ntags:\n  - name: ${tag}\n    addresses: ["${address}"]\n`;
}

const labelsOf = (answers: ReadonlyArray<string | RpcError>) => new Set(answers.map((answer) => (answer instanceof RpcError ? answer.code : answer)));

export function routingScenarios(backend: RuleBackend): void {
  describe(`routing rules (${backend.name})`, () => {
    test('a condition rule "method = sleep => port = <b>" sends sleep to b only and leaves other methods alone', async (t) => {
      const fleet = await startFleet(t, backend, ['a', 'b']);
      const [, b] = fleet.providers;
      const port = Number(fleet.address(b!).split(':').at(-1));
      const sleeps = new CallLoop(t, () => fleet.proxy.sleep(0), 2);
      const whoamis = new CallLoop(t, () => fleet.proxy.whoami(), 2);
      await backend.put(t, fleet.registry, fleet.ruleKey, 'condition-router', conditionRule(fleet, [`method = sleep => port = ${port}`]));
      await within(2000, async () => (await sleeps.next(40)).every((answer) => answer === 'b'), 'every sleep call going to b');
      assert.deepEqual(labelsOf(await sleeps.next(200)), new Set(['b']));
      assert.deepEqual(labelsOf(await whoamis.next(200)), new Set(['a', 'b']), 'whoami still goes to both');
      // A forced condition that keeps nobody fails the call at once, saying why.
      await backend.put(t, fleet.registry, fleet.ruleKey, 'condition-router', conditionRule(fleet, ['method = sleep => port = 1']));
      await within(2000, async () => (await sleeps.next(10)).every((answer) => answer instanceof RpcError), 'sleep calls failing once no provider is kept');
      const [failure] = await sleeps.next(1);
      assert.ok(failure instanceof RpcError);
      assert.equal(failure.code, Code.UNAVAILABLE);
      assert.equal(failure.unprocessed, true);
      assert.match(failure.message, /^no provider for .*\.sleep: the condition rule "method = sleep => port = 1" \(force: true\) keeps none of the 2 providers$/);
      await backend.remove(t, fleet.registry, fleet.ruleKey, 'condition-router');
      await within(2000, async () => labelsOf(await sleeps.next(40)).size === 2, 'sleep calls reaching both providers once the rule was deleted');
    });

    test('a condition on an argument routes each call on its own', async (t) => {
      const fleet = await startFleet(t, backend, ['a', 'b']);
      const [a] = fleet.providers;
      const port = Number(fleet.address(a!).split(':').at(-1));
      await backend.put(t, fleet.registry, fleet.ruleKey, 'condition-router', conditionRule(fleet, [`method = read & arguments[0] = hot => port = ${port}`]));
      const hot = new CallLoop(t, () => fleet.proxy.read('hot'), 2);
      const cold = new CallLoop(t, () => fleet.proxy.read('cold'), 2);
      await within(2000, async () => (await hot.next(40)).every((answer) => answer === 'a'), 'read("hot") going to a only');
      assert.deepEqual(labelsOf(await hot.next(200)), new Set(['a']));
      assert.deepEqual(labelsOf(await cold.next(200)), new Set(['a', 'b']), 'read("cold") still goes to both');
    });

    test('a tag rule: tagged calls go to the tagged provider, untagged ones never do, an unknown tag falls back unless forced', async (t) => {
      const fleet = await startFleet(t, backend, ['a', 'b']);
      const [a] = fleet.providers;
      const tagged = (tag: string, force = false) => fleet.proxy.whoami.with({ metadata: { 'dubbo.tag': tag, ...(force ? { 'dubbo.force.tag': 'true' } : {}) } });
      const gray = new CallLoop(t, () => tagged('gray')(), 2);
      const plain = new CallLoop(t, () => fleet.proxy.whoami(), 2);
      await backend.put(t, fleet.registry, fleet.app, 'tag-router', tagRule(fleet, 'gray', fleet.address(a!)));
      await within(2000, async () => (await gray.next(40)).every((answer) => answer === 'a'), 'calls tagged gray going to a only');
      await within(2000, async () => (await plain.next(40)).every((answer) => answer === 'b'), 'untagged calls kept off the tagged provider');
      assert.deepEqual(labelsOf(await gray.next(200)), new Set(['a']));
      assert.deepEqual(labelsOf(await plain.next(200)), new Set(['b']));
      // A tag no provider has falls back to the untagged providers...
      assert.equal(await tagged('blue')(), 'b');
      // ...unless the call forces its tag: then it fails, saying why.
      await assert.rejects(tagged('blue', true)(), (error: RpcError) => {
        assert.equal(error.code, Code.UNAVAILABLE);
        assert.match(error.message, /no provider has the tag "blue", and the call asks for it alone \(dubbo\.force\.tag: true\)/);
        return true;
      });
      await backend.remove(t, fleet.registry, fleet.app, 'tag-router');
      await within(2000, async () => labelsOf(await plain.next(40)).size === 2, 'untagged calls reaching both providers once the rule was deleted');
    });
  });
}
