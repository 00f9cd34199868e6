// The router chain a reference routes calls through (src/cluster/rule-routing.ts): calls without
// metadata are routed once per method when no router reads arguments, and every other call on its own.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RouterChain } from '../../src/cluster/rule-routing.js';
import type { Invoker } from '../../src/cluster/invoker.js';
import { ClientCall } from '../../src/core/client-call.js';
import { Metadata } from '../../src/core/metadata.js';
import { defineService } from '../../src/core/service.js';
import { createConditionRouter, parseConditionRouter } from '../../src/rules/condition-router.js';
import { createTagRouter, parseTagRouter } from '../../src/rules/tag-router.js';
import { provider } from './fixtures.js';

const Store = defineService<{ get(key: string): Promise<string>; put(key: string): Promise<string> }>('demo.Store', { methods: { get: {}, put: {} } });
// The chain reads nothing of an invoker but its provider entry.
const invokerOf = (address: string, params: Record<string, string> = {}) => ({ provider: provider(address, params) }) as unknown as Invoker;
const [gray, plain, vip] = [invokerOf('10.0.0.1:20880'), invokerOf('10.0.0.2:20880'), invokerOf('10.0.0.3:20880', { tier: 'gold' })];
const candidates: readonly Invoker[] = [gray, plain, vip];
const consumer = { host: '10.0.0.100', application: 'shop' };

const tagRule = createTagRouter(parseTagRouter('key: store\ntags:\n  - name: gray\n    addresses: ["10.0.0.1:20880"]\n'));
const onAttachment = createConditionRouter(parseConditionRouter('conditions:\n  - attachments[x-tenant] = vip-* => tier = gold\n'));
const onArgument = createConditionRouter(parseConditionRouter('conditions:\n  - method = get & arguments[0] = hot => host = 10.0.0.2\n'));

function callOf(method: string, args: unknown[], metadata?: Record<string, string>): ClientCall {
  return new ClientCall(Store, method, args, metadata === undefined ? undefined : new Metadata(metadata), undefined, undefined, false, undefined);
}

const hosts = (list: readonly Invoker[]) => list.map((invoker) => invoker.provider.host);

describe('RouterChain', () => {
  it('routes calls without metadata once per method when routers read metadata alone, and calls with metadata on their own', () => {
    const chain = new RouterChain([tagRule, onAttachment], consumer);
    assert.equal(chain.perCall, true);
    const first = chain.routeCall(candidates, callOf('get', ['a']));
    assert.deepEqual(hosts(first), ['10.0.0.2', '10.0.0.3'], 'an untagged call goes to the providers in no group');
    assert.equal(chain.routeCall(candidates, callOf('get', ['b'])), first, 'the same list again, not routed anew');
    assert.deepEqual(hosts(chain.routeCall(candidates, callOf('put', ['a']))), ['10.0.0.2', '10.0.0.3']);
    assert.deepEqual(hosts(chain.routeCall(candidates, callOf('get', ['a'], { 'dubbo.tag': 'gray' }))), ['10.0.0.1']);
    assert.deepEqual(hosts(chain.routeCall(candidates, callOf('get', ['a'], { 'x-tenant': 'vip-7' }))), ['10.0.0.3']);
    // Touched metadata with nothing a router reads routes as no metadata does.
    assert.deepEqual(hosts(chain.routeCall(candidates, callOf('get', ['a'], { other: 'x' }))), ['10.0.0.2', '10.0.0.3']);
    // A new list (providers changed) is routed anew.
    const fewer: readonly Invoker[] = [gray, plain];
    assert.deepEqual(hosts(chain.routeCall(fewer, callOf('get', ['a']))), ['10.0.0.2']);
    assert.deepEqual(hosts(chain.routeCall(candidates, callOf('get', ['a']))), ['10.0.0.2', '10.0.0.3']);
  });

  it('routes every call on its own when a router reads arguments, with or without metadata', () => {
    const chain = new RouterChain([tagRule, onArgument], consumer);
    assert.deepEqual(hosts(chain.routeCall(candidates, callOf('get', ['hot']))), ['10.0.0.2']);
    assert.deepEqual(hosts(chain.routeCall(candidates, callOf('get', ['cold']))), ['10.0.0.2', '10.0.0.3']);
    assert.deepEqual(hosts(chain.routeCall(candidates, callOf('get', ['hot']))), ['10.0.0.2']);
    // The gray group is not on the hot host: without force, the condition that would keep nobody is passed over.
    assert.deepEqual(hosts(chain.routeCall(candidates, callOf('get', ['hot'], { 'dubbo.tag': 'gray' }))), ['10.0.0.1']);
    assert.deepEqual(hosts(chain.routeCall(candidates, callOf('put', ['hot']))), ['10.0.0.2', '10.0.0.3'], 'the condition names get only');
  });
});
