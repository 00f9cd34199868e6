// amqps://: AMQP over TLS, through a RabbitMQ node of this file's own with a TLS listener that
// asks every client (Switchyard servers and clients alike) for a certificate signed by the test CA.
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { Code } from '../../src/index.js';
import { certificates } from '../support/certs.js';
import { ensureRabbitMQ, uniqueName } from '../support/rabbitmq.js';
import { startTlsBroker, type TlsBroker } from '../support/rabbitmq-tls.js';
import { failureOf, identityClient, serve } from './peers.js';

const certs = certificates();
/** What a client shows the broker: the test CA to trust it by, and alice's certificate. */
const aliceTls = { ca: certs.caCert, key: certs.clientKey, cert: certs.clientCert };
/** A server's `tls`, read for amqps:// as what its broker connections trust and present. */
const serverTls = { ca: certs.caCert, key: certs.clientKey, cert: certs.clientCert };

let broker: TlsBroker;
before(async () => {
  broker = await startTlsBroker({ requireClientCert: true });
});
after(async () => {
  await broker?.stop();
});

/** An address on the TLS broker with an exchange of the test's own. */
function address(options: Record<string, string> = {}): string {
  return broker.address({ exchange: uniqueName('sy-tls'), ...options });
}

describe('amqps:// carries calls through a TLS broker', () => {
  test('a server and a client meet through it; the server lists its amqps:// address without credentials', async (t) => {
    const url = address({ server: 'tls-1' });
    const [listed] = await serve(t, url, { tls: serverTls });
    assert.match(listed!, /^amqps:\/\/127\.0\.0\.1:\d+\/\?exchange=sy-tls-[0-9a-f]+&server=tls-1$/);
    const identity = identityClient(t, { url, tls: aliceTls });
    assert.equal(await identity.add(2, 3), 5);
    // The broker stands between them: no TLS peer of the server's own names the caller.
    assert.equal(await identity.whoami(), null);
  });

  test('PEM text and Buffers serve as well as file paths', async (t) => {
    const url = address();
    await serve(t, url, { tls: { ca: certs.read(certs.caCert).toString(), key: certs.read(certs.clientKey), cert: certs.read(certs.clientCert) } });
    const identity = identityClient(t, { url, tls: { ca: certs.read(certs.caCert), key: certs.read(certs.clientKey).toString(), cert: certs.read(certs.clientCert) } });
    assert.equal(await identity.add(1, 1), 2);
  });
});

describe('amqps:// fails fast, saying why', () => {
  /** The error of a call to `url` with `tls`: UNAVAILABLE, unprocessed, not a timeout. */
  async function refused(t: TestContext, url: string, tls?: object) {
    const error = await failureOf(identityClient(t, { url, tls, timeoutMs: 20_000 }).add(1, 1));
    assert.equal(error.code, Code.UNAVAILABLE, error.message);
    assert.equal(error.unprocessed, true);
    assert.doesNotMatch(error.message, /timed out|within \d+ ms|deadline/);
    return error;
  }

  test('a client without a certificate, when the broker requires one', async (t) => {
    const error = await refused(t, address(), { ca: certs.caCert });
    assert.match(error.message, /TLS connection to amqps:\/\/127\.0\.0\.1:\d+ failed: the server refused this client's certificate, or wants one/);
    assert.doesNotMatch(error.message, /guest/, 'credentials stay out of messages');
  });

  test('a client whose certificate the broker does not trust', async (t) => {
    const error = await refused(t, address(), { ca: certs.caCert, key: certs.rogueKey, cert: certs.rogueCert });
    assert.match(error.message, /refused this client's certificate/);
  });

  test('a client that does not trust the CA of the broker', async (t) => {
    const error = await refused(t, address(), { ca: certs.rogueCert, key: certs.clientKey, cert: certs.clientCert });
    assert.match(error.message, /the server is not trusted/);
  });

  test('a plaintext amqp:// client at the TLS port', async (t) => {
    const error = await refused(t, address().replace('amqps://', 'amqp://'));
    assert.match(error.message, /TLS listener.*amqps:\/\//);
  });

  test("an amqps:// client at the machine's plaintext broker", async (t) => {
    await ensureRabbitMQ();
    const error = await refused(t, `amqps://guest:guest@127.0.0.1:5672/?exchange=${uniqueName('sy-tls')}`, aliceTls);
    assert.match(error.message, /does not speak TLS/);
  });

  test('a server whose broker connection fails TLS does not start, saying why', async (t) => {
    const error = await failureOf(serve(t, address(), { tls: { ...serverTls, ca: certs.rogueCert } }));
    assert.equal(error.code, Code.UNAVAILABLE, error.message);
    assert.match(error.message, /the server is not trusted/);
  });

  test('a CA file that cannot be read is INVALID_ARGUMENT', async (t) => {
    const error = await failureOf(identityClient(t, { url: address(), tls: { ca: '/nonexistent/ca.pem' } }).add(1, 1));
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.match(error.message, /cannot read tls\.ca from \/nonexistent\/ca\.pem/);
  });
});
