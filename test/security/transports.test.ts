import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { Code, createClient, createServer, currentCall, defineService, jwtSigner, type Serializer } from '../../src/index.js';
import { SerializerSet } from '../../src/serialization/registry.js';
import { recordEscapes, rejection } from '../support/assertions.js';
import { onCleanup } from '../support/calculator.js';
import { postJson } from '../support/http.js';
import { brokerScope } from '../support/rabbitmq.js';

/**
 * Authentication and authorization end to end, the same on tcp, http, grpc and amqp: real servers
 * on loopback (and RabbitMQ), real clients. A call without credentials is UNAUTHENTICATED, one
 * whose principal lacks the role is PERMISSION_DENIED, a good one reaches the handler with its
 * principal; refused calls never run the handler and are refused before their arguments are
 * decoded; JWTs are verified against a JWKS served over HTTP; token sources are asked per call.
 */

interface Vault {
  whoami(): Promise<{ id: string; via: string; roles: readonly string[] }>;
  write(key: string, value: number): Promise<void>;
  ping(): Promise<string>;
}

const VaultService = defineService<Vault>('test.Vault', { methods: { whoami: {}, write: {}, ping: {} } });
const ISSUER = 'https://id.switchyard.test';

const tokens = {
  'reader-token-0123456789': { id: 'ann', roles: ['reader'] },
  'writer-token-0123456789': { id: 'bob', roles: ['reader', 'writer'] },
};

/** A serializer that sends cut-off msgpack: a server that decoded it would fail the call INVALID_ARGUMENT. */
function brokenMsgpack(): Serializer {
  const real = new SerializerSet(['msgpack']).named('msgpack');
  return { id: real.id, name: real.name, encode: () => Uint8Array.of(0x92), decode: (bytes) => real.decode(bytes) };
}

async function jwksServer(t: TestContext, keys: JWK[]): Promise<string> {
  const server = createHttpServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
}

test('auth refuses, admits and tells handlers the principal alike on tcp, http, grpc and amqp', async (t) => {
  const escaped = recordEscapes(t);
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwks = await jwksServer(t, [{ ...(await exportJWK(publicKey)), kid: 'main', alg: 'ES256' }]);
  const scope = (await brokerScope(t)).uses(VaultService.id);
  const runs: string[] = [];
  const server = createServer({
    registry: false,
    listen: ['tcp://127.0.0.1:0', 'http://127.0.0.1:0', 'grpc://127.0.0.1:0', scope.url({ server: 'vault' })],
    auth: {
      tokens,
      jwt: { jwks, issuer: ISSUER, audience: 'vault', algorithms: ['ES256'] },
      policy: { 'test.Vault': { roles: ['reader'], methods: { write: { roles: ['writer'] }, ping: { public: true } } } },
    },
  });
  server.provide(VaultService, {
    async whoami() {
      runs.push('whoami');
      const principal = currentCall().principal!;
      return { id: principal.id, via: principal.via, roles: principal.roles };
    },
    async write() {
      runs.push('write');
    },
    async ping() {
      runs.push('ping');
      return currentCall().principal?.id ?? 'anonymous';
    },
  });
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const addresses = await server.listen();
  const now = Math.floor(Date.now() / 1000);
  const jwt = (audience: string, exp: number) => new SignJWT({ roles: ['reader'] }).setProtectedHeader({ alg: 'ES256', kid: 'main' })
    .setSubject('carol').setIssuer(ISSUER).setAudience(audience).setIssuedAt(now - 7200).setExpirationTime(exp).sign(privateKey);
  const expired = await jwt('vault', now - 3600);
  const otherAudience = await jwt('billing', now + 600);

  for (const address of addresses) {
    const transport = address.split(':')[0]!;
    const url = transport === 'amqp' ? scope.url() : address;
    const open = (options: Parameters<typeof createClient>[0] = {}) => {
      const client = createClient({ url, cluster: 'failfast', circuitBreaker: false, timeoutMs: 10_000, ...options });
      onCleanup(t, () => client.close({ timeoutMs: 2000 }));
      return client.proxy(VaultService);
    };
    runs.length = 0;

    const anonymous = open();
    const missing = await rejection(anonymous.whoami());
    assert.equal(missing.code, Code.UNAUTHENTICATED, `${transport}: ${missing.message}`);
    assert.match(missing.message, /^missing credentials: test\.Vault\.whoami needs an authenticated caller$/, transport);
    assert.equal(await anonymous.ping(), 'anonymous', `${transport}: a public method needs no credentials`);

    const reader = open({ credentials: 'reader-token-0123456789' });
    assert.deepEqual(await reader.whoami(), { id: 'ann', via: 'token', roles: ['reader'] }, transport);
    const denied = await rejection(reader.write('k', 1));
    assert.equal(denied.code, Code.PERMISSION_DENIED, `${transport}: ${denied.message}`);
    assert.match(denied.message, /^permission denied: test\.Vault\.write needs the role writer$/, transport);
    await reader.write.with({ credentials: 'writer-token-0123456789' })('k', 1);
    const bad = await rejection(reader.whoami.with({ credentials: 'forged-token' })());
    assert.equal(bad.code, Code.UNAUTHENTICATED, `${transport}: ${bad.message}`);

    // Arguments that cannot be decoded: refused for the missing credentials, not for the bytes.
    if (transport === 'http') {
      const raw = await postJson(address, '/test.Vault/write', undefined, {});
      assert.equal(raw.status, 401, `${transport}: ${JSON.stringify(raw.json)}`);
      const garbled = await fetch(`${address}/test.Vault/write`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1, {' });
      assert.equal(garbled.status, 401);
      assert.equal(((await garbled.json()) as { code: string }).code, 'UNAUTHENTICATED');
      const withHeader = await postJson(address, '/test.Vault/whoami', [], { authorization: 'Bearer reader-token-0123456789' });
      assert.deepEqual(withHeader.json, { id: 'ann', via: 'token', roles: ['reader'] }, 'a plain Authorization header, as curl sends it');
      const garbledAdmitted = await fetch(`${address}/test.Vault/write`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer writer-token-0123456789' }, body: '[1, {' });
      assert.equal(garbledAdmitted.status, 400, 'once admitted, the same body fails to decode');
    } else {
      const broken = createClient({ url, cluster: 'failfast', circuitBreaker: false, timeoutMs: 10_000, serializer: brokenMsgpack() });
      onCleanup(t, () => broken.close({ timeoutMs: 2000 }));
      const undecodable = await rejection(broken.proxy(VaultService).write('k', 1));
      assert.equal(undecodable.code, Code.UNAUTHENTICATED, `${transport}: ${undecodable.message}`);
      const admitted = await rejection(broken.proxy(VaultService, { credentials: 'writer-token-0123456789' }).write('k', 1));
      assert.notEqual(admitted.code, Code.UNAUTHENTICATED, `${transport}: once admitted, the same bytes fail to decode (${admitted.message})`);
    }

    // JWTs, verified against the JWKS endpoint, and a token source asked once per call.
    let signed = 0;
    const signer = jwtSigner({ key: privateKey, keyId: 'main', issuer: ISSUER, audience: 'vault', subject: 'dave', claims: { roles: ['reader'] } });
    const withJwt = open({ credentials: (request) => {
      signed++;
      assert.deepEqual(request, { service: 'test.Vault', method: 'whoami' });
      return signer(request);
    } });
    for (let i = 0; i < 3; i++) assert.deepEqual(await withJwt.whoami(), { id: 'dave', via: 'jwt', roles: ['reader'] }, transport);
    assert.equal(signed, 3, `${transport}: the token source is asked for every call`);
    const old = await rejection(open({ credentials: expired }).whoami());
    assert.equal(old.code, Code.UNAUTHENTICATED, transport);
    assert.match(old.message, /^JWT refused: it has expired/, transport);
    const elsewhere = await rejection(open({ credentials: otherAudience }).whoami());
    assert.match(elsewhere.message, /^JWT refused: it is not meant for this audience/, `${transport}: ${elsewhere.message}`);

    assert.deepEqual(runs, ['ping', 'whoami', 'write', ...(transport === 'http' ? ['whoami'] : []), 'whoami', 'whoami', 'whoami'], `${transport}: only admitted calls ran`);
  }
  assert.deepEqual(escaped, []);
});
