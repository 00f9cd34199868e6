import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, Metadata, accessPolicy, defineService, type Principal, type ServiceDefinition } from '../../src/index.js';
import type { GateRequest } from '../../src/core/gate.js';
import { silentLogger } from '../../src/core/logger.js';
import { authGate, type ServerAuthOptions } from '../../src/security/auth-gate.js';
import { hasCode } from '../support/assertions.js';

/**
 * The authentication gate asked directly, as a transport asks it before decoding arguments: which
 * credentials establish which principal, what is refused with which code and message, and that a
 * gate with nothing to wait for answers at once.
 */

const Orders = defineService<{ list(): Promise<string[]>; cancel(id: string): Promise<void> }>('shop.Orders', { methods: { list: {}, cancel: {} } });
const Health = defineService<{ check(): Promise<string> }>('grpc.health.v1.Health', { methods: { check: {} } });

const alice: Principal = { id: 'alice', via: 'certificate', roles: [], scopes: [], claims: { fingerprint256: 'AA:BB' } };

function request(method: string, authorization?: string | Uint8Array, peer?: Principal, service: ServiceDefinition = Orders as ServiceDefinition): GateRequest {
  return { service, method, metadata: authorization === undefined ? undefined : new Metadata({ authorization }), peer, protocol: 'tcp' };
}

function gate(options: ServerAuthOptions) {
  return authGate(options, silentLogger);
}

const tokens = {
  'clerk-token-0123456789': { id: 'ci-clerk', roles: ['clerk'], scopes: ['orders:read'] },
  'admin-token-0123456789': { id: 'ops', roles: ['admin'] },
};

describe('authentication gate', () => {
  it('maps a static bearer token to its principal, at once', () => {
    const admitted = gate({ tokens }).admit(request('list', 'Bearer clerk-token-0123456789'));
    assert.ok(!(admitted instanceof Promise), 'a table answers synchronously');
    assert.deepEqual(admitted, { id: 'ci-clerk', via: 'token', roles: ['clerk'], scopes: ['orders:read'], claims: {} });
    assert.equal((gate({ tokens }).admit(request('list', 'bearer   admin-token-0123456789')) as Principal).id, 'ops', 'the scheme is case-insensitive');
  });

  it('refuses a call without credentials, and bad ones, with UNAUTHENTICATED that never echoes the token', () => {
    const g = gate({ tokens });
    assert.throws(() => g.admit(request('list')), hasCode(Code.UNAUTHENTICATED, /^missing credentials: shop\.Orders\.list needs an authenticated caller$/));
    for (const [value, why] of [
      ['Bearer not-a-known-token', /^unknown bearer token$/],
      ['Basic YWxpY2U6c2VjcmV0', /^unsupported authorization scheme "Basic"; send "Bearer <token>"$/],
      ['Bearer', /^malformed bearer token$/],
      ['Bearer two words', /^malformed bearer token$/],
    ] as const) {
      assert.throws(() => g.admit(request('list', value)), (error: Error) => {
        hasCode(Code.UNAUTHENTICATED, why)(error);
        assert.ok(!error.message.includes('YWxpY2U6c2VjcmV0') && !error.message.includes('not-a-known-token'), 'the credential is not repeated');
        return true;
      });
    }
    assert.throws(() => g.admit(request('list', new Uint8Array([1, 2]))), hasCode(Code.UNAUTHENTICATED, /must be text/));
  });

  it('asks a token function per call, synchronous or asynchronous, and lets it refuse', async () => {
    const asked: string[] = [];
    const g = gate({
      tokens: async (token) => {
        asked.push(token);
        if (token === 'revoked') throw Object.assign(new Error('token revoked'), { code: Code.PERMISSION_DENIED });
        return token.startsWith('svc-') ? { id: token.slice(4), roles: ['service'] } : undefined;
      },
      policy: { 'shop.Orders': { roles: ['service'] } },
    });
    assert.equal(((await g.admit(request('list', 'Bearer svc-billing'))) as Principal).id, 'billing');
    await assert.rejects(async () => g.admit(request('list', 'Bearer nobody')), hasCode(Code.UNAUTHENTICATED, /unknown bearer token/));
    await assert.rejects(async () => g.admit(request('list', 'Bearer revoked')), hasCode(Code.PERMISSION_DENIED, /token revoked/));
    assert.deepEqual(asked, ['svc-billing', 'nobody', 'revoked']);
    const bad = gate({ tokens: () => ({ id: '' }) });
    await assert.rejects(async () => bad.admit(request('list', 'Bearer x')), hasCode(Code.INTERNAL, /non-empty string id/));
  });

  it('applies the policy after authentication: PERMISSION_DENIED names the method and what is missing', () => {
    const g = gate({ tokens, policy: { 'shop.Orders': { roles: ['clerk'], methods: { cancel: { roles: ['admin'] } } } } });
    assert.equal((g.admit(request('list', 'Bearer clerk-token-0123456789')) as Principal).id, 'ci-clerk');
    assert.throws(() => g.admit(request('cancel', 'Bearer clerk-token-0123456789')), hasCode(Code.PERMISSION_DENIED, /^permission denied: shop\.Orders\.cancel needs the role admin$/));
    assert.equal((g.admit(request('cancel', 'Bearer admin-token-0123456789')) as Principal).id, 'ops');
  });

  it('lets anonymous callers into public methods, but not with bad credentials', () => {
    const g = gate({ tokens, policy: { 'grpc.health.v1.Health': { public: true } } });
    assert.equal(g.admit(request('check', undefined, undefined, Health as ServiceDefinition)), undefined);
    assert.equal((g.admit(request('check', 'Bearer admin-token-0123456789', undefined, Health as ServiceDefinition)) as Principal).id, 'ops', 'a caller that authenticates is known there too');
    assert.throws(() => g.admit(request('check', 'Bearer wrong', undefined, Health as ServiceDefinition)), hasCode(Code.UNAUTHENTICATED, /unknown bearer token/));
  });

  it('accepts a verified client certificate when told to, mapped or as it is; a token wins over it', async () => {
    assert.throws(() => gate({ tokens }).admit(request('list', undefined, alice)), hasCode(Code.UNAUTHENTICATED, /missing credentials/), 'not accepted unless asked');
    assert.equal(gate({ certificate: true }).admit(request('list', undefined, alice)), alice);
    const mapped = gate({
      tokens,
      certificate: async (peer) => (peer.id === 'alice' ? { roles: ['admin'] } : undefined),
      policy: { 'shop.Orders': { roles: ['admin'] } },
    });
    assert.deepEqual(await mapped.admit(request('cancel', undefined, alice)), { ...alice, roles: ['admin'] });
    const mallory = { ...alice, id: 'mallory' };
    await assert.rejects(async () => mapped.admit(request('cancel', undefined, mallory)), hasCode(Code.UNAUTHENTICATED, /missing credentials/));
    assert.equal(((await mapped.admit(request('cancel', 'Bearer admin-token-0123456789', mallory))) as Principal).id, 'ops');
    assert.throws(() => gate({ certificate: true }).admit(request('list', 'Bearer abc', alice)), hasCode(Code.UNAUTHENTICATED, /bearer tokens are not accepted here/));
  });

  it('takes a compiled policy, shared with other listeners', () => {
    const policy = accessPolicy({ '*': { roles: ['admin'] } });
    const g = gate({ tokens, policy });
    assert.throws(() => g.admit(request('list', 'Bearer clerk-token-0123456789')), hasCode(Code.PERMISSION_DENIED));
    assert.throws(() => policy.authorize({ id: 'x', via: 'token', roles: [], scopes: [], claims: {} }, 'admin', 'GET /metrics'), hasCode(Code.PERMISSION_DENIED, /admin\.GET \/metrics needs the role admin/));
  });

  it('refuses options it cannot use', () => {
    assert.throws(() => gate({}), hasCode(Code.INVALID_ARGUMENT, /needs a way to authenticate callers/));
    assert.throws(() => gate({ tokens, polcy: {} } as ServerAuthOptions), hasCode(Code.INVALID_ARGUMENT, /unknown option "polcy"/));
    assert.throws(() => gate({ tokens: { 'has space': { id: 'x' } } }), hasCode(Code.INVALID_ARGUMENT, /characters a bearer token cannot carry/));
    assert.throws(() => gate({ tokens: { abc: { id: 'x', roles: 'admin' as unknown as string[] } } }), /roles must be a list of strings/);
    assert.throws(() => gate({ jwt: {} }), hasCode(Code.INVALID_ARGUMENT, /exactly one of key and jwks/));
    assert.throws(() => gate({ jwt: { jwks: 'not a url' } }), hasCode(Code.INVALID_ARGUMENT, /not a URL/));
  });
});
