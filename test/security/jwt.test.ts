import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';
import { Code, Metadata, defineService, type Principal } from '../../src/index.js';
import type { GateRequest } from '../../src/core/gate.js';
import { silentLogger } from '../../src/core/logger.js';
import { authGate, type ServerAuthOptions } from '../../src/security/auth-gate.js';
import { hasCode } from '../support/assertions.js';

/**
 * JWT authentication through the gate: keys from a JWKS endpoint served by a real local HTTP
 * server (fetched once, fetched again for an unknown key), or given directly; and each reason a
 * token is refused, named without the token.
 */

const Orders = defineService<{ list(): Promise<string[]> }>('shop.Orders', { methods: { list: {} } });
const ISSUER = 'https://id.switchyard.test';
const AUDIENCE = 'shop';

function request(token: string): GateRequest {
  return { service: Orders, method: 'list', metadata: new Metadata({ authorization: `Bearer ${token}` }), peer: undefined, protocol: 'grpc' };
}

async function keyPair(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  return { privateKey, jwk, kid };
}

type Pair = Awaited<ReturnType<typeof keyPair>>;

function sign(pair: Pair, claims: JWTPayload = {}, edit?: (jwt: SignJWT) => SignJWT): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ roles: ['clerk'], scope: 'orders:read orders:write', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: pair.kid })
    .setSubject('ann')
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + 600);
  return (edit?.(jwt) ?? jwt).sign(pair.privateKey);
}

/** A JWKS endpoint on loopback serving `keys()`, counting its fetches; closed when the test ends. */
async function jwksServer(t: TestContext, keys: () => JWK[]): Promise<{ url: string; fetches: () => number }> {
  let fetches = 0;
  const server: HttpServer = createHttpServer((req, res) => {
    fetches++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: keys() }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`, fetches: () => fetches };
}

function gate(options: ServerAuthOptions) {
  return authGate(options, silentLogger);
}

describe('JWT authentication', () => {
  it('verifies tokens with keys from a JWKS URL, fetched once and again for a key it does not know', async (t) => {
    const first = await keyPair('k1');
    const second = await keyPair('k2');
    let published = [first.jwk];
    const jwks = await jwksServer(t, () => published);
    const g = gate({ jwt: { jwks: { url: jwks.url, cooldownMs: 0 }, issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'] } });

    const principal = (await g.admit(request(await sign(first)))) as Principal;
    assert.equal(principal.id, 'ann');
    assert.equal(principal.via, 'jwt');
    assert.deepEqual(principal.roles, ['clerk']);
    assert.deepEqual(principal.scopes, ['orders:read', 'orders:write']);
    assert.equal(principal.claims.iss, ISSUER);
    await g.admit(request(await sign(first)));
    assert.equal(jwks.fetches(), 1, 'the key set is cached');

    published = [first.jwk, second.jwk];
    assert.equal(((await g.admit(request(await sign(second)))) as Principal).id, 'ann', 'a rotated-in key is fetched');
    assert.equal(jwks.fetches(), 2);
    const stranger = await keyPair('k3');
    await assert.rejects(async () => g.admit(request(await sign(stranger))), hasCode(Code.UNAUTHENTICATED, /^JWT refused: no key of the key set matches it/));
  });

  it('names why a token is refused: expired, wrong audience or issuer, bad signature, missing claims', async (t) => {
    const pair = await keyPair('k1');
    const jwks = await jwksServer(t, () => [pair.jwk]);
    const g = gate({ jwt: { jwks: jwks.url, issuer: ISSUER, audience: AUDIENCE } });
    const past = Math.floor(Date.now() / 1000) - 3600;
    const cases: Array<[string, Promise<string>, RegExp]> = [
      ['expired', sign(pair, {}, (jwt) => jwt.setIssuedAt(past - 60).setExpirationTime(past)), /^JWT refused: it has expired \("exp" claim timestamp check failed\)$/],
      ['audience', sign(pair, {}, (jwt) => jwt.setAudience('billing')), /^JWT refused: it is not meant for this audience \(unexpected "aud" claim value\)$/],
      ['issuer', sign(pair, {}, (jwt) => jwt.setIssuer('https://evil.test')), /^JWT refused: its issuer is not accepted/],
      ['not yet', sign(pair, {}, (jwt) => jwt.setNotBefore(past + 7200 + 3600)), /^JWT refused: it is not valid yet/],
      ['no exp', new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('ann').setIssuer(ISSUER).setAudience(AUDIENCE).sign(pair.privateKey), /^JWT refused: it has no "exp" claim/],
      ['signature', sign(pair).then((token) => token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA')), /^JWT refused: its signature does not verify/],
      ['garbage', Promise.resolve('eyJhbGciOiJFUzI1NiJ9.e30.AAAA'), /^JWT refused: /],
    ];
    for (const [name, made, why] of cases) {
      const token = await made;
      await assert.rejects(async () => g.admit(request(token)), (error: Error) => {
        hasCode(Code.UNAUTHENTICATED, why)(error);
        assert.ok(!error.message.includes(token.split('.')[1]!), `${name}: the token is not echoed`);
        return true;
      }, name);
    }
  });

  it('verifies with a key given directly: an HMAC secret, a JWK, a key set; only the algorithms allowed', async () => {
    const secret = 'a-shared-secret-of-enough-length-for-hs256';
    const hs = (alg: string) => new SignJWT({ roles: 'clerk admin' }).setProtectedHeader({ alg }).setSubject('svc').setExpirationTime('5m').sign(new TextEncoder().encode(secret));
    const byHmac = gate({ jwt: { key: secret, algorithms: ['HS256'] } });
    assert.deepEqual(((await byHmac.admit(request(await hs('HS256')))) as Principal).roles, ['clerk', 'admin'], 'space-separated roles');
    await assert.rejects(async () => byHmac.admit(request(await hs('HS512'))), hasCode(Code.UNAUTHENTICATED, /its algorithm is not accepted/));

    const pair = await keyPair('k1');
    const token = await sign(pair, { scope: undefined, scp: ['orders:read'], realm_access: { roles: ['auditor'] } });
    const byJwk = gate({ jwt: { key: pair.jwk, rolesClaim: 'realm_access.roles' } });
    const principal = (await byJwk.admit(request(token))) as Principal;
    assert.deepEqual(principal.roles, ['auditor'], 'roles from a dotted path');
    assert.deepEqual(principal.scopes, ['orders:read'], 'scopes from scp');
    const bySet = gate({ jwt: { key: { keys: [pair.jwk] }, audience: AUDIENCE } });
    assert.equal(((await bySet.admit(request(token))) as Principal).id, 'ann');
  });

  it('asks the tokens table first and verifies JWT-shaped tokens it does not know', async () => {
    const pair = await keyPair('k1');
    const g = gate({ tokens: { 'opaque-ci-token': { id: 'ci' } }, jwt: { key: pair.jwk } });
    assert.equal(((await g.admit(request('opaque-ci-token'))) as Principal).id, 'ci');
    assert.equal(((await g.admit(request(await sign(pair)))) as Principal).id, 'ann');
    assert.throws(() => g.admit(request('opaque-unknown')), hasCode(Code.UNAUTHENTICATED, /neither a known token nor a JWT/));
  });

  it('answers UNAVAILABLE, not UNAUTHENTICATED, when the key set cannot be fetched', async (t) => {
    const pair = await keyPair('k1');
    const down = createHttpServer();
    down.listen(0, '127.0.0.1');
    await once(down, 'listening');
    const { port } = down.address() as AddressInfo;
    await new Promise<void>((resolve) => down.close(() => resolve()));
    const warned: unknown[] = [];
    const g = authGate({ jwt: { jwks: `http://127.0.0.1:${port}/jwks.json` } }, { ...silentLogger, warn: (entry) => warned.push(entry) });
    await assert.rejects(async () => g.admit(request(await sign(pair))), hasCode(Code.UNAVAILABLE, /^cannot verify the JWT now: the key set at http:\/\/127\.0\.0\.1:\d+\/jwks\.json cannot be fetched/));

    const notJson = await jwksServer(t, () => 'nope' as unknown as JWK[]);
    await assert.rejects(async () => gate({ jwt: { jwks: notJson.url } }).admit(request(await sign(pair))), hasCode(Code.UNAVAILABLE));
    assert.ok(warned.length >= 1, 'the server log says why');
  });
});
