// Provider-side override rules obeyed by a running server: what it announces (weight, disabled,
// registered again as Dubbo re-exports), and how it runs calls (timeout, executes, tps).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Code } from '../../src/index.js';
import { startClient, type ProbeProvider } from '../support/cluster.js';
import { CallLoop, registryView, startFleet, timed, within, type Fleet, type RuleBackend } from './wiring-kit.js';

function providerRule(fleet: Fleet, provider: ProbeProvider, parameters: Record<string, string | number | boolean>): string {
  const lines = Object.entries(parameters).map(([name, value]) => `      ${name}: ${value}\n`).join('');
  return `configVersion: v2.7\nscope: service\nkey: ${fleet.yamlKey}\nenabled: true\nconfigs:\n  - side: provider\n    addresses: ["${fleet.address(provider)}"]\n    parameters:\n${lines}`;
}

export function providerScenarios(backend: RuleBackend): void {
  describe(`provider-side override rules (${backend.name})`, () => {
    test('a provider-side weight, then disabled, changes what the server announces; consumers stop calling it; deleting the rule restores it', async (t) => {
      const fleet = await startFleet(t, backend, ['a', 'b']);
      const [a] = fleet.providers;
      const view = registryView(t, fleet.registry, fleet.definition);
      const entryOf = (provider: ProbeProvider) => view.latest().find((entry) => entry.address === provider.address);
      await within(2000, () => entryOf(a!) !== undefined, 'the registry listing provider a');
      assert.equal(entryOf(a!)!.params.application, fleet.app, 'the server announces its application');
      assert.equal(entryOf(a!)!.weight, 100);
      await backend.put(t, fleet.registry, fleet.ruleKey, 'configurators', providerRule(fleet, a!, { weight: 7 }));
      await within(2000, () => entryOf(a!)?.weight === 7, 'provider a announcing weight 7');
      assert.equal(entryOf(fleet.providers[1]!)?.weight, 100, 'the rule names a only');
      const loop = new CallLoop(t, () => fleet.proxy.whoami());
      await backend.put(t, fleet.registry, fleet.ruleKey, 'configurators', providerRule(fleet, a!, { weight: 7, disabled: true }));
      await within(2000, () => entryOf(a!)?.params.disabled === 'true', 'provider a announcing disabled=true');
      await within(2000, async () => (await loop.next(40)).every((answer) => answer === 'b'), 'no call reaching the disabled provider a');
      const mark = loop.answers.length;
      await loop.next(200);
      assert.equal(loop.countSince(mark, 'a'), 0);
      await backend.remove(t, fleet.registry, fleet.ruleKey, 'configurators');
      await within(2000, () => entryOf(a!)?.weight === 100 && entryOf(a!)?.params.disabled === undefined, 'provider a announcing its own weight and no disabled');
      const removed = loop.answers.length;
      await within(2000, () => loop.countSince(removed, 'a') > 0, 'provider a getting calls again');
      assert.equal(view.latest().filter((entry) => entry.address === a!.address).length, 1, 'registered again in place: one entry, not two');
    });

    test('a provider-side timeout ends calls that run longer with DEADLINE_EXCEEDED on the server', async (t) => {
      const fleet = await startFleet(t, backend, ['a']);
      const [a] = fleet.providers;
      // Straight to the server: the consumer's own deadline (10 s) is not what ends the call.
      const direct = startClient(t, { url: a!.address, timeoutMs: 10_000 }).proxy(fleet.definition);
      await backend.put(t, fleet.registry, fleet.ruleKey, 'configurators', providerRule(fleet, a!, { timeout: 300 }));
      await within(2000, async () => (await timed(() => direct.sleep(1000))).error?.code === Code.DEADLINE_EXCEEDED, 'calls ending at the server\'s 300 ms timeout');
      const outcome = await timed(() => direct.sleep(3000));
      assert.equal(outcome.error?.code, Code.DEADLINE_EXCEEDED);
      assert.match(outcome.error!.message, /ran past the provider's timeout of 300 ms/);
      assert.ok(outcome.ms >= 295 && outcome.ms < 2500, `ended after ${outcome.ms.toFixed(0)} ms`);
      assert.equal(await direct.whoami(), 'a', 'calls that finish in time are answered');
    });

    test('provider-side executes and tps limit the calls the server runs', async (t) => {
      const fleet = await startFleet(t, backend, ['a']);
      const [a] = fleet.providers;
      const direct = startClient(t, { url: a!.address, cluster: 'failfast' }).proxy(fleet.definition);
      await backend.put(t, fleet.registry, fleet.ruleKey, 'configurators', providerRule(fleet, a!, { executes: 1 }));
      const pair = () => Promise.all([timed(() => direct.sleep(300)), timed(() => direct.sleep(300))]);
      await within(2000, async () => (await pair()).some((outcome) => outcome.error?.code === Code.RESOURCE_EXHAUSTED), 'a second concurrent call refused');
      const outcomes = await pair();
      assert.deepEqual(outcomes.map((outcome) => outcome.error?.code ?? 'ok').sort(), ['ok', Code.RESOURCE_EXHAUSTED].sort());
      await backend.put(t, fleet.registry, fleet.ruleKey, 'configurators', providerRule(fleet, a!, { tps: 3 }));
      // 3 calls a minute: the fourth in a row is refused.
      await within(2000, async () => {
        const codes = [];
        for (let i = 0; i < 4; i++) codes.push((await timed(() => direct.whoami())).error?.code);
        return codes.includes(Code.RESOURCE_EXHAUSTED);
      }, 'calls beyond 3 a minute refused');
      assert.equal((await timed(() => direct.whoami())).error?.code, Code.RESOURCE_EXHAUSTED);
      await backend.remove(t, fleet.registry, fleet.ruleKey, 'configurators');
      await within(2000, async () => (await timed(() => direct.whoami())).value === 'a', 'calls answered again once the rule was deleted');
    });
  });
}
