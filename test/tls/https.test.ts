import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { Agent, request } from 'undici';
import { Code, createServer, defineService } from '../../src/index.js';
import { onCleanup } from '../support/calculator.js';
import { certificates } from '../support/certs.js';
import { failureOf, identityClient, serve } from './peers.js';

const certs = certificates();
const serverTls = { key: certs.serverKey, cert: certs.serverCert };
const mutualTls = { ...serverTls, ca: certs.caCert };
const aliceTls = { ca: certs.caCert, key: certs.clientKey, cert: certs.clientCert };

interface Prices {
  price(item: string, qty: number): Promise<number>;
}
const PricesService = defineService<Prices>('shop.Prices', {
  methods: { price: { http: { method: 'GET', path: '/items/{item}/price', params: ['item', 'qty'] } } },
});

/** An HTTP client of its own that trusts the test CA, for what the RPC client does not do (GET, OPTIONS). */
function trustingAgent(t: TestContext): Agent {
  const agent = new Agent({ connect: { ca: certs.read(certs.caCert) } });
  onCleanup(t, () => agent.close());
  return agent;
}

describe('https:// serves the HTTP transport over TLS', () => {
  test('calls work, and the server announces https:// addresses', async (t) => {
    const [address] = await serve(t, 'https://127.0.0.1:0', { tls: serverTls });
    assert.match(address!, /^https:\/\/127\.0\.0\.1:\d+$/);
    const identity = identityClient(t, { url: address!, tls: { ca: certs.caCert } });
    assert.equal(await identity.add(2, 3), 5);
    assert.equal(await identity.whoami(), null);
  });

  test('routes, OpenAPI and CORS work as over http://', async (t) => {
    const server = createServer({ registry: false, listen: ['https://127.0.0.1:0?cors=https://app.example'], tls: serverTls });
    server.provide(PricesService, { price: async (item, qty) => (item === 'apple' ? 2 : 3) * Number(qty) });
    onCleanup(t, () => server.close({ timeoutMs: 2000 }));
    const [address] = await server.listen();
    const dispatcher = trustingAgent(t);
    const price = await request(`${address}/items/apple/price?qty=4`, { dispatcher });
    assert.equal(price.statusCode, 200);
    assert.equal(await price.body.json(), 8);
    const openapi = await request(`${address}/openapi.json`, { dispatcher });
    assert.equal(openapi.statusCode, 200);
    const document = (await openapi.body.json()) as { paths: Record<string, unknown> };
    assert.ok('/items/{item}/price' in document.paths);
    const preflight = await request(`${address}/items/apple/price`, {
      method: 'OPTIONS',
      dispatcher,
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
    });
    await preflight.body.dump();
    assert.equal(preflight.statusCode, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example');
  });

  test("a client certificate the server trusts is the call's principal", async (t) => {
    const [address] = await serve(t, 'https://127.0.0.1:0', { tls: { ...mutualTls, requireClientCert: true } });
    const identity = identityClient(t, { url: address!, tls: aliceTls });
    const caller = await identity.whoami();
    assert.equal(caller?.id, 'alice');
    assert.equal(caller?.via, 'certificate');
    assert.ok(caller?.sans.includes('URI:spiffe://switchyard.test/alice'), `SANs: ${caller?.sans.join(', ')}`);
    assert.deepEqual(await identity.whoami(), caller);
  });

  test('a server with an https:// listener and no tls option does not start', async (t) => {
    const error = await failureOf(serve(t, 'https://127.0.0.1:0'));
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.match(error.message, /TLS listener.*tls option/);
  });
});

describe('https:// fails fast, saying why', () => {
  /** The error of a call to `url` with `tls`: UNAVAILABLE, not a timeout. */
  async function refused(t: TestContext, url: string, tls?: object) {
    const error = await failureOf(identityClient(t, { url, tls }).add(1, 1));
    assert.equal(error.code, Code.UNAVAILABLE, error.message);
    assert.doesNotMatch(error.message, /timed out|timeout/i);
    return error;
  }

  test('a plaintext http:// client at an https:// port', async (t) => {
    const [address] = await serve(t, 'https://127.0.0.1:0', { tls: serverTls });
    const error = await refused(t, address!.replace('https://', 'http://'));
    assert.match(error.message, /closed the connection without answering.*https:\/\//);
  });

  test('an https:// client at a plaintext http:// port', async (t) => {
    const [address] = await serve(t, 'http://127.0.0.1:0');
    const error = await refused(t, address!.replace('http://', 'https://'), { ca: certs.caCert });
    assert.match(error.message, /does not speak TLS/);
    assert.equal(error.unprocessed, true);
  });

  test('a server whose certificate is signed by an untrusted CA', async (t) => {
    const [address] = await serve(t, 'https://127.0.0.1:0', { tls: { key: certs.rogueKey, cert: certs.rogueCert } });
    const error = await refused(t, address!, { ca: certs.caCert });
    assert.match(error.message, /not trusted/);
    assert.equal(error.unprocessed, true);
  });

  test('a server whose certificate names another host', async (t) => {
    const elsewhere = certs.issue('https-elsewhere', { cn: 'elsewhere.test', san: 'DNS:elsewhere.test' });
    const [address] = await serve(t, 'https://127.0.0.1:0', { tls: elsewhere });
    const error = await refused(t, address!, { ca: certs.caCert });
    assert.match(error.message, /does not name this host/);
  });

  test('a client without a certificate, when the server requires one', async (t) => {
    const [address] = await serve(t, 'https://127.0.0.1:0', { tls: { ...mutualTls, requireClientCert: true } });
    const error = await refused(t, address!, { ca: certs.caCert });
    // Over TLS 1.3 the server checks the client's certificate after the client's side of the
    // handshake is done: the client hears either the server's alert or the connection closing.
    assert.match(error.message, /refused this client's certificate, or wants one|requires client certificates does this to a client without a trusted one/);
  });

  test('a client whose certificate the server does not trust, when it requires one', async (t) => {
    const [address] = await serve(t, 'https://127.0.0.1:0', { tls: { ...mutualTls, requireClientCert: true } });
    const error = await refused(t, address!, { ca: certs.caCert, key: certs.rogueKey, cert: certs.rogueCert });
    assert.match(error.message, /requires client certificates does this to a client without a trusted one/);
  });

  test('an https:// client at a tls:// port', async (t) => {
    const [address] = await serve(t, 'tls://127.0.0.1:0', { tls: serverTls });
    const error = await refused(t, address!.replace('tls://', 'https://'), { ca: certs.caCert });
    assert.match(error.message, /another protocol/);
  });
});
