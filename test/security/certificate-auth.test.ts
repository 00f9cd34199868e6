import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, createClient, createServer, currentCall, defineService, type ClientOptions } from '../../src/index.js';
import { recordEscapes, rejection } from '../support/assertions.js';
import { onCleanup } from '../support/calculator.js';
import { certificates } from '../support/certs.js';

/**
 * The TLS client certificate as the credential, on tls://, https:// and grpcs://: a certificate the
 * server's mapping accepts authenticates the caller with the roles it adds; one it does not
 * accept, or none, leaves the caller anonymous; a bearer token still works without a certificate.
 */

interface Admin {
  whoami(): Promise<{ id: string; via: string; roles: readonly string[]; fingerprint: unknown }>;
}

const AdminService = defineService<Admin>('test.Admin', { methods: { whoami: {} } });

test('a verified client certificate authenticates its caller on tls, https and grpcs', async (t) => {
  const escaped = recordEscapes(t);
  const certs = certificates();
  const bob = certs.issue('auth-bob', { cn: 'bob', client: true });
  let runs = 0;
  const server = createServer({
    registry: false,
    listen: ['tls://127.0.0.1:0', 'https://127.0.0.1:0', 'grpcs://127.0.0.1:0'],
    // Certificates are asked for but not required, so that the gate decides about callers without one.
    tls: { key: certs.serverKey, cert: certs.serverCert, ca: certs.caCert },
    auth: {
      tokens: { 'ops-token-0123456789': { id: 'ops', roles: ['admin'] } },
      certificate: (peer) => (peer.id === 'alice' ? { roles: ['admin'] } : undefined),
      policy: { 'test.Admin': { roles: ['admin'] } },
    },
  });
  server.provide(AdminService, {
    async whoami() {
      runs++;
      const { id, via, roles, claims } = currentCall().principal!;
      return { id, via, roles, fingerprint: claims.fingerprint256 };
    },
  });
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const addresses = await server.listen();

  for (const address of addresses) {
    const transport = address.split(':')[0]!;
    const open = (options: Omit<ClientOptions, 'url'>) => {
      const client = createClient({ url: address, cluster: 'failfast', circuitBreaker: false, timeoutMs: 10_000, ...options });
      onCleanup(t, () => client.close({ timeoutMs: 2000 }));
      return client.proxy(AdminService);
    };
    runs = 0;
    const alice = await open({ tls: { ca: certs.caCert, key: certs.clientKey, cert: certs.clientCert } }).whoami();
    assert.equal(alice.id, 'alice', transport);
    assert.equal(alice.via, 'certificate', transport);
    assert.deepEqual(alice.roles, ['admin'], transport);
    assert.match(String(alice.fingerprint), /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/, `${transport}: the certificate's claims stay`);

    const stranger = await rejection(open({ tls: { ca: certs.caCert, key: bob.key, cert: bob.cert } }).whoami());
    assert.equal(stranger.code, Code.UNAUTHENTICATED, `${transport}: ${stranger.message}`);
    const none = await rejection(open({ tls: { ca: certs.caCert } }).whoami());
    assert.equal(none.code, Code.UNAUTHENTICATED, `${transport}: ${none.message}`);
    assert.equal(runs, 1, `${transport}: refused calls never ran`);

    const ops = await open({ tls: { ca: certs.caCert }, credentials: 'ops-token-0123456789' }).whoami();
    assert.equal(ops.id, 'ops', `${transport}: a token without a certificate`);
  }
  assert.deepEqual(escaped, []);
});
