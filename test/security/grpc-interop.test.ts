import assert from 'node:assert/strict';
import test from 'node:test';
import { onCleanup } from '../support/calculator.js';
import { certificates } from '../support/certs.js';
import { greeterJs, grpcJs, grpcJsClient, healthJs, unaryJs, type GrpcJsStub } from '../grpc/fixtures/grpc-js.js';
import { startGreeter } from '../grpc/fixtures/greeter.js';

/**
 * What a gRPC user expects of an authenticated Switchyard server, asked by @grpc/grpc-js itself:
 * `authorization` metadata (or call credentials over TLS) authenticates, the statuses are
 * UNAUTHENTICATED and PERMISSION_DENIED, and a health check declared public needs nothing.
 */

const auth = {
  tokens: { 'greeter-token-0123456789': { id: 'gina', roles: ['greeter'] }, 'other-token-0123456789': { id: 'otto', roles: ['other'] } },
  policy: { 'test.greeter.Greeter': { roles: ['greeter'] }, 'grpc.health.v1.Health': { public: true } },
};

function bearer(token: string): grpcJs.Metadata {
  const metadata = new grpcJs.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

test('grpc-js calls an authenticated server with authorization metadata', async (t) => {
  let seen: string | undefined;
  const { port } = await startGreeter(t, {
    auth,
    interceptors: [(next) => async (call) => {
      seen = call.principal?.id;
      return next(call);
    }],
  });
  const client = grpcJsClient(t, greeterJs(), port);
  const missing = await unaryJs(client, 'sayHello', { name: 'x' });
  assert.equal(missing.error?.code, grpcJs.status.UNAUTHENTICATED);
  assert.equal(missing.error?.details, 'missing credentials: test.greeter.Greeter.sayHello needs an authenticated caller');
  const denied = await unaryJs(client, 'sayHello', { name: 'x' }, bearer('other-token-0123456789'));
  assert.equal(denied.error?.code, grpcJs.status.PERMISSION_DENIED);
  assert.equal(denied.error?.details, 'permission denied: test.greeter.Greeter.sayHello needs the role greeter');
  const ok = await unaryJs(client, 'sayHello', { name: 'gina' }, bearer('greeter-token-0123456789'));
  assert.equal(ok.error, null);
  assert.equal(seen, 'gina', 'server interceptors read invocation.principal');

  const health = grpcJsClient(t, healthJs(), port);
  const checked = await unaryJs(health, 'check', { service: '' });
  assert.equal(checked.error, null, 'a public health check needs no credentials');
});

test('grpc-js call credentials over grpcs reach the gate like any metadata', async (t) => {
  const certs = certificates();
  const { address } = await startGreeter(t, { auth, listen: ['grpcs://127.0.0.1:0'], tls: { key: certs.serverKey, cert: certs.serverCert } });
  let asked = 0;
  const callCredentials = grpcJs.credentials.createFromMetadataGenerator((_options, callback) => {
    asked++;
    callback(null, bearer('greeter-token-0123456789'));
  });
  const channel = grpcJs.credentials.combineChannelCredentials(grpcJs.credentials.createSsl(certs.read(certs.caCert)), callCredentials);
  const Greeter = greeterJs();
  const client = new Greeter(`localhost:${new URL(address).port}`, channel) as unknown as GrpcJsStub;
  onCleanup(t, () => client.close());
  for (let i = 0; i < 2; i++) {
    const outcome = await unaryJs(client, 'sayHello', { name: 'tls' });
    assert.equal(outcome.error, null);
    assert.deepEqual(outcome.response, { message: 'Hello, tls!' });
  }
  assert.equal(asked, 2, 'grpc-js asks its call credentials per call, as Switchyard clients ask a token source');
});
