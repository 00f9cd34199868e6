import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createConditionRouter, parseConditionRouter } from '../../src/rules/condition-router.js';
import { RuleError } from '../../src/rules/rule-error.js';
import { addresses, call, provider } from './fixtures.js';

const providers = [
  provider('10.0.0.1:20880', { region: 'hz', application: 'store' }),
  provider('10.0.0.2:20880', { region: 'hz', application: 'store' }),
  provider('10.0.0.3:20881', { region: 'bj', application: 'store' }),
];

function router(conditions: string[], head = '') {
  return createConditionRouter(parseConditionRouter(`${head}conditions:\n${conditions.map((c) => `  - ${JSON.stringify(c)}`).join('\n')}\n`));
}

describe('parseConditionRouter', () => {
  it('reads the fields with Dubbo\'s defaults', () => {
    const rule = parseConditionRouter('conditions: ["=> host = a"]');
    assert.deepEqual({ ...rule, conditions: rule.conditions.length }, { kind: 'condition-router', configVersion: 'v2.7', enabled: true, force: false, runtime: true, priority: 0, conditions: 1 });
    const full = parseConditionRouter('configVersion: v3.0\nscope: application\nkey: shop\nenabled: false\nforce: true\nruntime: false\npriority: 3\nconditions: ["=> host = a"]');
    assert.deepEqual({ ...full, conditions: full.conditions.length }, { kind: 'condition-router', configVersion: 'v3.0', scope: 'application', key: 'shop', enabled: false, force: true, runtime: false, priority: 3, conditions: 1 });
  });

  const malformed: Array<[string, RegExp]> = [
    ['conditions: []', /conditions lists no condition/],
    ['force: true', /the field "conditions" is required/],
    ['conditions: "=> host = a"', /expected a list of conditions/],
    ['conditions: [42]', /expected a condition \(when => then\), found 42/],
    ['conditions: ["host = => a = b"]', /at conditions\[0\].*"=" must be followed by a value \(at character 6\)/],
    ['conditions: ["=> a = b", "x = 1 => arguments[0] = 1"]', /at conditions\[1\].*belongs before =>/],
    ['force: sometimes\nconditions: ["=> a = b"]', /at force.*expected true or false/],
    ['priority: high\nconditions: ["=> a = b"]', /at priority.*expected an integer/],
    ['scope: cluster\nconditions: ["=> a = b"]', /expected one of service, application/],
    ['configVersion: v3.1\nconditions: [{from: {match: "method=a"}, to: []}]', /v3.1 \(multi-destination\) rules are not supported/],
    ['runtim: true\nconditions: ["=> a = b"]', /unknown field "runtim"/],
    ['valid: false\nconditions: ["=> a = b"]', /marks the rule unusable/],
  ];
  for (const [text, message] of malformed) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseConditionRouter(text), (error: unknown) => error instanceof RuleError && message.test(error.message));
    });
  }
});

describe('condition routing: Dubbo\'s semantics', () => {
  it('filters providers with the then part for calls the when part describes', () => {
    const routed = router(['method = get* => region = hz']);
    assert.deepEqual(addresses(routed.route(providers, call('getUser'))), ['10.0.0.1:20880', '10.0.0.2:20880']);
    assert.equal(routed.route(providers, call('put')), providers, 'a call the when part does not describe is not routed, and the list is not copied');
  });

  it('applies every call when the when part is empty', () => {
    assert.deepEqual(addresses(router(['=> port = 20881']).route(providers, call('x'))), ['10.0.0.3:20881']);
  });

  it('refuses a call the when part describes when the then part is empty, force or not', () => {
    for (const head of ['', 'force: false\n', 'force: true\n']) {
      const routed = router(['host = 10.0.0.100 =>'], head);
      assert.deepEqual(routed.route(providers, call('get')), []);
      assert.match(routed.explainEmpty(providers, call('get'))!, /the condition rule "host = 10.0.0.100 =>" refuses calls of get/);
      assert.equal(routed.route(providers, call('get', { consumerHost: '10.0.0.101' })).length, 3);
    }
  });

  it('falls back to every provider when the then part keeps none and force is false', () => {
    const routed = router(['=> region = sh']);
    assert.equal(routed.route(providers, call('get')), providers);
    assert.equal(routed.explainEmpty(providers, call('get')), undefined);
  });

  it('fails the call when the then part keeps none and force is true, saying why', () => {
    const routed = router(['=> region = sh'], 'force: true\n');
    assert.deepEqual(routed.route(providers, call('get')), []);
    assert.equal(routed.explainEmpty(providers, call('get')), 'the condition rule "=> region = sh" (force: true) keeps none of the 3 providers');
  });

  it('applies conditions in order, each to what the one before kept', () => {
    const routed = router(['=> region = hz', 'method = get => host != 10.0.0.1', 'method = get => port = 20881']);
    assert.deepEqual(addresses(routed.route(providers, call('get'))), ['10.0.0.2:20880'], 'the third keeps nothing of what is left, and is ignored');
    assert.deepEqual(addresses(routed.route(providers, call('put'))), ['10.0.0.1:20880', '10.0.0.2:20880']);
  });

  it('changes nothing when disabled, or with no provider', () => {
    const routed = router(['=>'], 'enabled: false\n');
    assert.equal(routed.route(providers, call('get')), providers);
    const empty: typeof providers = [];
    assert.equal(router(['=> host = a'], 'force: true\n').route(empty, call('get')), empty);
  });

  it('reads arguments, metadata, the consumer and the provider', () => {
    const routed = router(['arguments[0] = 1~100 & attachments[x-tenant] = vip-* => region = bj'], 'force: true\n');
    assert.deepEqual(addresses(routed.route(providers, call('get', { args: [42], metadata: { 'x-tenant': 'vip-acme' } }))), ['10.0.0.3:20881']);
    assert.equal(routed.route(providers, call('get', { args: [420], metadata: { 'x-tenant': 'vip-acme' } })).length, 3);
    assert.equal(routed.route(providers, call('get', { args: ['42'], metadata: { 'x-tenant': 'acme' } })).length, 3);
    assert.equal(routed.route(providers, call('get', { args: [42] })).length, 3, 'absent metadata matches neither = nor !=');
    assert.equal(routed.readsCallData, true);
    assert.equal(router(['method = a & application = shop => host = $host']).readsCallData, false);
  });

  it('compares arguments as Dubbo writes them: text, numbers, booleans, null', () => {
    const routed = router(['arguments[0] = true & arguments[1] = null & arguments[2] = 7 => region = bj']);
    assert.equal(routed.route(providers, call('get', { args: [true, null, 7] })).length, 1);
    assert.equal(routed.route(providers, call('get', { args: [true, undefined, 7n] })).length, 1);
    assert.equal(routed.route(providers, call('get', { args: ['true', 'x', 7] })).length, 3);
  });

  it('lets a missing argument match only *', () => {
    assert.equal(router(['arguments[1] != vip => region = bj']).route(providers, call('get', { args: ['a'] })).length, 1);
    assert.equal(router(['arguments[1] = * => region = bj']).route(providers, call('get', { args: ['a'] })).length, 1);
    assert.equal(router(['arguments[1] = v* => region = bj']).route(providers, call('get', { args: ['a'] })).length, 3);
    assert.equal(router(['arguments[0] != x => region = bj']).route(providers, call('get', { args: [{ id: 1 }] })).length, 1, 'an object is missing too');
  });

  it('resolves $references against the consumer, as globs', () => {
    const local = [...providers, provider('10.0.0.100:20880', { region: 'hz' })];
    assert.deepEqual(addresses(router(['=> host = $host']).route(local, call('get'))), ['10.0.0.100:20880']);
    const byRegion = router(['=> region = $region']);
    assert.deepEqual(addresses(byRegion.route(providers, call('get', { consumerParams: { region: 'b*' } }))), ['10.0.0.3:20881']);
    assert.equal(byRegion.route(providers, call('get')).length, 3, 'an absent consumer value matches no provider, and force is false');
  });

  it('compares provider fields: port, address, application, version, group, protocol, parameters', () => {
    const versioned = [provider('10.0.0.1:1', { version: '1.0.0', group: 'blue' }), provider('10.0.0.2:2', { version: '2.0.0' })];
    const cases: Array<[string, string[]]> = [
      ['=> port = 2', ['10.0.0.2:2']],
      ['=> address = 10.0.0.1:1', ['10.0.0.1:1']],
      ['=> address = *:2', ['10.0.0.2:2']],
      ['=> version = 2.*', ['10.0.0.2:2']],
      ['=> group = blue', ['10.0.0.1:1']],
      ['=> group != blue', []],
      ['=> protocol = tcp & interface = demo.Store', ['10.0.0.1:1', '10.0.0.2:2']],
      ['=> port = 0~1', ['10.0.0.1:1']],
      ['=> constructor = *', []],
    ];
    for (const [condition, expected] of cases) {
      const routed = router([condition], 'force: true\n');
      assert.deepEqual(addresses(routed.route(versioned, call('get'))), expected, condition);
    }
  });

  it('remembers what it kept of a list: the same list routed again gives the same array', () => {
    const routed = router(['method = get => region = hz', 'method = get => host != 10.0.0.1']);
    const first = routed.route(providers, call('get'));
    assert.equal(routed.route(providers, call('get')), first);
    assert.deepEqual(addresses(first), ['10.0.0.2:20880']);
    const fewer = providers.slice(1);
    assert.deepEqual(addresses(routed.route(fewer, call('get'))), ['10.0.0.2:20880'], 'another list is routed afresh');
  });

  it("remembers a rule's answer per method, checking the consumer values its when part reads", () => {
    const routed = router(['application = bops => region = bj', 'method = put => port = 20880']);
    assert.deepEqual(addresses(routed.route(providers, call('get', { consumerApplication: 'bops' }))), ['10.0.0.3:20881']);
    assert.equal(routed.route(providers, call('get', { consumerApplication: 'shop' })), providers);
    assert.deepEqual(addresses(routed.route(providers, call('get', { consumerApplication: 'bops' }))), ['10.0.0.3:20881']);
    assert.deepEqual(addresses(routed.route(providers, call('put', { consumerApplication: 'shop' }))), ['10.0.0.1:20880', '10.0.0.2:20880']);
    assert.equal(routed.route(providers, call('put')), routed.route(providers, call('put')));
  });

  it("keys what it remembers by the consumer's values when the then part refers to them", () => {
    const routed = router(['=> host = $host']);
    const local = [provider('10.0.0.1:1'), provider('10.0.0.2:1')];
    assert.deepEqual(addresses(routed.route(local, call('get', { consumerHost: '10.0.0.1' }))), ['10.0.0.1:1']);
    assert.deepEqual(addresses(routed.route(local, call('get', { consumerHost: '10.0.0.2' }))), ['10.0.0.2:1']);
    assert.deepEqual(addresses(routed.route(local, call('get', { consumerHost: '10.0.0.1' }))), ['10.0.0.1:1']);
  });

  it('routes any list that holds providers, through an accessor', () => {
    const invokers = providers.map((entry, index) => ({ entry, index }));
    const kept = router(['=> region = bj']).route(invokers, call('get'), (invoker) => invoker.entry);
    assert.deepEqual(kept.map((invoker) => invoker.index), [2]);
  });

  it('never adds a provider nor reorders them; a non-forced rule without a blacklist never empties a list', () => {
    const pool = Array.from({ length: 6 }, (_, i) => provider(`10.0.${i % 2}.${i}:${20880 + (i % 3)}`, { region: ['hz', 'bj', 'sh'][i % 3]!, application: `app${i % 2}` }));
    const atom = fc.constantFrom('host = 10.0.0.*', 'host != 10.0.1.*', 'port = 20880,20881', 'region = hz', 'region != bj', 'application = app1', 'port = 20881~');
    const condition = fc.tuple(fc.constantFrom('', 'method = get*', 'arguments[0] = 1~5', 'application = shop'), fc.uniqueArray(atom, { minLength: 1, maxLength: 2 }))
      .map(([when, then]) => `${when} => ${then.join(' & ')}`);
    fc.assert(
      fc.property(fc.array(condition, { minLength: 1, maxLength: 3 }), fc.subarray(pool, { minLength: 1 }), fc.boolean(), fc.constantFrom('get', 'put'), fc.nat(8), (conditions, list, force, method, arg) => {
        const routed = router(conditions, force ? 'force: true\n' : '').route(list, call(method, { args: [arg] }));
        let last = -1;
        for (const entry of routed) {
          const at = list.indexOf(entry);
          assert.ok(at > last, 'kept providers come from the list, in order');
          last = at;
        }
        if (!force) assert.ok(routed.length > 0);
      }),
      { numRuns: 300 },
    );
  });
});
