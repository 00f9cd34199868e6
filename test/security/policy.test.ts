import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, Metadata, accessPolicy, type Principal } from '../../src/index.js';
import { hasCode } from '../support/assertions.js';

/**
 * The access policy on its own: which rule decides a method, what roles (any of), scopes (all of)
 * and allow functions ask, and the mistakes it refuses to compile. `authorize` is the plain
 * function an admin listener asks as well as a server's gate.
 */

function principal(roles: string[] = [], scopes: string[] = []): Principal {
  return { id: 'ann', via: 'token', roles, scopes, claims: {} };
}

describe('access policy', () => {
  it('lets any authenticated caller in by default, and no anonymous one', () => {
    const policy = accessPolicy();
    assert.equal(policy.authorize(principal(), 'shop.Orders', 'list'), undefined);
    assert.throws(() => policy.authorize(undefined, 'shop.Orders', 'list'), hasCode(Code.UNAUTHENTICATED, /^missing credentials: shop\.Orders\.list needs an authenticated caller$/));
  });

  it('picks the most specific entry: the method, else the service, else *', () => {
    const policy = accessPolicy({
      '*': { roles: ['staff'] },
      'shop.Orders': { roles: ['clerk'], methods: { cancel: { roles: ['admin'] }, ping: { public: true } } },
      'shop.Stock': { methods: { count: { scopes: ['stock:read'] } } },
    });
    assert.equal(policy.ruleFor('shop.Orders', 'cancel').source, 'shop.Orders.cancel');
    assert.equal(policy.ruleFor('shop.Orders', 'list').source, 'shop.Orders');
    assert.equal(policy.ruleFor('shop.Billing', 'pay').source, '*');
    // An entry that only lists methods leaves the others to '*', not to "anyone authenticated".
    assert.equal(policy.ruleFor('shop.Stock', 'move').source, '*');

    const clerk = principal(['clerk']);
    assert.equal(policy.authorize(clerk, 'shop.Orders', 'list'), undefined);
    assert.throws(() => policy.authorize(clerk, 'shop.Orders', 'cancel'), hasCode(Code.PERMISSION_DENIED, /^permission denied: shop\.Orders\.cancel needs the role admin$/));
    assert.throws(() => policy.authorize(clerk, 'shop.Billing', 'pay'), hasCode(Code.PERMISSION_DENIED, /shop\.Billing\.pay needs the role staff/));
    assert.equal(policy.authorize(undefined, 'shop.Orders', 'ping'), undefined, 'a public method needs no caller');
    assert.equal(policy.authorize(principal(['admin']), 'shop.Orders', 'cancel'), undefined, 'the method entry decides alone');
  });

  it('asks roles as any-of and scopes as all-of, naming what is missing', () => {
    const policy = accessPolicy({ 'shop.Orders': { roles: ['clerk', 'admin'], scopes: ['orders:read', 'orders:write'] } });
    assert.equal(policy.authorize(principal(['admin'], ['orders:write', 'orders:read']), 'shop.Orders', 'put'), undefined);
    assert.throws(() => policy.authorize(principal(['guest'], ['orders:read', 'orders:write']), 'shop.Orders', 'put'),
      hasCode(Code.PERMISSION_DENIED, /shop\.Orders\.put needs one of the roles clerk, admin$/));
    assert.throws(() => policy.authorize(principal(['clerk'], ['orders:read']), 'shop.Orders', 'put'),
      hasCode(Code.PERMISSION_DENIED, /shop\.Orders\.put needs the scope orders:write$/));
    assert.throws(() => policy.authorize(principal(['clerk'], []), 'shop.Orders', 'put'),
      hasCode(Code.PERMISSION_DENIED, /needs the scopes orders:read, orders:write$/));
  });

  it('asks an allow function with the principal and the call, synchronously or not', async () => {
    const seen: unknown[] = [];
    const policy = accessPolicy({
      'shop.Orders': {
        roles: ['clerk'],
        allow: (who, request) => {
          seen.push([who.id, request.service, request.method, request.metadata?.get('x-tenant')]);
          return request.metadata?.get('x-tenant') === 'acme';
        },
        methods: { audit: { allow: async (who) => who.claims.department === 'audit' } },
      },
    });
    const acme = new Metadata({ 'x-tenant': 'acme' });
    assert.equal(policy.authorize(principal(['clerk']), 'shop.Orders', 'list', acme), undefined);
    assert.throws(() => policy.authorize(principal(['clerk']), 'shop.Orders', 'list', new Metadata({ 'x-tenant': 'other' })),
      hasCode(Code.PERMISSION_DENIED, /shop\.Orders\.list is refused by the allow function of the policy for shop\.Orders$/));
    assert.throws(() => policy.authorize(principal(['guest']), 'shop.Orders', 'list', acme), hasCode(Code.PERMISSION_DENIED), 'roles are asked before allow');
    assert.deepEqual(seen, [['ann', 'shop.Orders', 'list', 'acme'], ['ann', 'shop.Orders', 'list', 'other']]);

    const auditor = { ...principal(), claims: { department: 'audit' } };
    const pending = policy.authorize(auditor, 'shop.Orders', 'audit');
    assert.ok(pending instanceof Promise);
    await pending;
    await assert.rejects(async () => policy.authorize(principal(), 'shop.Orders', 'audit'), hasCode(Code.PERMISSION_DENIED, /shop\.Orders\.audit/));
    assert.throws(() => policy.authorize(undefined, 'shop.Orders', 'audit'), hasCode(Code.UNAUTHENTICATED), 'allow is never asked about an anonymous caller');
  });

  it('refuses rules it could misread', () => {
    const refused = (rules: unknown, message: RegExp) => assert.throws(() => accessPolicy(rules as never), hasCode(Code.INVALID_ARGUMENT, message));
    refused({ 'shop.Orders': { role: ['clerk'] } }, /unknown field "role"/);
    refused({ 'shop.Orders': { methods: { list: { methods: {} } } } }, /shop\.Orders\.list has an unknown field "methods"/);
    refused({ '*': { methods: { list: {} } } }, /'\*' applies to whole services/);
    refused({ 'shop.Orders': { public: true, roles: ['clerk'] } }, /is public, so it cannot also ask/);
    refused({ 'shop.Orders': { roles: [] } }, /roles in the rule for shop\.Orders is empty and would refuse everyone/);
    refused({ 'shop.Orders': { scopes: 'orders:read' } }, /scopes in the rule for shop\.Orders must be a list/);
    refused({ 'shop.Orders': { allow: true } }, /allow in the rule for shop\.Orders must be a function/);
    refused({ 'shop.Orders': { public: 'yes' } }, /public in the rule for shop\.Orders must be a boolean/);
    refused({ 'shop.Orders': null }, /the rule for shop\.Orders must be an object/);
  });
});
