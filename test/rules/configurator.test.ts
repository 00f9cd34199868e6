import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigurator, type ConfiguratorRule } from '../../src/rules/configurator.js';
import { overridesFor, type OverrideTarget } from '../../src/rules/configurator-match.js';
import { RuleError } from '../../src/rules/rule-error.js';
import { provider } from './fixtures.js';

/** A consumer-side rule around `items` (YAML of the configs list). */
function rule(items: string, head = 'configVersion: v2.7\nscope: service\nkey: demo.Store'): ConfiguratorRule {
  return parseConfigurator(`${head}\nconfigs:\n${items}`);
}

function consumer(host = '10.0.0.100', application = 'shop', at = '10.0.0.1:20880', params: Record<string, string> = {}): OverrideTarget {
  return { side: 'consumer', localHost: host, application, provider: provider(at, params) };
}

function plain(record: Record<string, string>): Record<string, string> {
  return { ...record };
}

const malformed: Array<[string, string, RegExp]> = [
  ['no key', 'configs:\n  - side: consumer\n    parameters: {timeout: 1}', /at key .*the field "key" is required/],
  ['no configs', 'key: demo.Store', /the field "configs" is required/],
  ['empty configs', 'key: demo.Store\nconfigs: []', /configs lists nothing/],
  ['configs not a list', 'key: demo.Store\nconfigs: {side: consumer}', /expected a list of configs, found a map/],
  ['an unknown top field', 'key: demo.Store\nenable: false\nconfigs:\n  - side: consumer\n    parameters: {timeout: 1}', /at enable \(line 2, column 1\): unknown field "enable"/],
  ['an unknown scope', 'scope: global\nkey: demo.Store\nconfigs:\n  - side: consumer\n    parameters: {timeout: 1}', /expected one of service, application, found "global"/],
  ['an unknown version', 'configVersion: v9\nkey: demo.Store\nconfigs:\n  - side: consumer\n    parameters: {timeout: 1}', /expected v2.7 or v3.0/],
  ['enabled that is no boolean', 'key: demo.Store\nenabled: maybe\nconfigs:\n  - side: consumer\n    parameters: {timeout: 1}', /expected true or false, found "maybe"/],
  ['a numeric key', 'key: 42\nconfigs:\n  - side: consumer\n    parameters: {timeout: 1}', /expected a service key, found 42/],
  ['no side', 'key: demo.Store\nconfigs:\n  - parameters: {timeout: 1}', /configs\[0\]\.side.*the field "side" is required/],
  ['an unknown side', 'key: demo.Store\nconfigs:\n  - side: both\n    parameters: {timeout: 1}', /expected one of consumer, provider/],
  ['no parameters', 'key: demo.Store\nconfigs:\n  - side: consumer', /the field "parameters" is required/],
  ['empty parameters', 'key: demo.Store\nconfigs:\n  - side: consumer\n    parameters: {}', /parameters is empty/],
  ['a parameter without a value', 'key: demo.Store\nconfigs:\n  - side: consumer\n    parameters:\n      timeout:', /parameters\.timeout .*found nothing/],
  ['a parameter holding a map', 'key: demo.Store\nconfigs:\n  - side: consumer\n    parameters: {timeout: {ms: 1}}', /parameters\.timeout .*found a map/],
  ['a timeout that is no number', 'key: demo.Store\nconfigs:\n  - side: consumer\n    parameters: {timeout: abc}', /"abc" is not a valid timeout: expected a whole number/],
  ['a zero timeout', 'key: demo.Store\nconfigs:\n  - side: consumer\n    parameters: {timeout: 0}', /not a valid timeout: expected at least 1/],
  ['a fractional weight', 'key: demo.Store\nconfigs:\n  - side: provider\n    parameters: {weight: 1.5}', /not a valid weight/],
  ['a negative weight', 'key: demo.Store\nconfigs:\n  - side: provider\n    parameters: {weight: -1}', /not a valid weight: expected at least 0/],
  ['an unknown balancer', 'key: demo.Store\nconfigs:\n  - side: consumer\n    parameters: {loadbalance: adaptive}', /unknown load balancer "adaptive"; known: random/],
  ['an unknown strategy', 'key: demo.Store\nconfigs:\n  - side: consumer\n    parameters: {cluster: failfase}', /unknown cluster strategy "failfase"/],
  ['disabled that is no boolean', 'key: demo.Store\nconfigs:\n  - side: provider\n    parameters: {disabled: "1"}', /not a valid disabled: expected true or false/],
  ['a breaker rate above 1', 'key: demo.Store\nconfigs:\n  - side: consumer\n    parameters: {circuitbreaker.failureRateThreshold: 1.5}', /expected a share above 0/],
  ['a breaker switched off and configured', 'key: demo.Store\nconfigs:\n  - side: consumer\n    parameters: {circuitbreaker: false, circuitbreaker.openMs: 100}', /circuitbreaker is false, yet/],
  ['hash.arguments that are no positions', 'key: demo.Store\nconfigs:\n  - side: consumer\n    parameters: {hash.arguments: "0,x"}', /not a valid hash.arguments/],
  ['a method timeout that is no number', 'key: demo.Store\nconfigs:\n  - side: consumer\n    parameters: {sayHello.timeout: soon}', /not a valid sayHello.timeout/],
  ['a reserved parameter', 'key: demo.Store\nconfigs:\n  - side: consumer\n    parameters: {application: other}', /"application" is where a rule applies/],
  ['a parameter name with a space', 'key: demo.Store\nconfigs:\n  - side: consumer\n    parameters: {"a b": 1}', /"a b" is not a parameter name/],
  ['an address that is no address', 'key: demo.Store\nconfigs:\n  - side: consumer\n    addresses: ["10.0.0.1/24"]\n    parameters: {timeout: 1}', /is not host, host:port/],
  ['addresses that are no list', 'key: demo.Store\nconfigs:\n  - side: consumer\n    addresses: 0.0.0.0\n    parameters: {timeout: 1}', /expected a list, found "0.0.0.0"/],
  ['an empty address', 'key: demo.Store\nconfigs:\n  - side: consumer\n    addresses: [""]\n    parameters: {timeout: 1}', /found empty text/],
  ['services in a service-scoped rule', 'key: demo.Store\nconfigs:\n  - side: consumer\n    services: [other.Service]\n    parameters: {timeout: 1}', /services is for application-scoped rules/],
  ['applications in an application-scoped rule', 'scope: application\nkey: shop\nconfigs:\n  - side: consumer\n    applications: [shop]\n    parameters: {timeout: 1}', /applications is for service-scoped rules/],
  ['match in a v2.7 rule', 'key: demo.Store\nconfigs:\n  - side: consumer\n    match: {application: {oneof: [{exact: shop}]}}\n    parameters: {timeout: 1}', /"match" needs configVersion: v3.0/],
  ['a regex match', 'configVersion: v3.0\nkey: demo.Store\nconfigs:\n  - side: consumer\n    match: {application: {oneof: [{regex: "(a+)+$"}]}}\n    parameters: {timeout: 1}', /regex matches are not supported/],
  ['a match with two kinds', 'configVersion: v3.0\nkey: demo.Store\nconfigs:\n  - side: consumer\n    match: {application: {exact: a, prefix: b}}\n    parameters: {timeout: 1}', /exactly one kind of match, found exact and prefix/],
  ['an unknown match field', 'configVersion: v3.0\nkey: demo.Store\nconfigs:\n  - side: consumer\n    match: {host: {exact: a}}\n    parameters: {timeout: 1}', /unknown field "host"/],
  ['a bad cird', 'configVersion: v3.0\nkey: demo.Store\nconfigs:\n  - side: consumer\n    match: {address: {cird: "10.0.0.0/40"}}\n    parameters: {timeout: 1}', /prefix length must be 0 to 32/],
  ['a legacy list of override URLs', '["override://0.0.0.0/demo.Store?timeout=1"]', /expected a configurator rule/],
];

describe('parseConfigurator: malformed rules are refused whole', () => {
  for (const [what, text, message] of malformed) {
    it(`refuses ${what}`, () => {
      assert.throws(() => parseConfigurator(text), (error: unknown) => {
        assert.ok(error instanceof RuleError);
        assert.match(error.message, /^invalid configurator rule/);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});

describe('parseConfigurator: what a rule holds', () => {
  it('defaults: v2.7, service scope, enabled, every address', () => {
    const parsed = parseConfigurator('key: demo.Store\nconfigs:\n  - side: consumer\n    parameters: {timeout: 100}');
    assert.equal(parsed.configVersion, 'v2.7');
    assert.equal(parsed.scope, 'service');
    assert.equal(parsed.enabled, true);
    assert.deepEqual(parsed.configs[0]!.addresses, ['0.0.0.0']);
    assert.deepEqual([...parsed.configs[0]!.parameters], [['timeout', '100']]);
  });

  it('keeps parameter names such as __proto__ in a Map, and never on an object prototype', () => {
    const parsed = rule('  - side: consumer\n    parameters:\n      __proto__: polluted\n      constructor: x\n      timeout: 5');
    assert.deepEqual([...parsed.configs[0]!.parameters.keys()], ['__proto__', 'constructor', 'timeout']);
    const params = overridesFor([parsed], consumer());
    assert.equal(Object.getPrototypeOf(params), null);
    assert.deepEqual(Object.keys(params), ['__proto__', 'constructor', 'timeout']);
    assert.equal(params.__proto__, 'polluted');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('reads numbers and booleans among parameters as text, as Dubbo does', () => {
    const parsed = rule('  - side: provider\n    parameters: {weight: 200, disabled: true, threads: 0x10}');
    assert.deepEqual(Object.fromEntries(parsed.configs[0]!.parameters), { weight: '200', disabled: 'true', threads: '16' });
  });
});

describe('overridesFor: where an item applies', () => {
  it('applies consumer items on consumers only, and provider items on providers only', () => {
    const parsed = rule('  - side: consumer\n    parameters: {timeout: 100}\n  - side: provider\n    parameters: {weight: 50}');
    assert.deepEqual(plain(overridesFor([parsed], consumer())), { timeout: '100' });
    const own = provider('10.0.0.1:20880');
    assert.deepEqual(plain(overridesFor([parsed], { side: 'provider', localHost: 'ignored', application: 'store', provider: own })), { weight: '50' });
  });

  it('compares consumer-side addresses with the consumer host, ports ignored', () => {
    const parsed = rule('  - side: consumer\n    addresses: ["10.0.0.7:1234", "10.0.0.8"]\n    parameters: {timeout: 100}');
    assert.deepEqual(plain(overridesFor([parsed], consumer('10.0.0.7'))), { timeout: '100' });
    assert.deepEqual(plain(overridesFor([parsed], consumer('10.0.0.8'))), { timeout: '100' });
    assert.deepEqual(plain(overridesFor([parsed], consumer('10.0.0.9'))), {});
  });

  it('compares provider-side addresses with the provider, host and port', () => {
    const parsed = rule('  - side: provider\n    addresses: ["10.0.0.1:20880"]\n    parameters: {weight: 0}');
    const target = (at: string): OverrideTarget => ({ side: 'provider', localHost: '1.1.1.1', provider: provider(at) });
    assert.deepEqual(plain(overridesFor([parsed], target('10.0.0.1:20880'))), { weight: '0' });
    assert.deepEqual(plain(overridesFor([parsed], target('10.0.0.1:20881'))), {});
    assert.deepEqual(plain(overridesFor([parsed], target('10.0.0.2:20880'))), {});
  });

  it('reads providerAddresses as Dubbo does: host:port, host, 0.0.0.0, 0.0.0.0:* and 0.0.0.0:port', () => {
    const cases: Array<[string, string, boolean]> = [
      ['10.0.0.1:20880', '10.0.0.1:20880', true],
      ['10.0.0.1:20880', '10.0.0.1:20881', false],
      ['10.0.0.1', '10.0.0.1:20881', true],
      ['0.0.0.0', '10.9.9.9:1', true],
      ['0.0.0.0:*', '10.9.9.9:1', true],
      ['0.0.0.0:20880', '10.9.9.9:20880', true],
      ['0.0.0.0:20880', '10.9.9.9:20881', false],
    ];
    for (const [pattern, at, applies] of cases) {
      const parsed = rule(`  - side: consumer\n    providerAddresses: ["${pattern}"]\n    parameters: {timeout: 100}`);
      assert.equal('timeout' in overridesFor([parsed], consumer('10.0.0.100', 'shop', at)), applies, `${pattern} vs ${at}`);
    }
  });

  it("matches a service-scoped rule's key and applications exactly", () => {
    const versioned = rule('  - side: consumer\n    applications: [shop, billing]\n    parameters: {timeout: 100}', 'key: blue/demo.Store:1.0.0');
    const entry = provider('10.0.0.1:20880', { version: '1.0.0', group: 'blue' });
    assert.equal(overridesFor([versioned], { ...consumer(), provider: entry }).timeout, '100');
    assert.equal(overridesFor([versioned], { ...consumer('10.0.0.100', 'other'), provider: entry }).timeout, undefined);
    assert.equal(overridesFor([versioned], consumer()).timeout, undefined, 'a provider without the version and group is another service');
    const bare = rule('  - side: consumer\n    parameters: {timeout: 100}', 'key: demo.Store');
    assert.equal(overridesFor([bare], { ...consumer(), provider: entry }).timeout, undefined, 'as in Dubbo, the key must name the version and group');
  });

  it("matches an application-scoped rule's key with this application, and its services", () => {
    const parsed = rule('  - side: consumer\n    services: [demo.Store, "blue/demo.Cart:2.0.0"]\n    parameters: {timeout: 100}', 'scope: application\nkey: shop');
    assert.equal(overridesFor([parsed], consumer()).timeout, '100');
    assert.equal(overridesFor([parsed], consumer('10.0.0.100', 'billing')).timeout, undefined);
    const cart = provider('10.0.0.1:20880', { version: '2.0.0', group: 'blue' }, 'demo.Cart');
    assert.equal(overridesFor([parsed], { ...consumer(), provider: cart }).timeout, '100');
    const other = provider('10.0.0.1:20880', {}, 'demo.Other');
    assert.equal(overridesFor([parsed], { ...consumer(), provider: other }).timeout, undefined);
  });

  it("passes over disabled rules and items; an item's own enabled wins over the rule's", () => {
    const off = rule('  - side: consumer\n    parameters: {timeout: 100}', 'key: demo.Store\nenabled: false');
    assert.deepEqual(plain(overridesFor([off], consumer())), {});
    const itemOn = rule('  - side: consumer\n    enabled: true\n    type: weight\n    parameters: {timeout: 100}', 'key: demo.Store\nenabled: false');
    assert.deepEqual(plain(overridesFor([itemOn], consumer())), { timeout: '100' });
    const itemOff = rule('  - side: consumer\n    enabled: false\n    parameters: {timeout: 100}\n  - side: consumer\n    parameters: {retries: 1}');
    assert.deepEqual(plain(overridesFor([itemOff], consumer())), { retries: '1' });
  });

  it('applies the application rule first and the service rule over it, whatever the order given', () => {
    const app = rule('  - side: consumer\n    parameters: {timeout: 100, retries: 1}', 'scope: application\nkey: shop');
    const service = rule('  - side: consumer\n    parameters: {timeout: 200}');
    assert.deepEqual(plain(overridesFor([service, app], consumer())), { timeout: '200', retries: '1' });
    assert.deepEqual(plain(overridesFor([app, undefined, service], consumer())), { timeout: '200', retries: '1' });
  });

  it('lets an item for a named host win over one for every host, then the higher priority win', () => {
    const parsed = rule([
      '  - side: consumer',
      '    addresses: ["10.0.0.100"]',
      '    parameters: {timeout: 1}',
      '  - side: consumer',
      '    parameters: {timeout: 2, retries: 7, priority: 5}',
      '  - side: consumer',
      '    parameters: {retries: 8, priority: 1}',
    ].join('\n'));
    assert.deepEqual(plain(overridesFor([parsed], consumer())), { timeout: '1', retries: '7', priority: '5' });
    assert.deepEqual(plain(overridesFor([parsed], consumer('10.0.0.1'))), { timeout: '2', retries: '7', priority: '5' });
  });

  it('checks v3.0 match conditions: address, providerAddress, service, application, param', () => {
    const head = 'configVersion: v3.0\nscope: service\nkey: demo.Store';
    const applies = (match: string, target: OverrideTarget) => 'timeout' in overridesFor([rule(`  - side: consumer\n    match: ${match}\n    parameters: {timeout: 1}`, head)], target);
    assert.equal(applies('{address: {cird: "10.0.0.0/24"}}', consumer('10.0.0.100')), true);
    assert.equal(applies('{address: {cird: "10.0.0.0/24"}}', consumer('10.0.1.100')), false);
    assert.equal(applies('{address: {wildcard: "10.0.*"}}', consumer('10.0.5.5')), true);
    assert.equal(applies('{providerAddress: {exact: "10.0.0.1:20880"}}', consumer()), true);
    assert.equal(applies('{providerAddress: {cird: "10.0.0.2"}}', consumer()), false);
    assert.equal(applies('{service: {oneof: [{prefix: "demo."}]}}', consumer()), true);
    assert.equal(applies('{app: {oneof: [{exact: shop}]}}', consumer()), true);
    assert.equal(applies('{application: {exact: billing}}', consumer()), false);
    assert.equal(applies('{param: [{key: region, value: {exact: hz}}]}', consumer('10.0.0.100', 'shop', '10.0.0.1:20880', { region: 'hz' })), true);
    assert.equal(applies('{param: [{key: region, value: {exact: hz}}]}', consumer()), false);
    assert.equal(applies('{param: [{key: region, value: {empty: ""}}]}', consumer()), true);
    assert.equal(applies('{param: [{key: constructor, value: {noempty: ""}}]}', consumer()), false);
  });
});
