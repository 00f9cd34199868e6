import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJwt, generateKeyPair, jwtVerify } from 'jose';
import { Code, createClient, createServer, currentCall, defineService, jwtSigner, RpcError, type Interceptor } from '../../src/index.js';
import { ClientCall } from '../../src/core/client-call.js';
import { rejection } from '../support/assertions.js';
import { onCleanup } from '../support/calculator.js';

/**
 * Client credentials against a real server on loopback that echoes the `authorization` metadata it
 * received: static tokens and token sources on the client, a proxy and a call, which one wins, how
 * a failing source fails the call, and `jwtSigner` signing, reusing and re-signing its tokens.
 */

interface Echo {
  authorization(): Promise<string | null>;
}

const EchoService = defineService<Echo>('test.Echo', { methods: { authorization: {} } });

async function echoServer(t: Parameters<typeof onCleanup>[0]): Promise<string> {
  const server = createServer({ registry: false, listen: ['tcp://127.0.0.1:0'] });
  server.provide(EchoService, {
    async authorization() {
      const value = currentCall().metadata.get('authorization');
      return typeof value === 'string' ? value : null;
    },
  });
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  return address!;
}

describe('client credentials', () => {
  it('sends the client\'s, the proxy\'s or the call\'s credentials, the most specific winning', async (t) => {
    const url = await echoServer(t);
    const seen: boolean[] = [];
    const watch: Interceptor = (next) => (call) => {
      seen.push(call instanceof ClientCall && call.hasRequestMetadata);
      return next(call);
    };
    const client = createClient({ url, credentials: 'client-token', interceptors: [watch] });
    onCleanup(t, () => client.close({ timeoutMs: 2000 }));
    const echo = client.proxy(EchoService);
    assert.equal(await echo.authorization(), 'Bearer client-token');
    assert.equal(await client.proxy(EchoService, { credentials: 'proxy-token' }).authorization(), 'Bearer proxy-token');
    assert.equal(await echo.authorization.with({ credentials: () => 'call-token' })(), 'Bearer call-token');
    assert.equal(await echo.authorization.with({ credentials: 'Bearer given-with-scheme' })(), 'Bearer given-with-scheme');
    assert.equal(await echo.authorization.with({ credentials: false })(), null, 'false sends none');
    assert.equal(await echo.authorization.with({ metadata: { authorization: 'Bearer explicit' } })(), 'Bearer explicit', 'explicit metadata is kept');
    assert.equal(await client.invoke(EchoService, 'authorization', [], { credentials: 'invoked' }), 'Bearer invoked');

    const plain = createClient({ url, interceptors: [watch] });
    onCleanup(t, () => plain.close({ timeoutMs: 2000 }));
    seen.length = 0;
    assert.equal(await plain.proxy(EchoService).authorization(), null);
    assert.deepEqual(seen, [false], 'without credentials a call makes no metadata at all');
  });

  it('asks a token source for every call, waits for its promise, and fails the call when it fails', async (t) => {
    const url = await echoServer(t);
    let asked = 0;
    const client = createClient({ url, cluster: 'failfast', credentials: async ({ service, method }) => `${service}.${method}.${++asked}` });
    onCleanup(t, () => client.close({ timeoutMs: 2000 }));
    const echo = client.proxy(EchoService);
    assert.equal(await echo.authorization(), 'Bearer test.Echo.authorization.1');
    assert.equal(await echo.authorization(), 'Bearer test.Echo.authorization.2');

    const failed = await rejection(echo.authorization.with({ credentials: async () => Promise.reject(new Error('identity provider down')) })());
    assert.equal(failed.code, Code.UNAVAILABLE);
    assert.match(failed.message, /^cannot get the call's credentials: identity provider down$/);
    assert.equal(failed.unprocessed, true, 'nothing was sent');
    const thrown = await rejection(echo.authorization.with({ credentials: () => {
      throw new RpcError(Code.UNAUTHENTICATED, 'no refresh token');
    } })());
    assert.equal(thrown.code, Code.UNAUTHENTICATED, 'an RpcError keeps its code');
    const unusable = await rejection(echo.authorization.with({ credentials: () => 'two words' })());
    assert.equal(unusable.code, Code.UNAUTHENTICATED);
    assert.match(unusable.message, /no usable bearer token/);
    assert.doesNotMatch(unusable.message, /two words/);
    assert.throws(() => createClient({ url, credentials: 'has space' }), /credentials must be a bearer token/);
    assert.throws(() => client.proxy(EchoService, { credentials: '' }), /credentials must be a bearer token/);
  });

  it('jwtSigner signs verifiable JWTs, reuses one until shortly before expiry, and shares one being signed', async () => {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { extractable: true });
    const request = { service: 'shop.Orders', method: 'list' };
    const signer = jwtSigner({ key: privateKey, keyId: 'k1', issuer: 'billing', audience: 'shop', subject: 'billing-worker', ttlSeconds: 120, claims: { roles: ['clerk'], sub: 'ignored' } });
    const [a, b] = await Promise.all([signer(request), signer(request)]);
    assert.equal(a, b, 'calls made while signing share the token');
    assert.equal(typeof signer(request), 'string', 'a signed token is handed out without a promise');
    const { payload, protectedHeader } = await jwtVerify(a, publicKey, { issuer: 'billing', audience: 'shop' });
    assert.deepEqual(protectedHeader, { alg: 'EdDSA', typ: 'JWT', kid: 'k1' });
    assert.equal(payload.sub, 'billing-worker');
    assert.deepEqual(payload.roles, ['clerk']);
    assert.equal(payload.exp! - payload.iat!, 120);
    assert.equal(typeof payload.jti, 'string');

    // With a refresh margin as long as the lifetime, every token is already due: each call signs anew.
    const eager = jwtSigner({ key: 'an-hmac-secret-for-the-test-only', subject: 'svc', ttlSeconds: 30, refreshBeforeSeconds: 30 });
    const first = await eager(request);
    const second = await eager(request);
    assert.notEqual(decodeJwt(first).jti, decodeJwt(second).jti);
    assert.equal(decodeJwt(first).sub, 'svc');
    assert.throws(() => jwtSigner({ key: { kty: 'OKP' }, subject: 'x' }), /give algorithm/);
    assert.throws(() => jwtSigner({ key: 'secret', subject: '' }), /subject must be a non-empty string/);
  });
});
