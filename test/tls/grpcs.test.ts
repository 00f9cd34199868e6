// grpcs://: gRPC over TLS (ALPN h2) between Switchyard servers and clients.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { connect } from 'node:tls';
import { Code } from '../../src/index.js';
import { certificates } from '../support/certs.js';
import { freshRegistry } from '../support/cluster.js';
import { GreeterService, startGreeter, startGrpcClient } from '../grpc/fixtures/greeter.js';
import { failureOf, identityClient, serve } from './peers.js';

const certs = certificates();
const serverTls = { key: certs.serverKey, cert: certs.serverCert };
const mutualTls = { ...serverTls, ca: certs.caCert };
const aliceTls = { ca: certs.caCert, key: certs.clientKey, cert: certs.clientCert };

describe('grpcs:// carries gRPC over TLS', () => {
  test('calls and server streams work, and the server announces grpcs:// addresses', async (t) => {
    const { address } = await startGreeter(t, { listen: ['grpcs://127.0.0.1:0'], tls: serverTls });
    assert.match(address, /^grpcs:\/\/127\.0\.0\.1:\d+$/);
    const greeter = startGrpcClient(t, address, { tls: { ca: certs.caCert } }).proxy(GreeterService);
    assert.deepEqual(await greeter.sayHello({ name: 'TLS' }), { message: 'Hello, TLS!' });
    const values: number[] = [];
    for await (const { value } of greeter.count({ n: 3 })) values.push(value);
    assert.deepEqual(values, [0, 1, 2]);
  });

  test("a client certificate the server trusts is the call's principal, the same for every call on the connection", async (t) => {
    const [address] = await serve(t, 'grpcs://127.0.0.1:0', { tls: { ...mutualTls, requireClientCert: true } });
    const identity = identityClient(t, { url: address!, tls: aliceTls });
    const caller = await identity.whoami();
    assert.equal(caller?.id, 'alice');
    assert.equal(caller?.via, 'certificate');
    assert.equal(caller?.issuerCN, 'Switchyard Test CA');
    assert.ok(caller?.sans.includes('URI:spiffe://switchyard.test/alice'), `SANs: ${caller?.sans.join(', ')}`);
    assert.deepEqual(await identity.whoami(), caller);
  });

  test('with requireClientCert off, a client without a trusted certificate gets in anonymous', async (t) => {
    const [address] = await serve(t, 'grpcs://127.0.0.1:0', { tls: mutualTls });
    assert.equal(await identityClient(t, { url: address!, tls: { ca: certs.caCert } }).whoami(), null);
    assert.equal(await identityClient(t, { url: address!, tls: { ca: certs.caCert, key: certs.rogueKey, cert: certs.rogueCert } }).whoami(), null);
    assert.equal((await identityClient(t, { url: address!, tls: aliceTls }).whoami())?.id, 'alice');
  });

  test('a plaintext grpc:// caller of the same server is anonymous', async (t) => {
    const [secure, plain] = await serve(t, ['grpcs://127.0.0.1:0', 'grpc://127.0.0.1:0'], { tls: mutualTls });
    assert.equal((await identityClient(t, { url: secure!, tls: aliceTls }).whoami())?.id, 'alice');
    assert.equal(await identityClient(t, { url: plain! }).whoami(), null);
  });

  test('a consumer finds a grpcs:// provider in the registry and calls it over TLS', async (t) => {
    const { registry } = freshRegistry();
    await serve(t, 'grpcs://127.0.0.1:0', { registry, tls: mutualTls });
    const identity = identityClient(t, { registry, tls: aliceTls });
    assert.equal((await identity.whoami())?.id, 'alice');
  });

  test('a server with a grpcs:// listener and no tls option does not start', async (t) => {
    const error = await failureOf(serve(t, 'grpcs://127.0.0.1:0'));
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.match(error.message, /grpcs:\/\/127\.0\.0\.1:0 is a TLS listener.*tls option/);
  });

  test('a renewed certificate file is served to new connections; calls on open ones go on', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-grpcs-reload-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const key = join(dir, 'server.key');
    const cert = join(dir, 'server.crt');
    copyFileSync(certs.serverKey, key);
    copyFileSync(certs.serverCert, cert);
    const [address] = await serve(t, 'grpcs://127.0.0.1:0', { tls: { key, cert } });
    const before = await servedFingerprint(address!);
    const identity = identityClient(t, { url: address!, tls: { ca: certs.caCert } });
    assert.equal(await identity.add(1, 2), 3);

    const renewed = certs.issue('grpcs-renewed', { cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' });
    for (const [from, to] of [[renewed.key, key], [renewed.cert, cert]] as const) {
      copyFileSync(from, `${to}.new`);
      renameSync(`${to}.new`, to);
    }
    const until = Date.now() + 20_000;
    let seen = before;
    while (seen === before && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      seen = await servedFingerprint(address!);
    }
    assert.notEqual(seen, before, 'the server still shows the old certificate');
    assert.equal(await identity.add(2, 2), 4, 'the open connection still carries calls');
    assert.equal(await identityClient(t, { url: address!, tls: { ca: certs.caCert } }).add(3, 3), 6);
  });
});

describe('grpcs:// fails fast, saying why', () => {
  /** The error of a call to `url` with `tls`: UNAVAILABLE, unprocessed, not a timeout. */
  async function refused(t: TestContext, url: string, tls?: object) {
    const error = await failureOf(identityClient(t, { url, tls, timeoutMs: 20_000 }).add(1, 1));
    assert.equal(error.code, Code.UNAVAILABLE, error.message);
    assert.equal(error.unprocessed, true);
    assert.doesNotMatch(error.message, /timed out|deadline/);
    return error;
  }

  test('a plaintext grpc:// client at a grpcs:// port', async (t) => {
    const [address] = await serve(t, 'grpcs://127.0.0.1:0', { tls: serverTls });
    const error = await refused(t, address!.replace('grpcs://', 'grpc://'));
    assert.match(error.message, /before its HTTP\/2 SETTINGS.*TLS port.*grpcs:\/\//);
  });

  test('a grpcs:// client at a plaintext grpc:// port', async (t) => {
    const [address] = await serve(t, 'grpc://127.0.0.1:0');
    const error = await refused(t, address!.replace('grpc://', 'grpcs://'), { ca: certs.caCert });
    assert.match(error.message, /does not speak TLS/);
  });

  test('a server whose certificate is signed by an untrusted CA', async (t) => {
    const [address] = await serve(t, 'grpcs://127.0.0.1:0', { tls: { key: certs.rogueKey, cert: certs.rogueCert } });
    const error = await refused(t, address!, { ca: certs.caCert });
    assert.match(error.message, /not trusted/);
  });

  test('a server whose certificate names another host', async (t) => {
    const elsewhere = certs.issue('grpcs-elsewhere', { cn: 'elsewhere.test', san: 'DNS:elsewhere.test' });
    const [address] = await serve(t, 'grpcs://127.0.0.1:0', { tls: elsewhere });
    const error = await refused(t, address!, { ca: certs.caCert });
    assert.match(error.message, /does not name this host/);
  });

  test('a client without a certificate, when the server requires one', async (t) => {
    const [address] = await serve(t, 'grpcs://127.0.0.1:0', { tls: { ...mutualTls, requireClientCert: true } });
    const error = await refused(t, address!, { ca: certs.caCert });
    // TLS 1.3: the server's alert comes after the client's side of the handshake is done.
    assert.match(error.message, /refused this client's certificate, or wants one/);
  });

  test('a client whose certificate the server does not trust, when it requires one', async (t) => {
    const [address] = await serve(t, 'grpcs://127.0.0.1:0', { tls: { ...mutualTls, requireClientCert: true } });
    const error = await refused(t, address!, { ca: certs.caCert, key: certs.rogueKey, cert: certs.rogueCert });
    assert.match(error.message, /turns away a client without a trusted one/);
  });

  test('a grpcs:// client at an https:// port, which does not speak HTTP/2', async (t) => {
    const [address] = await serve(t, 'https://127.0.0.1:0', { tls: serverTls });
    const error = await refused(t, address!.replace('https://', 'grpcs://'), { ca: certs.caCert });
    assert.match(error.message, /HTTP\/2|ALPN|application protocol/i);
  });

  test('a CA file that cannot be read is INVALID_ARGUMENT', async (t) => {
    const [address] = await serve(t, 'grpcs://127.0.0.1:0', { tls: serverTls });
    const error = await failureOf(identityClient(t, { url: address!, tls: { ca: '/nonexistent/ca.pem' } }).add(1, 1));
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.match(error.message, /cannot read tls\.ca from \/nonexistent\/ca\.pem/);
  });
});

/** The SHA-256 fingerprint of the certificate a new TLS connection to `address` is shown. */
function servedFingerprint(address: string): Promise<string> {
  const { hostname, port } = new URL(address);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ca: certs.read(certs.caCert), ALPNProtocols: ['h2'] }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}
