import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createConditionRouter, parseConditionRouter } from '../../src/rules/condition-router.js';
import { parseConfigurator } from '../../src/rules/configurator.js';
import { overridesFor } from '../../src/rules/configurator-match.js';
import { RuleError } from '../../src/rules/rule-error.js';
import { ignoredParameters, routingOverrides } from '../../src/rules/routing-overrides.js';
import { createTagRouter, parseTagRouter } from '../../src/rules/tag-router.js';
import { addresses, call, provider } from './fixtures.js';

// The YAML examples of Dubbo's own documentation, quoted as data, each checked against what that
// documentation says it does. Sources:
//   [v3-config] https://dubbo.apache.org/en/overview/what/core-features/traffic/configuration-rule/
//   [v3-condition] https://dubbo.apache.org/en/overview/what/core-features/traffic/condition-rule/
//   [v3-tag] https://dubbo.apache.org/en/overview/what/core-features/traffic/tag-rule/
//   [v27-routing] https://dubbo.apache.org/en/docs/v2.7/user/examples/routing-rule/
//   [zh-config] https://cn.dubbo.apache.org/zh-cn/docs3-v2/java-sdk/advanced-features-and-usage/traffic/config-rule/

const dubboDocs = {
  /** [v3-config] "all services provided under the shop-detail application will enable accesslog". */
  appAccesslog: `configVersion: v3.0
scope: application
key: shop-detail
configs:
  - side: provider
    parameters:
      accesslog: 'true'
`,
  /** [v3-config] "applies to all Dubbo instances consuming UserService, executing 4 retries ... only the consumer application named shop-frontend". */
  serviceRetries: `configVersion: v3.0
scope: service
key: org.apache.dubbo.samples.UserService
configs:
  - match:
      application:
        oneof:
          - exact: shop-frontend
    side: consumer
    parameters:
      retries: '4'
`,
  /** [zh-config] 禁用提供者: temporarily kick out one provider machine. */
  disableProvider: `---
configVersion: v2.7
scope: application
key: demo-provider
enabled: true
configs:
- addresses: ["10.20.153.10:20880"]
  side: provider
  parameters:
    disabled: true
...
`,
  /** [zh-config] 调整权重: capacity assessment. */
  weight: `---
configVersion: v2.7
scope: application
key: demo-provider
enabled: true
configs:
- addresses: ["10.20.153.10:20880"]
  side: provider
  parameters:
    weight: 200
...
`,
  /** [zh-config] 调整负载均衡策略: the load balancing strategy of the consumer application. */
  loadbalance: `---
configVersion: v2.7
scope: application
key: demo-consumer
enabled: true
configs:
- side: consumer
  parameters:
    loadbalance: random
...
`,
  /** [zh-config] 服务降级: temporarily mask an error of a non-critical service (Dubbo's mock). */
  degrade: `---
configVersion: v2.7
scope: service
key: org.apache.dubbo.samples.governance.api.DemoService
enabled: true
configs:
- side: consumer
  parameters:
    force: return null
...
`,
  /** [zh-config] 服务粒度, as printed: "parameters:" is left empty and timeout lands beside it. */
  serviceTimeoutAsPrinted: `# 所有消费（side:consumer）DemoService服务的应用实例（addresses:[0.0.0.0]），超时时间修改为6000ms
---
configVersion: v2.7
scope: service
key: org.apache.dubbo.samples.governance.api.DemoService
enabled: true
configs:
- addresses: [0.0.0.0]
  side: consumer
  parameters:
  timeout: 6000
  ...
`,
  /** [zh-config] 配置模板: a template with placeholders, not a rule. */
  template: `---
configVersion: v2.7
scope: application/service
key: app-name/group+service+version
enabled: true
configs:
- addresses: ["0.0.0.0"]
  providerAddresses: ["1.1.1.1:20880", "2.2.2.2:20881"]
  side: consumer
  applications/services: []
  parameters:
    timeout: 1000
    cluster: failfase
    loadbalance: random
...
`,
  /** [v3-condition] "all calls to the getComment method ... forwarded to the subset of addresses marked with region=Hangzhou". */
  conditionRegion: `configVersion: v3.0
scope: service
force: true
runtime: true
enabled: true
key: org.apache.dubbo.samples.CommentService
conditions:
  - method=getComment => region=Hangzhou
`,
  /** [v3-tag] "encloses an isolated environment gray ... all machine instances marked with env=gray". */
  tagGray: `configVersion: v3.0
force: true
enabled: true
key: shop-detail
tags:
  - name: gray
    match:
      - key: env
        value:
          exact: gray
`,
  /** [v27-routing] and Dubbo's TagRouterRule: the tags of demo-provider by address. */
  tagAddresses: `force: false
runtime: true
enabled: true
key: demo-provider
tags:
  - name: tag1
    addresses: ["127.0.0.1:20880"]
  - name: tag2
    addresses: ["127.0.0.1:20881"]
`,
};

function consumerParams(yaml: string, application: string, service: string, at = '10.20.153.10:20880') {
  return { ...overridesFor([parseConfigurator(yaml)], { side: 'consumer', localHost: '10.1.1.1', application, provider: provider(at, {}, service) }) };
}

function providerParams(yaml: string, application: string, at: string, service = 'demo.Any') {
  return { ...overridesFor([parseConfigurator(yaml)], { side: 'provider', localHost: '10.1.1.1', application, provider: provider(at, {}, service) }) };
}

describe("Dubbo's documented override rules", () => {
  it('accesslog for every service of shop-detail: read, applied, and reported as having no effect here', () => {
    const params = providerParams(dubboDocs.appAccesslog, 'shop-detail', '10.0.0.1:20880');
    assert.deepEqual(params, { accesslog: 'true' });
    assert.deepEqual(ignoredParameters(params), ['accesslog']);
    assert.deepEqual(providerParams(dubboDocs.appAccesslog, 'other', '10.0.0.1:20880'), {});
  });

  it('4 retries for UserService, in shop-frontend only', () => {
    assert.deepEqual(routingOverrides(consumerParams(dubboDocs.serviceRetries, 'shop-frontend', 'org.apache.dubbo.samples.UserService')), { retries: 4 });
    assert.deepEqual(consumerParams(dubboDocs.serviceRetries, 'shop-backend', 'org.apache.dubbo.samples.UserService'), {});
  });

  it('disables the provider at 10.20.153.10:20880 and no other', () => {
    assert.deepEqual(routingOverrides(providerParams(dubboDocs.disableProvider, 'demo-provider', '10.20.153.10:20880')), { disabled: true });
    assert.deepEqual(providerParams(dubboDocs.disableProvider, 'demo-provider', '10.20.153.11:20880'), {});
  });

  it('sets the weight of the provider at 10.20.153.10:20880', () => {
    assert.deepEqual(routingOverrides(providerParams(dubboDocs.weight, 'demo-provider', '10.20.153.10:20880')), { weight: 200 });
  });

  it("sets demo-consumer's load balancing", () => {
    assert.deepEqual(routingOverrides(consumerParams(dubboDocs.loadbalance, 'demo-consumer', 'any.Service')), { loadBalance: 'random' });
    assert.deepEqual(consumerParams(dubboDocs.loadbalance, 'other-consumer', 'any.Service'), {});
  });

  it('reads the degradation rule; its mock parameter has no effect here', () => {
    const params = consumerParams(dubboDocs.degrade, 'any', 'org.apache.dubbo.samples.governance.api.DemoService');
    assert.deepEqual(params, { force: 'return null' });
    assert.deepEqual(ignoredParameters(params), ['force']);
  });

  it('refuses the service example as printed, whose parameters are mis-indented (Dubbo refuses it too: no parameter)', () => {
    assert.throws(() => parseConfigurator(dubboDocs.serviceTimeoutAsPrinted), RuleError);
    const fixed = dubboDocs.serviceTimeoutAsPrinted.replace('  timeout: 6000\n  ...\n', '    timeout: 6000\n');
    assert.deepEqual(routingOverrides(consumerParams(fixed, 'any', 'org.apache.dubbo.samples.governance.api.DemoService')), { timeoutMs: 6000 });
  });

  it('refuses the template, whose placeholders are no values', () => {
    assert.throws(() => parseConfigurator(dubboDocs.template), /expected one of service, application, found "application\/service"/);
    const filled = dubboDocs.template.replace('application/service', 'service').replace('app-name/group+service+version', 'demo.Store');
    assert.throws(() => parseConfigurator(filled), /unknown field "applications\/services"/);
    assert.throws(() => parseConfigurator(filled.replace('  applications/services: []\n', '')), /unknown cluster strategy "failfase"/);
  });
});

describe("Dubbo's documented condition rules", () => {
  it('sends getComment to Hangzhou, and fails it when Hangzhou has no provider (force)', () => {
    const router = createConditionRouter(parseConditionRouter(dubboDocs.conditionRegion));
    const list = [provider('10.0.0.1:20880', { region: 'Hangzhou' }), provider('10.0.0.2:20880', { region: 'Shanghai' })];
    assert.deepEqual(addresses(router.route(list, call('getComment'))), ['10.0.0.1:20880']);
    assert.equal(router.route(list, call('getReply')), list);
    assert.deepEqual(router.route(list.slice(1), call('getComment')), []);
  });

  // [v27-routing] "Samples": each a condition with what the page says it does.
  const hosts = ['172.22.3.1', '172.22.3.91', '172.22.3.92', '172.22.3.93', '172.22.3.94', '172.22.3.95', '172.22.3.96', '172.22.3.97', '172.22.3.98', '172.22.3.21', '10.0.0.5'];
  const list = hosts.map((host) => provider(`${host}:20880`));
  const route = (conditions: string[], options: Parameters<typeof call>[1] = {}, method = 'get') =>
    addresses(createConditionRouter(parseConditionRouter(`conditions:\n${conditions.map((c) => `  - ${JSON.stringify(c)}`).join('\n')}`)).route(list, call(method, options))).map((a) => a.replace(':20880', ''));
  const except = (...excluded: string[]) => hosts.filter((host) => !excluded.includes(host));

  it('0. exclude the pre-release machine', () => {
    assert.deepEqual(route(['=> host != 172.22.3.91']), except('172.22.3.91'));
  });
  it('1. whitelist: only the listed consumers may call', () => {
    const whitelist = ['register.ip != 10.20.153.10,10.20.153.11 =>'];
    assert.deepEqual(route(whitelist, { consumerParams: { 'register.ip': '10.20.153.10' } }), hosts);
    assert.deepEqual(route(whitelist, { consumerParams: { 'register.ip': '10.20.153.99' } }), []);
  });
  it('2. blacklist: the listed consumers may not call', () => {
    const blacklist = ['register.ip = 10.20.153.10,10.20.153.11 =>'];
    assert.deepEqual(route(blacklist, { consumerParams: { 'register.ip': '10.20.153.11' } }), []);
    assert.deepEqual(route(blacklist, { consumerParams: { 'register.ip': '10.20.153.99' } }), hosts);
  });
  it('3. expose part of the machines only', () => {
    assert.deepEqual(route(['=> host = 172.22.3.1*,172.22.3.2*']), ['172.22.3.1', '172.22.3.21']);
  });
  it('4. keep two machines for the important application kylin', () => {
    assert.deepEqual(route(['application != kylin => host != 172.22.3.95,172.22.3.96'], { consumerApplication: 'other' }), except('172.22.3.95', '172.22.3.96'));
    assert.deepEqual(route(['application != kylin => host != 172.22.3.95,172.22.3.96'], { consumerApplication: 'kylin' }), hosts);
  });
  it('5. read and write separation', () => {
    const rules = ['method = find*,list*,get*,is* => host = 172.22.3.94,172.22.3.95,172.22.3.96', 'method != find*,list*,get*,is* => host = 172.22.3.97,172.22.3.98'];
    assert.deepEqual(route(rules, {}, 'listOrders'), ['172.22.3.94', '172.22.3.95', '172.22.3.96']);
    assert.deepEqual(route(rules, {}, 'placeOrder'), ['172.22.3.97', '172.22.3.98']);
  });
  it('6. separate the front and back applications', () => {
    const rules = ['application = bops => host = 172.22.3.91,172.22.3.92,172.22.3.93', 'application != bops => host = 172.22.3.94,172.22.3.95,172.22.3.96'];
    assert.deepEqual(route(rules, { consumerApplication: 'bops' }), ['172.22.3.91', '172.22.3.92', '172.22.3.93']);
    assert.deepEqual(route(rules, { consumerApplication: 'shop' }), ['172.22.3.94', '172.22.3.95', '172.22.3.96']);
  });
  it('7. isolate network segments', () => {
    assert.deepEqual(route(['host != 172.22.3.* => host != 172.22.3.*'], { consumerHost: '10.0.0.9' }), ['10.0.0.5']);
    assert.deepEqual(route(['host != 172.22.3.* => host != 172.22.3.*'], { consumerHost: '172.22.3.50' }), hosts);
  });
  it('8. consumers call the providers on their own machine', () => {
    assert.deepEqual(route(['=> host = $host'], { consumerHost: '172.22.3.97' }), ['172.22.3.97']);
  });
});

describe("Dubbo's documented tag rules", () => {
  it('gray: tagged calls to env=gray instances only, other calls never to them', () => {
    const router = createTagRouter(parseTagRouter(dubboDocs.tagGray));
    const list = [provider('10.0.0.1:1', { env: 'gray' }), provider('10.0.0.2:1', { env: 'prod' })];
    assert.deepEqual(addresses(router.route(list, call('get', { metadata: { 'dubbo.tag': 'gray' } }))), ['10.0.0.1:1']);
    assert.deepEqual(addresses(router.route(list, call('get'))), ['10.0.0.2:1']);
  });

  it('tag1 and tag2 by address; "a tagged call can be downgraded to untagged services, an untagged call never reaches tagged ones"', () => {
    const router = createTagRouter(parseTagRouter(dubboDocs.tagAddresses));
    const list = [provider('127.0.0.1:20880'), provider('127.0.0.1:20881'), provider('127.0.0.1:20882')];
    assert.deepEqual(addresses(router.route(list, call('get', { metadata: { 'dubbo.tag': 'tag1' } }))), ['127.0.0.1:20880']);
    assert.deepEqual(addresses(router.route(list, call('get', { metadata: { 'dubbo.tag': 'tag2' } }))), ['127.0.0.1:20881']);
    assert.deepEqual(addresses(router.route(list, call('get', { metadata: { 'dubbo.tag': 'red' } }))), ['127.0.0.1:20882']);
    assert.deepEqual(addresses(router.route(list, call('get'))), ['127.0.0.1:20882']);
  });

  it('[v27-routing] static tags: "dubbo.tag=red will first choose the provider tag=red, else downgrade to tag=null; dubbo.tag=null matches only tag=null"', () => {
    const router = createTagRouter();
    const red = provider('10.0.0.1:1', { 'dubbo.tag': 'red' });
    const plain = provider('10.0.0.2:1');
    assert.deepEqual(router.route([red, plain], call('get', { metadata: { 'dubbo.tag': 'red' } })), [red]);
    assert.deepEqual(router.route([plain], call('get', { metadata: { 'dubbo.tag': 'red' } })), [plain]);
    assert.deepEqual(router.route([red, plain], call('get')), [plain]);
    assert.deepEqual(router.route([red], call('get')), []);
  });
});
