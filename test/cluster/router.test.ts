import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { routes, type RouteSpec } from '../../src/cluster/router.js';
import type { ServiceKey } from '../../src/core/service.js';
import { parseProviderUrl, type Provider } from '../../src/registry/provider.js';

/** A provider of `demo.Store` on 10.0.0.1 with the given version, group and further query. */
function provider(version: string | undefined, group?: string, extra = ''): Provider {
  const query = new URLSearchParams({ methods: 'get,put' });
  if (version !== undefined) query.set('version', version);
  if (group !== undefined) query.set('group', group);
  return parseProviderUrl(`tcp://10.0.0.1:20880/demo.Store?${query.toString()}${extra}`);
}

const definitionKey: ServiceKey = { name: 'demo.Store', version: '1.0.0' };

/** The versions among `versions` that a consumer asking for `wanted` is routed to. */
function versionsRouted(wanted: string | undefined, versions: string[], key: ServiceKey = definitionKey): string[] {
  const spec: RouteSpec = wanted === undefined ? {} : { version: wanted };
  return versions.filter((version) => routes(provider(version), key, spec, 'get'));
}

const versions = ['0.9.0', '1.0.0', '1.2.0', '1.2.5', '1.3.0', '1.10.1', '2.0.0', '2.1.0'];

describe('routes(): versions', () => {
  it('an exact version matches only that version', () => {
    assert.deepEqual(versionsRouted('1.2.0', versions), ['1.2.0']);
    assert.deepEqual(versionsRouted('2.0.0', versions), ['2.0.0']);
    assert.deepEqual(versionsRouted('3.0.0', versions), []);
  });

  it("without a version in the spec the definition's own version is asked for", () => {
    assert.deepEqual(versionsRouted(undefined, versions), ['1.0.0']);
    assert.deepEqual(versionsRouted(undefined, versions, { name: 'demo.Store', version: '2.1.0' }), ['2.1.0']);
  });

  it("'*' matches every version, and providers without one", () => {
    assert.deepEqual(versionsRouted('*', versions), versions);
    assert.equal(routes(provider(undefined), definitionKey, { version: '*' }, 'get'), true);
  });

  it('^1.2.0 matches 1.x from 1.2.0 on, not 2.x', () => {
    assert.deepEqual(versionsRouted('^1.2.0', versions), ['1.2.0', '1.2.5', '1.3.0', '1.10.1']);
  });

  it('~1.2.0 matches only 1.2.x', () => {
    assert.deepEqual(versionsRouted('~1.2.0', versions), ['1.2.0', '1.2.5']);
  });

  it("'>=1 <2' matches every 1.x", () => {
    assert.deepEqual(versionsRouted('>=1 <2', versions), ['1.0.0', '1.2.0', '1.2.5', '1.3.0', '1.10.1']);
  });

  it("'1.x' matches every 1.x", () => {
    assert.deepEqual(versionsRouted('1.x', versions), ['1.0.0', '1.2.0', '1.2.5', '1.3.0', '1.10.1']);
  });

  it('a range never matches a provider that announces no version', () => {
    assert.equal(routes(provider(undefined), definitionKey, { version: '^1.0.0' }, 'get'), false);
  });

  it('a definition without a version reaches only providers without one', () => {
    const key: ServiceKey = { name: 'demo.Store' };
    assert.equal(routes(provider(undefined), key, {}, 'get'), true);
    assert.equal(routes(provider('1.0.0'), key, {}, 'get'), false);
  });

  it('a provider of another service name never matches, even with wildcards', () => {
    const other = parseProviderUrl('tcp://10.0.0.1:20880/demo.Other?version=1.0.0&methods=get');
    assert.equal(routes(other, definitionKey, { version: '*', group: '*' }, 'get'), false);
  });
});

describe('routes(): groups', () => {
  const blue = provider('1.0.0', 'blue');
  const green = provider('1.0.0', 'green');
  const none = provider('1.0.0');

  it('an exact group matches only that group', () => {
    assert.equal(routes(blue, definitionKey, { group: 'blue' }, 'get'), true);
    assert.equal(routes(green, definitionKey, { group: 'blue' }, 'get'), false);
    assert.equal(routes(none, definitionKey, { group: 'blue' }, 'get'), false);
  });

  it("'*' matches every group, and providers without one", () => {
    for (const p of [blue, green, none]) assert.equal(routes(p, definitionKey, { group: '*' }, 'get'), true);
  });

  it('no group asked for (and none in the definition) matches only providers without a group', () => {
    assert.equal(routes(none, definitionKey, {}, 'get'), true);
    assert.equal(routes(blue, definitionKey, {}, 'get'), false);
  });

  it("the definition's group applies when the spec names none, and the spec's wins over it", () => {
    const key: ServiceKey = { ...definitionKey, group: 'green' };
    assert.equal(routes(green, key, {}, 'get'), true);
    assert.equal(routes(blue, key, {}, 'get'), false);
    assert.equal(routes(blue, key, { group: 'blue' }, 'get'), true);
  });

  it('version and group must both match', () => {
    assert.equal(routes(provider('2.0.0', 'blue'), definitionKey, { group: 'blue' }, 'get'), false);
    assert.equal(routes(provider('2.0.0', 'blue'), definitionKey, { group: 'blue', version: '^2.0.0' }, 'get'), true);
  });
});

describe('routes(): disabled providers and methods', () => {
  it('a provider marked disabled=true is skipped, even for wildcard consumers', () => {
    const disabled = provider('1.0.0', undefined, '&disabled=true');
    assert.equal(routes(disabled, definitionKey, {}, 'get'), false);
    assert.equal(routes(disabled, definitionKey, { version: '*', group: '*' }, 'get'), false);
  });

  it('disabled=false and other parameters do not exclude a provider', () => {
    assert.equal(routes(provider('1.0.0', undefined, '&disabled=false&region=eu'), definitionKey, {}, 'get'), true);
  });

  it('a provider whose methods lack the called method is skipped for that method only', () => {
    const p = provider('1.0.0');
    assert.equal(routes(p, definitionKey, {}, 'get'), true);
    assert.equal(routes(p, definitionKey, {}, 'put'), true);
    assert.equal(routes(p, definitionKey, {}, 'delete'), false);
  });

  it('a provider that lists no methods is taken to serve every method', () => {
    const p = parseProviderUrl('tcp://10.0.0.1:20880/demo.Store?version=1.0.0');
    assert.equal(routes(p, definitionKey, {}, 'anything'), true);
  });
});
