import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createConditionRouter, parseConditionRouter } from '../../src/rules/condition-router.js';
import { parseConfigurator } from '../../src/rules/configurator.js';
import { overridesFor, type OverrideTarget } from '../../src/rules/configurator-match.js';
import { RuleError } from '../../src/rules/rule-error.js';
import { routingOverrides } from '../../src/rules/routing-overrides.js';
import { createTagRouter, parseTagRouter } from '../../src/rules/tag-router.js';
import { addresses, call, provider } from './fixtures.js';

// The examples of docs/rules.md, read from the page itself: each ```yaml example=<name> block must
// have a check below, and each check an example, so the page cannot drift from what the code does.
const page = readFileSync(fileURLToPath(new URL('../../docs/rules.md', import.meta.url)), 'utf8');
const examples = new Map([...page.matchAll(/```yaml example=([a-z0-9-]+)\n([\s\S]*?)```/g)].map((match) => [match[1]!, match[2]!]));

function consumerOf(yaml: string, host: string, application: string, at: string, service = 'demo.Store', params: Record<string, string> = {}) {
  const target: OverrideTarget = { side: 'consumer', localHost: host, application, provider: provider(at, params, service) };
  return { ...overridesFor([parseConfigurator(yaml)], target) };
}

function providerOf(yaml: string, application: string, at: string, service = 'demo.Store') {
  return { ...overridesFor([parseConfigurator(yaml)], { side: 'provider', localHost: '127.0.0.1', application, provider: provider(at, {}, service) }) };
}

const checks: Record<string, (yaml: string) => void> = {
  'configurator-consumer-timeout': (yaml) => {
    const service = 'org.apache.dubbo.samples.governance.api.DemoService';
    assert.deepEqual(consumerOf(yaml, '10.1.2.3', 'any', '10.0.0.1:20880', service), { timeout: '6000' });
    assert.deepEqual(routingOverrides(consumerOf(yaml, '10.1.2.3', 'any', '10.0.0.1:20880', service)), { timeoutMs: 6000 });
    assert.deepEqual(providerOf(yaml, 'any', '10.0.0.1:20880', service), {});
  },
  'configurator-disable-provider': (yaml) => {
    assert.deepEqual(routingOverrides(providerOf(yaml, 'demo-provider', '10.20.153.10:20880')), { disabled: true });
    assert.deepEqual(providerOf(yaml, 'demo-provider', '10.20.153.10:20881'), {});
    assert.deepEqual(providerOf(yaml, 'demo-provider', '10.20.153.11:20880'), {});
    assert.deepEqual(providerOf(yaml, 'other-app', '10.20.153.10:20880'), {});
    assert.deepEqual(consumerOf(yaml, '10.20.153.10', 'demo-provider', '10.20.153.10:20880'), {});
  },
  'configurator-provider-addresses': (yaml) => {
    const expected = { timeout: '300', loadbalance: 'leastactive' };
    assert.deepEqual(consumerOf(yaml, '10.9.9.9', 'shop-frontend', '10.0.0.1:20880'), expected);
    assert.deepEqual(consumerOf(yaml, '10.9.9.9', 'shop-frontend', '10.0.0.2:7000'), expected);
    assert.deepEqual(consumerOf(yaml, '10.9.9.9', 'shop-frontend', '10.0.0.1:20881'), {});
    assert.deepEqual(consumerOf(yaml, '10.9.9.9', 'shop-frontend', '10.0.0.3:20880'), {});
    assert.deepEqual(consumerOf(yaml, '10.9.9.9', 'billing', '10.0.0.1:20880'), {});
    assert.deepEqual(routingOverrides(expected), { timeoutMs: 300, loadBalance: 'leastactive' });
  },
  'configurator-v3-match': (yaml) => {
    const service = 'org.apache.dubbo.samples.UserService';
    assert.deepEqual(consumerOf(yaml, '10.9.9.9', 'shop-frontend', '10.0.0.1:20880', service), { retries: '4' });
    assert.deepEqual(consumerOf(yaml, '10.9.9.9', 'shop-backend', '10.0.0.1:20880', service), {});
  },
  'configurator-specific-host-wins': (yaml) => {
    const service = 'demo.Calculator';
    const target = (host: string) => ({ side: 'consumer' as const, localHost: host, application: 'a', provider: provider('10.0.0.1:20880', { version: '1.0.0' }, service) });
    assert.deepEqual({ ...overridesFor([parseConfigurator(yaml)], target('10.0.0.7')) }, { retries: '0', timeout: '1000' });
    assert.deepEqual({ ...overridesFor([parseConfigurator(yaml)], target('10.0.0.8')) }, { retries: '5', timeout: '1000' });
  },
  'configurator-switchyard-settings': (yaml) => {
    const rule = parseConfigurator(yaml);
    const entry = provider('10.0.0.1:20880', { version: '1.0.0' }, 'demo.Calculator');
    const consumerSide = routingOverrides(overridesFor([rule], { side: 'consumer', localHost: '10.0.0.9', application: 'a', provider: entry }));
    assert.deepEqual(JSON.parse(JSON.stringify(consumerSide)), {
      methods: { divide: { timeoutMs: 200, cluster: 'failfast' } },
      maxActivePerProvider: 64,
      circuitBreaker: { failureRateThreshold: 0.25, openMs: 10000 },
    });
    const providerSide = routingOverrides(overridesFor([rule], { side: 'provider', localHost: '10.0.0.1', application: 'a', provider: entry }));
    assert.deepEqual(providerSide, { concurrencyLimit: 32, rateLimit: { ratePerSec: 10, burst: 600 } });
  },
  'condition-region': (yaml) => {
    const router = createConditionRouter(parseConditionRouter(yaml));
    const list = [provider('10.0.0.1:20880', { region: 'Hangzhou' }), provider('10.0.0.2:20880', { region: 'Beijing' })];
    assert.deepEqual(addresses(router.route(list, call('getComment'))), ['10.0.0.1:20880']);
    assert.equal(router.route(list, call('addComment')), list);
    assert.deepEqual(router.route(list.slice(1), call('getComment')), []);
    assert.match(router.explainEmpty(list.slice(1), call('getComment'))!, /force: true/);
  },
  'condition-read-write': (yaml) => {
    const router = createConditionRouter(parseConditionRouter(yaml));
    const list = ['94', '95', '96', '97', '98'].map((last) => provider(`172.22.3.${last}:20880`));
    assert.deepEqual(addresses(router.route(list, call('findUser'))), ['172.22.3.94:20880', '172.22.3.95:20880', '172.22.3.96:20880']);
    assert.deepEqual(addresses(router.route(list, call('isActive'))), ['172.22.3.94:20880', '172.22.3.95:20880', '172.22.3.96:20880']);
    assert.deepEqual(addresses(router.route(list, call('saveUser'))), ['172.22.3.97:20880', '172.22.3.98:20880']);
  },
  'condition-blacklist': (yaml) => {
    const router = createConditionRouter(parseConditionRouter(yaml));
    const list = [provider('10.0.0.1:20880')];
    assert.deepEqual(router.route(list, call('get', { consumerHost: '10.20.153.10' })), []);
    assert.deepEqual(router.route(list, call('get', { consumerHost: '10.20.153.11' })), []);
    assert.equal(router.route(list, call('get', { consumerHost: '10.20.153.12' })), list);
  },
  'condition-exclude-staging': (yaml) => {
    const router = createConditionRouter(parseConditionRouter(yaml));
    const staging = provider('172.22.3.91:20880');
    const production = provider('172.22.3.92:20880');
    assert.deepEqual(router.route([staging, production], call('get')), [production]);
    assert.deepEqual(router.route([staging], call('get')), [staging]);
  },
  'condition-call-data': (yaml) => {
    const router = createConditionRouter(parseConditionRouter(yaml));
    const list = [provider('10.0.0.1:1', { region: 'primary', tier: 'gold' }), provider('10.0.0.2:1', { region: 'primary' }), provider('10.0.0.3:1', { region: 'backup', tier: 'gold' })];
    assert.deepEqual(addresses(router.route(list, call('transfer', { args: [500, 'EUR'] }))), ['10.0.0.1:1', '10.0.0.2:1']);
    assert.equal(router.route(list, call('transfer', { args: [5000, 'EUR'] })), list);
    assert.deepEqual(addresses(router.route(list, call('balance', { metadata: { 'x-tenant': 'vip-acme' } }))), ['10.0.0.1:1', '10.0.0.3:1']);
    assert.deepEqual(addresses(router.route(list, call('transfer', { args: [1], metadata: { 'x-tenant': 'vip-acme' } }))), ['10.0.0.1:1']);
    assert.equal(router.readsCallData, true);
  },
  'condition-same-host': (yaml) => {
    const router = createConditionRouter(parseConditionRouter(yaml));
    const list = [provider('10.0.0.1:20880'), provider('10.0.0.2:20880')];
    assert.deepEqual(addresses(router.route(list, call('get', { consumerHost: '10.0.0.2' }))), ['10.0.0.2:20880']);
    assert.equal(router.route(list, call('get', { consumerHost: '10.0.0.3' })), list);
  },
  'tag-addresses': (yaml) => {
    const router = createTagRouter(parseTagRouter(yaml));
    const list = [provider('127.0.0.1:20880'), provider('127.0.0.1:20881'), provider('127.0.0.1:20882')];
    const tagged = (tag: string, force = false) => addresses(router.route(list, call('get', { metadata: { 'dubbo.tag': tag, ...(force ? { 'dubbo.force.tag': 'true' } : {}) } })));
    assert.deepEqual(tagged('tag1'), ['127.0.0.1:20880']);
    assert.deepEqual(tagged('tag2'), ['127.0.0.1:20881']);
    assert.deepEqual(addresses(router.route(list, call('get'))), ['127.0.0.1:20882']);
    assert.deepEqual(tagged('tag3'), ['127.0.0.1:20882']);
    assert.deepEqual(tagged('tag3', true), []);
  },
  'tag-gray': (yaml) => {
    const router = createTagRouter(parseTagRouter(yaml));
    const list = [provider('10.0.0.1:1', { env: 'gray' }), provider('10.0.0.2:1', { env: 'prod' }), provider('10.0.0.3:1', { env: 'prod' })];
    assert.deepEqual(addresses(router.route(list, call('get', { metadata: { 'dubbo.tag': 'gray' } }))), ['10.0.0.1:1']);
    assert.deepEqual(addresses(router.route(list, call('get'))), ['10.0.0.2:1', '10.0.0.3:1']);
    assert.deepEqual(addresses(router.route(list.slice(1), call('get', { metadata: { 'dubbo.tag': 'gray' } }))), ['10.0.0.2:1', '10.0.0.3:1']);
  },
};

describe('docs/rules.md: every example does what the page says', () => {
  it('has a check for each example and an example for each check', () => {
    assert.deepEqual([...examples.keys()].sort(), Object.keys(checks).sort());
  });

  for (const [name, yaml] of examples) {
    it(name, () => {
      const check = checks[name];
      assert.ok(check, `no check for the example ${name}`);
      check(yaml);
    });
  }

  it('shows the messages the parsers give', () => {
    const shown = /```text\n([\s\S]*?)```/.exec(page)![1]!.trim().split('\n');
    const message = (parse: () => unknown) => {
      try {
        parse();
      } catch (error) {
        assert.ok(error instanceof RuleError);
        return error.message;
      }
      return assert.fail('no error');
    };
    assert.deepEqual(shown, [
      message(() => parseConfigurator('configVersion: v2.7\nscope: service\nkey: demo.Store\nconfigs:\n  - side: consumer\n    parameters:\n      timeout: abc\n')),
      message(() => parseConditionRouter('key: demo.Store\nforce: true\nconditions:\n  - => host = 10.0.0.1\n  - method = => host = 1.1.1.1\n')),
    ]);
  });
});
