import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Code } from '../../src/index.js';
import { certificates } from '../support/certs.js';
import { freshRegistry } from '../support/cluster.js';
import { failureOf, identityClient, serve } from './peers.js';

const certs = certificates();
const serverTls = { key: certs.serverKey, cert: certs.serverCert };
const mutualTls = { ...serverTls, ca: certs.caCert };
const aliceTls = { ca: certs.caCert, key: certs.clientKey, cert: certs.clientCert };

describe('tls:// carries the binary protocol over TLS', () => {
  test('calls work, and the server announces tls:// addresses', async (t) => {
    const [address] = await serve(t, 'tls://127.0.0.1:0', { tls: serverTls });
    assert.match(address!, /^tls:\/\/127\.0\.0\.1:\d+$/);
    const identity = identityClient(t, { url: address!, tls: { ca: certs.caCert } });
    assert.equal(await identity.add(2, 3), 5);
    // Without a client certificate the caller is anonymous.
    assert.equal(await identity.whoami(), null);
  });

  test('PEM text and Buffers serve as well as file paths', async (t) => {
    const [address] = await serve(t, 'tls://127.0.0.1:0', { tls: { key: certs.read(certs.serverKey), cert: certs.read(certs.serverCert).toString() } });
    const identity = identityClient(t, { url: address!, tls: { ca: certs.read(certs.caCert) } });
    assert.equal(await identity.add(1, 1), 2);
  });

  test("a client certificate the server trusts is the call's principal", async (t) => {
    const [address] = await serve(t, 'tls://127.0.0.1:0', { tls: { ...mutualTls, requireClientCert: true } });
    const identity = identityClient(t, { url: address!, tls: aliceTls });
    const caller = await identity.whoami();
    assert.equal(caller?.id, 'alice');
    assert.equal(caller?.via, 'certificate');
    assert.equal(caller?.issuerCN, 'Switchyard Test CA');
    assert.ok(caller?.sans.includes('URI:spiffe://switchyard.test/alice'), `SANs: ${caller?.sans.join(', ')}`);
    // Computed per connection, the same for every call on it.
    assert.deepEqual(await identity.whoami(), caller);
  });

  test('with requireClientCert off, a client without a trusted certificate gets in anonymous', async (t) => {
    const [address] = await serve(t, 'tls://127.0.0.1:0', { tls: mutualTls });
    const anonymous = identityClient(t, { url: address!, tls: { ca: certs.caCert } });
    assert.equal(await anonymous.whoami(), null);
    const rogue = identityClient(t, { url: address!, tls: { ca: certs.caCert, key: certs.rogueKey, cert: certs.rogueCert } });
    assert.equal(await rogue.whoami(), null);
    const alice = identityClient(t, { url: address!, tls: aliceTls });
    assert.equal((await alice.whoami())?.id, 'alice');
  });

  test('a server with a tls:// listener and no tls option does not start', async (t) => {
    const error = await failureOf(serve(t, 'tls://127.0.0.1:0'));
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.match(error.message, /TLS listener.*tls option/);
  });

  test('a consumer finds a tls:// provider in the registry and calls it over TLS', async (t) => {
    const { registry } = freshRegistry();
    await serve(t, 'tls://127.0.0.1:0', { registry, tls: mutualTls });
    const identity = identityClient(t, { registry, tls: aliceTls });
    assert.equal((await identity.whoami())?.id, 'alice');
  });

  test('of a provider on tcp:// and tls://, a consumer with a tls option takes tls://, one without takes tcp://', async (t) => {
    const { registry } = freshRegistry();
    await serve(t, ['tcp://127.0.0.1:0', 'tls://127.0.0.1:0'], { registry, tls: mutualTls });
    const identity = identityClient(t, { registry, tls: aliceTls });
    assert.equal((await identity.whoami())?.id, 'alice', 'only a call over tls:// knows alice');
    const plain = identityClient(t, { registry });
    assert.equal(await plain.whoami(), null, 'a client without a tls option stays on tcp://');
  });
});

describe('tls:// fails fast, saying why', () => {
  /** The error of a call to `url` with `tls`: UNAVAILABLE, unprocessed, not a timeout. */
  async function refused(t: Parameters<typeof serve>[0], url: string, tls?: object) {
    const error = await failureOf(identityClient(t, { url, tls }).add(1, 1));
    assert.equal(error.code, Code.UNAVAILABLE, error.message);
    assert.equal(error.unprocessed, true);
    assert.doesNotMatch(error.message, /timed out/);
    return error;
  }

  test('a plaintext tcp:// client at a tls:// port', async (t) => {
    const [address] = await serve(t, 'tls://127.0.0.1:0', { tls: serverTls });
    const error = await refused(t, address!.replace('tls://', 'tcp://'));
    assert.match(error.message, /closed the connection during setup.*TLS port.*tls:\/\//);
  });

  test('a tls:// client at a plaintext tcp:// port', async (t) => {
    const [address] = await serve(t, 'tcp://127.0.0.1:0');
    const error = await refused(t, address!.replace('tcp://', 'tls://'), { ca: certs.caCert });
    assert.match(error.message, /does not speak TLS/);
  });

  test('a server whose certificate is signed by an untrusted CA', async (t) => {
    const [address] = await serve(t, 'tls://127.0.0.1:0', { tls: { key: certs.rogueKey, cert: certs.rogueCert } });
    const error = await refused(t, address!, { ca: certs.caCert });
    assert.match(error.message, /not trusted/);
  });

  test('a server whose certificate names another host', async (t) => {
    const elsewhere = certs.issue('tcp-elsewhere', { cn: 'elsewhere.test', san: 'DNS:elsewhere.test' });
    const [address] = await serve(t, 'tls://127.0.0.1:0', { tls: elsewhere });
    const error = await refused(t, address!, { ca: certs.caCert });
    assert.match(error.message, /does not name this host/);
  });

  test('a client without a certificate, when the server requires one', async (t) => {
    const [address] = await serve(t, 'tls://127.0.0.1:0', { tls: { ...mutualTls, requireClientCert: true } });
    const error = await refused(t, address!, { ca: certs.caCert });
    // Over TLS 1.3 the server checks the client's certificate after the client's side of the
    // handshake is done: the client hears either the server's alert or the connection closing.
    assert.match(error.message, /refused this client's certificate, or wants one|requires client certificates turns away a client without a trusted one/);
  });

  test('a client whose certificate the server does not trust, when it requires one', async (t) => {
    const [address] = await serve(t, 'tls://127.0.0.1:0', { tls: { ...mutualTls, requireClientCert: true } });
    const error = await refused(t, address!, { ca: certs.caCert, key: certs.rogueKey, cert: certs.rogueCert });
    assert.match(error.message, /requires client certificates turns away a client without a trusted one/);
  });

  test('a tls:// client at an https:// port', async (t) => {
    const [address] = await serve(t, 'https://127.0.0.1:0', { tls: serverTls });
    const error = await refused(t, address!.replace('https://', 'tls://'), { ca: certs.caCert });
    assert.match(error.message, /another protocol/);
  });

  test('a CA file that cannot be read is INVALID_ARGUMENT', async (t) => {
    const [address] = await serve(t, 'tls://127.0.0.1:0', { tls: serverTls });
    const error = await failureOf(identityClient(t, { url: address!, tls: { ca: '/nonexistent/ca.pem' } }).add(1, 1));
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.match(error.message, /cannot read tls\.ca from \/nonexistent\/ca\.pem/);
  });
});
