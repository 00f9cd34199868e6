import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RuleError } from '../../src/rules/rule-error.js';
import { createTagRouter, parseTagRouter } from '../../src/rules/tag-router.js';
import { addresses, call, provider } from './fixtures.js';

const a = provider('10.0.0.1:20880');
const b = provider('10.0.0.2:20880');
const c = provider('10.0.0.3:20880');
const staticRed = provider('10.0.0.4:20880', { 'dubbo.tag': 'red' });
const all = [a, b, c, staticRed];

function rule(tags: string, head = '') {
  return parseTagRouter(`${head}key: store\ntags:\n${tags}`);
}

const twoGroups = rule('  - name: gray\n    addresses: ["10.0.0.1:20880"]\n  - name: beta\n    addresses: ["10.0.0.2"]');

function routed(router: ReturnType<typeof createTagRouter>, metadata?: Record<string, string>, consumerParams?: Record<string, string>) {
  return addresses(router.route(all, call('get', { ...(metadata === undefined ? {} : { metadata }), ...(consumerParams === undefined ? {} : { consumerParams }) })));
}

describe('parseTagRouter', () => {
  it('reads the fields with Dubbo\'s defaults', () => {
    const parsed = rule('  - name: gray\n    addresses: ["10.0.0.1"]');
    assert.deepEqual({ ...parsed, tags: parsed.tags.length }, { kind: 'tag-router', configVersion: 'v2.7', key: 'store', enabled: true, force: false, runtime: true, priority: 0, tags: 1 });
  });

  const malformed: Array<[string, RegExp]> = [
    ['key: store', /the field "tags" is required/],
    ['tags: []', /tags lists no tag/],
    ['tags: [{addresses: ["10.0.0.1"]}]', /tags\[0\]\.name.*the field "name" is required/],
    ['tags: [{name: "", addresses: ["10.0.0.1"]}]', /expected a tag name, found empty text/],
    ['tags: [{name: 7, addresses: ["10.0.0.1"]}]', /expected a tag name, found 7/],
    ['tags: [{name: a, addresses: ["10.0.0.1"]}, {name: a, addresses: ["10.0.0.2"]}]', /the tag "a" is defined twice/],
    ['tags: [{name: a, address: ["10.0.0.1"]}]', /unknown field "address"/],
    ['tags: [{name: a, addresses: ["10.0.0.300"]}]', /"300" is not 0-255/],
    ['tags: [{name: a, addresses: ["10.0.0.1:http"]}]', /the port must be a number/],
    ['tags: [{name: a, addresses: ["10.0.0.0/33"]}]', /prefix length must be 0 to 32/],
    ['tags: [{name: a, addresses: ["not an address"]}]', /is not an address pattern/],
    ['tags: [{name: a, match: [{key: env, value: {exact: gray}}]}]', /"match" needs configVersion: v3.0/],
    ['configVersion: v3.0\ntags: [{name: a, match: []}]', /match lists no condition/],
    ['configVersion: v3.0\ntags: [{name: a, match: [{key: env}]}]', /the field "value" is required/],
    ['configVersion: v3.0\ntags: [{name: a, match: [{key: env, value: {regex: ".*"}}]}]', /regex matches are not supported/],
    ['force: 1\ntags: [{name: a}]', /expected true or false, found 1/],
  ];
  for (const [text, message] of malformed) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseTagRouter(text), (error: unknown) => error instanceof RuleError && /^invalid tag router rule/.test(error.message) && message.test(error.message));
    });
  }
});

describe('tag routing with a rule: Dubbo\'s semantics', () => {
  const router = createTagRouter(twoGroups);

  it('sends a tagged call to its group', () => {
    assert.deepEqual(routed(router, { 'dubbo.tag': 'gray' }), ['10.0.0.1:20880']);
    assert.deepEqual(routed(router, { 'dubbo.tag': 'beta' }), ['10.0.0.2:20880']);
  });

  it('sends an untagged call only to providers in no group and without a tag of their own', () => {
    assert.deepEqual(routed(router), ['10.0.0.3:20880']);
  });

  it('sends a call with a tag the rule lacks to providers with that tag of their own', () => {
    assert.deepEqual(routed(router, { 'dubbo.tag': 'red' }), ['10.0.0.4:20880']);
  });

  it('falls back to untagged providers when nobody has the tag, unless the call forces its tag', () => {
    assert.deepEqual(routed(router, { 'dubbo.tag': 'blue' }), ['10.0.0.3:20880']);
    assert.deepEqual(routed(router, { 'dubbo.tag': 'blue', 'dubbo.force.tag': 'true' }), []);
    assert.match(router.explainEmpty(all, call('get', { metadata: { 'dubbo.tag': 'blue', 'dubbo.force.tag': 'true' } }))!, /no provider has the tag "blue", and the call asks for it alone/);
  });

  it('takes the tag and force flag from the consumer parameters when the call has none', () => {
    assert.deepEqual(routed(router, undefined, { 'dubbo.tag': 'gray' }), ['10.0.0.1:20880']);
    assert.deepEqual(routed(router, { 'dubbo.tag': 'beta' }, { 'dubbo.tag': 'gray' }), ['10.0.0.2:20880'], "the call's own tag first");
    assert.deepEqual(routed(router, { 'dubbo.tag': 'blue' }, { 'dubbo.force.tag': 'TRUE' }), []);
  });

  it('falls back from an empty group unless the rule is forced', () => {
    const withoutGray = [b, c, staticRed];
    assert.deepEqual(addresses(router.route(withoutGray, call('get', { metadata: { 'dubbo.tag': 'gray' } }))), ['10.0.0.3:20880']);
    const forced = createTagRouter(rule('  - name: gray\n    addresses: ["10.0.0.1:20880"]', 'force: true\n'));
    assert.deepEqual(forced.route(withoutGray, call('get', { metadata: { 'dubbo.tag': 'gray' } })), []);
    assert.match(forced.explainEmpty(withoutGray, call('get', { metadata: { 'dubbo.tag': 'gray' } }))!, /group "gray" has none of the 3 providers \(force: true\)/);
  });

  it('tries shorter tags for a tag with levels, unless the call forces it', () => {
    const levels = createTagRouter(rule('  - name: beta\n    addresses: ["10.0.0.1"]\n  - name: beta|team1\n    addresses: ["10.0.0.2"]'));
    assert.deepEqual(addresses(levels.route(all, call('get', { metadata: { 'dubbo.tag': 'beta|team1|partner1' } }))), ['10.0.0.2:20880']);
    assert.deepEqual(addresses(levels.route(all, call('get', { metadata: { 'dubbo.tag': 'beta|team2' } }))), ['10.0.0.1:20880']);
    assert.deepEqual(addresses(levels.route(all, call('get', { metadata: { 'dubbo.tag': 'beta|team2', 'dubbo.force.tag': 'true' } }))), []);
  });

  it('groups by address patterns: wildcards, ranges, CIDR blocks, any host on a port', () => {
    const hosts = [provider('10.1.0.5:1'), provider('10.1.0.9:2'), provider('10.2.0.1:1'), provider('[fd00::1]:1')];
    const cases: Array<[string, string[]]> = [
      ['10.1.*.*', ['10.1.0.5:1', '10.1.0.9:2']],
      ['10.1.0.1-5', ['10.1.0.5:1']],
      ['10.0.0.0/8', ['10.1.0.5:1', '10.1.0.9:2', '10.2.0.1:1']],
      ['0.0.0.0:2', ['10.1.0.9:2']],
      ['fd00::/8', ['fd00::1:1']],
      ['[fd00::1]:1', ['fd00::1:1']],
      ['*', ['10.1.0.5:1', '10.1.0.9:2', '10.2.0.1:1', 'fd00::1:1']],
    ];
    for (const [pattern, expected] of cases) {
      const grouped = createTagRouter(rule(`  - name: t\n    addresses: [${JSON.stringify(pattern)}]`, 'force: true\n'));
      assert.deepEqual(addresses(grouped.route(hosts, call('get', { metadata: { 'dubbo.tag': 't' } }))), expected, pattern);
    }
  });

  it('groups by parameters with v3.0 match; a match group with no member counts as absent', () => {
    const envs = [provider('10.0.0.1:1', { env: 'gray' }), provider('10.0.0.2:1', { env: 'prod' }), provider('10.0.0.3:1')];
    const gray = createTagRouter(rule('  - name: gray\n    match:\n      - key: env\n        value: {exact: gray}', 'configVersion: v3.0\nforce: true\n'));
    assert.deepEqual(addresses(gray.route(envs, call('get', { metadata: { 'dubbo.tag': 'gray' } }))), ['10.0.0.1:1']);
    assert.deepEqual(addresses(gray.route(envs, call('get'))), ['10.0.0.2:1', '10.0.0.3:1']);
    const noGray = envs.slice(1);
    assert.deepEqual(addresses(gray.route(noGray, call('get', { metadata: { 'dubbo.tag': 'gray' } }))), ['10.0.0.2:1', '10.0.0.3:1']);
  });

  it('prefers addresses over match when a v3.0 tag has both', () => {
    const both = createTagRouter(rule('  - name: t\n    addresses: ["10.0.0.3"]\n    match: [{key: env, value: {exact: gray}}]', 'configVersion: v3.0\n'));
    const envs = [provider('10.0.0.1:1', { env: 'gray' }), provider('10.0.0.3:1')];
    assert.deepEqual(addresses(both.route(envs, call('get', { metadata: { 'dubbo.tag': 't' } }))), ['10.0.0.3:1']);
  });

  it('remembers its answer per list and tag, and routes another list or tag afresh', () => {
    const fresh = createTagRouter(twoGroups);
    const gray = fresh.route(all, call('get', { metadata: { 'dubbo.tag': 'gray' } }));
    assert.equal(fresh.route(all, call('put', { metadata: { 'dubbo.tag': 'gray' } })), gray);
    assert.deepEqual(addresses(fresh.route(all, call('get', { metadata: { 'dubbo.tag': 'beta' } }))), ['10.0.0.2:20880']);
    assert.deepEqual(fresh.route(all, call('get', { metadata: { 'dubbo.tag': 'blue', 'dubbo.force.tag': 'true' } })), []);
    assert.deepEqual(addresses(fresh.route(all, call('get', { metadata: { 'dubbo.tag': 'blue' } }))), ['10.0.0.3:20880'], 'forced and unforced answers are kept apart');
    assert.deepEqual(addresses(fresh.route([a, c], call('get', { metadata: { 'dubbo.tag': 'beta' } }))), ['10.0.0.3:20880']);
    for (let i = 0; i < 300; i++) fresh.route(all, call('get', { metadata: { 'dubbo.tag': `t${i}` } }));
    assert.equal(fresh.route(all, call('get', { metadata: { 'dubbo.tag': 't299' } })).length, 1);
  });

  it('leaves every tagged provider out of untagged calls, failing when none is left', () => {
    const everyone = createTagRouter(rule('  - name: gray\n    addresses: ["10.0.0.*"]'));
    assert.deepEqual(everyone.route(all, call('get')), []);
    assert.match(everyone.explainEmpty(all, call('get'))!, /the call has no tag, and every provider is tagged/);
  });
});

describe('tag routing without a rule: the providers\' own tags', () => {
  for (const [what, router] of [['no rule', createTagRouter()], ['a disabled rule', createTagRouter(rule('  - name: gray\n    addresses: ["10.0.0.1"]', 'enabled: false\n'))]] as const) {
    it(`with ${what}: a tagged call goes to its tag, else to untagged providers; an untagged call to untagged ones`, () => {
      assert.deepEqual(routed(router, { 'dubbo.tag': 'red' }), ['10.0.0.4:20880']);
      assert.deepEqual(routed(router, { 'dubbo.tag': 'gray' }), ['10.0.0.1:20880', '10.0.0.2:20880', '10.0.0.3:20880']);
      assert.deepEqual(routed(router, { 'dubbo.tag': 'gray', 'dubbo.force.tag': 'true' }), []);
      assert.deepEqual(routed(router), ['10.0.0.1:20880', '10.0.0.2:20880', '10.0.0.3:20880']);
    });
  }

  it('returns the list it was given when nothing is tagged', () => {
    const plain = [a, b, c];
    assert.equal(createTagRouter().route(plain, call('get')), plain);
    assert.equal(createTagRouter().readsCallData, true);
  });

  it('ignores a binary dubbo.tag and a provider parameter inherited from a prototype', () => {
    const binary = { method: 'get', metadata: { get: (key: string) => (key === 'dubbo.tag' ? new Uint8Array([1]) : undefined) } };
    assert.deepEqual(addresses(createTagRouter().route(all, binary)), ['10.0.0.1:20880', '10.0.0.2:20880', '10.0.0.3:20880']);
    const inherited = { ...a, params: Object.create({ 'dubbo.tag': 'red' }) as Record<string, string> };
    assert.deepEqual(createTagRouter().route([inherited], call('get')), [inherited]);
  });
});
