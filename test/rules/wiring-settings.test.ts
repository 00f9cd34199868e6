// What consumer-side configurators make of a reference's settings and of each provider entry, and a
// reference's plans made again when (and only when) those settings change.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { registerBalancer } from '../../src/cluster/balancers/index.js';
import { parseConfigurator } from '../../src/rules/configurator.js';
import { providerAdjuster, referenceSettings } from '../../src/rules/consumer-settings.js';
import { withEntryOverrides } from '../../src/rules/entry-overrides.js';
import { provider } from './fixtures.js';
import { embeddedBackend, startFleet, within } from './wiring-kit.js';

const consumer = { application: 'shop', service: { name: 'demo.Store', version: '1.0.0', group: 'blue' } };

function rule(items: string, key = 'blue/demo.Store:1.0.0'): ReturnType<typeof parseConfigurator> {
  return parseConfigurator(`configVersion: v2.7\nscope: service\nkey: ${key}\nconfigs:\n${items}`);
}

describe('consumer settings from configurators', () => {
  test('items for every provider set the reference, for the service and per method; a key names the service as group/name:version', () => {
    const rules = [rule('  - side: consumer\n    parameters:\n      timeout: 500\n      retries: 0\n      sleep.timeout: 90\n      actives: 0\n  - side: provider\n    parameters:\n      executes: 3\n')];
    const settings = referenceSettings(rules, consumer, '127.0.0.1');
    assert.deepEqual({ ...settings, methods: { ...settings!.methods } }, { timeoutMs: 500, retries: 0, maxActivePerProvider: Infinity, methods: { sleep: { timeoutMs: 90 } } });
    // The node of `demo.Store:1.0.0:blue` holding a rule keyed for another version changes nothing.
    assert.equal(referenceSettings([rule('  - side: consumer\n    parameters:\n      timeout: 500\n', 'blue/demo.Store:2.0.0')], consumer, '127.0.0.1'), undefined);
    assert.equal(referenceSettings([undefined, undefined], consumer, '127.0.0.1'), undefined);
  });

  test('items aimed at one provider change that entry only: weight, disabled, and its own timeouts', () => {
    const aimed = rule('  - side: consumer\n    parameters:\n      timeout: 500\n'
      + '  - side: consumer\n    providerAddresses: ["10.0.0.1:20880"]\n    parameters:\n      weight: 7\n      disabled: false\n      timeout: 80\n'
      + '  - side: consumer\n    providerAddresses: ["10.0.0.2:20880"]\n    parameters:\n      disabled: true\n');
    const service = referenceSettings([aimed], consumer, '127.0.0.1');
    assert.equal(service?.timeoutMs, 500, 'aimed items do not set the service');
    const adjust = providerAdjuster([aimed], consumer, service, (error) => assert.fail(String(error)))!;
    const key = { version: '1.0.0', group: 'blue' };
    const first = adjust(provider('10.0.0.1:20880', { ...key, disabled: 'true' }))!;
    assert.equal(first.provider.weight, 7);
    assert.equal(first.provider.params.disabled, 'false', 'disabled: false takes back the entry\'s own disabled=true');
    assert.deepEqual(first.timeouts, { timeoutMs: 80 });
    const second = adjust(provider('10.0.0.2:20880', key))!;
    assert.equal(second.provider.params.disabled, 'true');
    assert.equal(second.timeouts, undefined, 'the service\'s timeout is the call\'s own: nothing per provider');
    assert.equal(adjust(provider('10.0.0.3:20880', key)), undefined, 'an entry no aimed item names is left as it is');
    assert.equal(providerAdjuster([undefined], consumer, undefined, () => {}), undefined, 'no rule, no adjuster');
  });

  test('an entry the overrides leave as it is keeps its identity', () => {
    const entry = provider('10.0.0.1:20880', { weight: '100' });
    assert.equal(withEntryOverrides(entry, { weight: 100, disabled: false }), entry);
    assert.notEqual(withEntryOverrides(entry, { weight: 5 }), entry);
  });
});

describe('a reference\'s plans and the rules (embedded)', () => {
  test('plans are made again when the rules change what they set, and only then', async (t) => {
    let made = 0;
    registerBalancer('wiring-counting', () => {
      made++;
      return { select: (candidates) => candidates[0]! };
    });
    const fleet = await startFleet(t, embeddedBackend, ['a'], { loadBalance: 'wiring-counting' });
    const calls = async () => {
      for (let i = 0; i < 5; i++) await fleet.proxy.whoami();
    };
    await calls();
    assert.equal(made, 1, 'one balancer for whoami');
    const write = (text: string) => embeddedBackend.put(t, fleet.registry, fleet.ruleKey, 'configurators', text);
    const retries = (n: number, comment = '') => `${comment}configVersion: v2.7\nscope: service\nkey: ${fleet.yamlKey}\nconfigs:\n  - side: consumer\n    parameters:\n      retries: ${n}\n`;
    await write(retries(5));
    await within(2000, async () => {
      await calls();
      return made === 2;
    }, 'the plan of whoami made again for the rule');
    // The same settings, written again with a comment and an item for the provider side: nothing to make again.
    await write(`${retries(5, '# reviewed\n')}  - side: provider\n    parameters:\n      weight: 50\n`);
    await within(2000, () => fleet.clientLog.filter((entry) => entry.msg === 'rule in force').length >= 2, 'the client reading the rule again');
    await calls();
    assert.equal(made, 2, 'no plan made again for rules that change nothing here');
  });
});
