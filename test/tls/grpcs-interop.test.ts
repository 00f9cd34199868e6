// grpcs:// against a real @grpc/grpc-js peer, both ways, with and without client certificates.
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { Code, RpcError } from '../../src/index.js';
import { onCleanup } from '../support/calculator.js';
import { certificates } from '../support/certs.js';
import { GreeterService, startGreeter, startGrpcClient } from '../grpc/fixtures/greeter.js';
import { greeterJs, grpcJs, unaryJs, type GrpcJsStub } from '../grpc/fixtures/grpc-js.js';

const certs = certificates();
const ca = certs.read(certs.caCert);

/**
 * A grpc-js Greeter client of `port` over TLS with `credentials`; closed when the test ends. The
 * certificate is checked for `localhost` (grpc-js would otherwise send the IP as SNI, which Node
 * warns about).
 */
function grpcJsTlsClient(t: TestContext, port: number, credentials: grpcJs.ChannelCredentials): GrpcJsStub {
  const Greeter = greeterJs();
  const client = new Greeter(`127.0.0.1:${port}`, credentials, { 'grpc.ssl_target_name_override': 'localhost' }) as unknown as GrpcJsStub;
  onCleanup(t, () => client.close());
  return client;
}

/** A grpc-js Greeter server on a TLS port, asking clients for a certificate signed by the test CA if `checkClientCert`. */
async function grpcJsTlsServer(t: TestContext, checkClientCert: boolean): Promise<number> {
  const server = new grpcJs.Server();
  type Unary = (call: grpcJs.ServerUnaryCall<{ name: string }, unknown>, callback: grpcJs.sendUnaryData<unknown>) => void;
  const sayHello: Unary = (call, callback) => {
    const subject = call.getAuthContext().sslPeerCertificate?.subject as { CN?: string } | undefined;
    callback(null, { message: `Hello, ${call.request.name}! (certificate: ${subject?.CN ?? 'none'})` });
  };
  const unused = () => undefined;
  server.addService(greeterJs().service, { sayHello, fail: unused, slow: unused, echo: unused, count: unused, collect: unused });
  const credentials = grpcJs.ServerCredentials.createSsl(ca, [{ private_key: certs.read(certs.serverKey), cert_chain: certs.read(certs.serverCert) }], checkClientCert);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error === null ? resolve(bound) : reject(error)));
  });
  onCleanup(t, () => new Promise<void>((resolve) => {
    server.tryShutdown(() => resolve());
    setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, 1000).unref();
  }));
  return port;
}

describe('grpc-js calls a Switchyard grpcs:// server', () => {
  test('with credentials.createSsl(ca)', async (t) => {
    const { port, log } = await startGreeter(t, { listen: ['grpcs://127.0.0.1:0'], tls: { key: certs.serverKey, cert: certs.serverCert } });
    const client = grpcJsTlsClient(t, port, grpcJs.credentials.createSsl(ca));
    const outcome = await unaryJs(client, 'sayHello', { name: 'grpc-js over TLS' });
    assert.equal(outcome.error, null);
    assert.deepEqual(outcome.response, { message: 'Hello, grpc-js over TLS!' });
    assert.equal(log.requests[0]!.name, 'grpc-js over TLS');
  });

  test('with createSsl(ca, key, cert), at a server that requires client certificates: the certificate is the principal', async (t) => {
    const principals: Array<string | undefined> = [];
    const { port } = await startGreeter(t, {
      listen: ['grpcs://127.0.0.1:0'],
      tls: { key: certs.serverKey, cert: certs.serverCert, ca: certs.caCert, requireClientCert: true },
      interceptors: [(next) => (call) => {
        principals.push(call.principal?.id);
        return next(call);
      }],
    });
    const client = grpcJsTlsClient(t, port, grpcJs.credentials.createSsl(ca, certs.read(certs.clientKey), certs.read(certs.clientCert)));
    const outcome = await unaryJs(client, 'sayHello', { name: 'alice' });
    assert.equal(outcome.error, null);
    assert.deepEqual(outcome.response, { message: 'Hello, alice!' });
    assert.deepEqual(principals, ['alice']);

    // Without a certificate, grpc-js does not get in.
    const anonymous = grpcJsTlsClient(t, port, grpcJs.credentials.createSsl(ca));
    const refused = await unaryJs(anonymous, 'sayHello', { name: 'anonymous' }, undefined, { deadline: Date.now() + 20_000 });
    assert.equal(refused.error?.code, grpcJs.status.UNAVAILABLE, refused.error?.message);
  });
});

describe('a Switchyard grpcs:// client calls a grpc-js server with ServerCredentials.createSsl', () => {
  test('that checks client certificates: the client presents its own', async (t) => {
    const port = await grpcJsTlsServer(t, true);
    const greeter = startGrpcClient(t, `grpcs://127.0.0.1:${port}`, { tls: { ca: certs.caCert, key: certs.clientKey, cert: certs.clientCert } }).proxy(GreeterService);
    assert.equal((await greeter.sayHello({ name: 'Switchyard' })).message, 'Hello, Switchyard! (certificate: alice)');
  });

  test('that checks client certificates: a client without one fails fast with UNAVAILABLE, saying why', async (t) => {
    const port = await grpcJsTlsServer(t, true);
    const greeter = startGrpcClient(t, `grpcs://127.0.0.1:${port}`, { tls: { ca: certs.caCert }, cluster: 'failfast', timeoutMs: 20_000 }).proxy(GreeterService);
    await assert.rejects(greeter.sayHello({ name: 'anonymous' }), (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, Code.UNAVAILABLE, error.message);
      assert.match(error.message, /TLS connection to grpcs:\/\/127\.0\.0\.1:\d+ failed: the server refused this client's certificate, or wants one/);
      return true;
    });
  });

  test('that does not check client certificates', async (t) => {
    const port = await grpcJsTlsServer(t, false);
    const greeter = startGrpcClient(t, `grpcs://127.0.0.1:${port}`, { tls: { ca: certs.caCert } }).proxy(GreeterService);
    assert.equal((await greeter.sayHello({ name: 'Switchyard' })).message, 'Hello, Switchyard! (certificate: none)');
  });
});
