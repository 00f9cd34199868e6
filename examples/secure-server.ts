/**
 * A hardened server: TLS on every listener with client certificates required (mTLS), JWTs checked
 * against the issuer's JWKS endpoint, a token for automation, and an authorization policy per
 * service and method. Then a client calls it over each protocol, allowed and refused.
 *
 *   npx tsx examples/secure-server.ts            # the demo: serve, call, close
 *   npx tsx examples/secure-server.ts --serve    # keep serving until SIGTERM / Ctrl-C
 *
 * Production settings come from the environment; whatever is missing is made up for the demo:
 *   TLS_KEY, TLS_CERT, TLS_CA           server key and certificate, CA of client certificates (PEM paths)
 *   CLIENT_KEY, CLIENT_CERT             the demo client's certificate, signed by TLS_CA
 *   JWKS_URL, JWT_ISSUER, JWT_AUDIENCE  the identity provider (without JWKS_URL a local one is started)
 *   AUTOMATION_TOKEN                    a bearer token for CI jobs (default: a random one)
 *   LISTEN                              comma-separated addresses (default tls, https and grpcs on 127.0.0.1)
 * Throw-away certificates are made with `openssl`, which must then be installed.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { Code, GrpcHealthService, RpcError, accessPolicy, createClient, createServer, currentCall, defineService, jwtSigner, type Logger } from '../src/index.js';

interface Orders {
  list(): Promise<string[]>;
  cancel(id: string): Promise<string>;
}

const OrdersService = defineService<Orders>('shop.Orders', { methods: { list: {}, cancel: {} } });

const env = process.env;
const serveOnly = process.argv.includes('--serve');
const logger: Logger = { debug: () => {}, info: () => {}, warn: (entry, msg) => console.warn('warn:', msg, entry), error: (entry, msg) => console.error('error:', msg, entry) };

// --- Certificates: from the environment, or throw-away ones for the demo -----------------------
const certs = env.TLS_KEY && env.TLS_CERT && env.TLS_CA
  ? { key: env.TLS_KEY, cert: env.TLS_CERT, ca: env.TLS_CA, clientKey: env.CLIENT_KEY, clientCert: env.CLIENT_CERT, cleanup: () => {} }
  : throwAwayCertificates();

// --- The identity provider: a real one's JWKS endpoint, or a local one that signs for the demo ---
const idp = env.JWKS_URL ? undefined : await localIdentityProvider();
const jwks = env.JWKS_URL ?? idp!.jwksUrl;
const issuer = env.JWT_ISSUER ?? 'https://id.example.test';
const audience = env.JWT_AUDIENCE ?? 'shop';
const automationToken = env.AUTOMATION_TOKEN ?? randomBytes(24).toString('base64url');

// One policy object: the server's gate asks it, and so could an admin listener.
const policy = accessPolicy({
  'grpc.health.v1.Health': { public: true },
  'shop.Orders': {
    scopes: ['orders:read'],
    methods: { cancel: { roles: ['admin'] } },
  },
});

const server = createServer({
  listen: env.LISTEN?.split(',') ?? ['tls://127.0.0.1:0', 'https://127.0.0.1:0', 'grpcs://127.0.0.1:0'],
  registry: false,
  logger,
  tls: { key: certs.key, cert: certs.cert, ca: certs.ca, requireClientCert: true, minVersion: 'TLSv1.3', handshakeTimeoutMs: 5_000 },
  // Tighter than the defaults: a few callers, each with few connections and small metadata.
  maxConnections: 2_000,
  maxConnectionsPerAddress: 100,
  firstRequestTimeoutMs: 5_000,
  maxMetadataBytes: 8 * 1024,
  maxDecodeDepth: 32,
  // With a registry (not used here), `token: true` would also refuse consumers that bypass it.
  auth: {
    jwt: { jwks, issuer, audience, algorithms: ['ES256'] },
    tokens: { [automationToken]: { id: 'ci', roles: ['admin'], scopes: ['orders:read'] } },
    // Services that hold a certificate from our CA but no token: known by their common name.
    certificate: (peer) => (peer.id === 'billing-worker' ? { roles: ['service'], scopes: ['orders:read'] } : undefined),
    policy,
  },
});
server.provide(OrdersService, {
  async list() {
    const caller = currentCall().principal!;
    return [`order-1 (seen by ${caller.id} via ${caller.via})`];
  },
  async cancel(id) {
    return `${id} cancelled by ${currentCall().principal!.id}`;
  },
});
const addresses = await server.listen();
console.log('listening on', addresses.join(', '));

if (serveOnly) {
  console.log(`automation token: ${automationToken}`);
  process.once('exit', () => certs.cleanup());
  server.closeOnSignals();
} else {
  try {
    await demo(addresses);
  } finally {
    await server.close();
    await idp?.close();
    certs.cleanup();
  }
}

/** Calls the server over each protocol as a clerk with a JWT, as the billing service with only its certificate, and as CI. */
async function demo(targets: string[]): Promise<void> {
  if (certs.clientKey === undefined || certs.clientCert === undefined) throw new Error('set CLIENT_KEY and CLIENT_CERT for the demo client');
  const tls = { ca: certs.ca, key: certs.clientKey, cert: certs.clientCert };
  const clerkToken = idp === undefined
    ? undefined
    : jwtSigner({ key: idp.privateKey, keyId: idp.keyId, issuer, audience, subject: 'ann', ttlSeconds: 300, claims: { roles: ['clerk'], scope: 'orders:read' } });
  for (const url of targets) {
    const protocol = url.split(':')[0];
    const clerk = createClient({ url, tls, credentials: clerkToken ?? automationToken, cluster: 'failfast' });
    const billing = createClient({ url, tls, cluster: 'failfast' });
    const ci = createClient({ url, tls, credentials: automationToken, cluster: 'failfast' });
    try {
      const orders = clerk.proxy(OrdersService);
      console.log(`${protocol}: clerk lists`, await orders.list());
      console.log(`${protocol}: clerk cancels ->`, await outcome(orders.cancel('order-1')));
      console.log(`${protocol}: billing (certificate only) lists`, await outcome(billing.proxy(OrdersService).list()));
      console.log(`${protocol}: ci cancels ->`, await ci.proxy(OrdersService).cancel('order-2'));
      if (protocol === 'grpcs') console.log(`${protocol}: health (public) ->`, await billing.proxy(GrpcHealthService).check({ service: '' }));
    } finally {
      await Promise.all([clerk.close(), billing.close(), ci.close()]);
    }
  }
}

async function outcome(call: Promise<unknown>): Promise<unknown> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof RpcError && (error.code === Code.PERMISSION_DENIED || error.code === Code.UNAUTHENTICATED)) return `refused: ${error.message}`;
    throw error;
  }
}

/** A stand-in identity provider: an ES256 key pair and its JWKS served over HTTP on loopback. */
async function localIdentityProvider() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const keyId = 'demo-1';
  const body = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: keyId, alg: 'ES256', use: 'sig' }] });
  const http = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    privateKey,
    keyId,
    jwksUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}/.well-known/jwks.json`,
    close: () => new Promise<void>((resolve) => {
      http.closeAllConnections();
      http.close(() => resolve());
    }),
  };
}

/** A CA, a server certificate for localhost and 127.0.0.1, and a client certificate for `billing-worker`. */
function throwAwayCertificates() {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-secure-'));
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => {
    try {
      execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      throw new Error(missing ? 'openssl is not installed: install it, or set TLS_KEY, TLS_CERT, TLS_CA, CLIENT_KEY and CLIENT_CERT' : `openssl failed: ${String(error)}`, { cause: error });
    }
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl('req', '-x509', ...ec, '-days', '1', '-subj', '/CN=Demo CA', '-keyout', path('ca.key'), '-out', path('ca.crt'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  const issue = (name: string, cn: string, extensions: string) => {
    openssl('req', ...ec, '-subj', `/CN=${cn}`, '-keyout', path(`${name}.key`), '-out', path(`${name}.csr`));
    writeFileSync(path(`${name}.ext`), extensions);
    openssl('x509', '-req', '-in', path(`${name}.csr`), '-CA', path('ca.crt'), '-CAkey', path('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', path(`${name}.ext`), '-out', path(`${name}.crt`));
  };
  issue('server', 'localhost', 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n');
  issue('client', 'billing-worker', 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  return {
    key: path('server.key'),
    cert: path('server.crt'),
    ca: path('ca.crt'),
    clientKey: path('client.key'),
    clientCert: path('client.crt'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
