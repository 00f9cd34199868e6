// A real @grpc/grpc-js client calls a Switchyard server over grpc://.
import assert from 'node:assert/strict';
import test from 'node:test';
import protobuf from 'protobufjs';
import { Code, RpcError } from '../../src/index.js';
import { waitUntil } from '../support/calculator.js';
import { startGreeter } from './fixtures/greeter.js';
import { greeterJs, grpcJs, grpcJsClient, healthJs, unaryJs } from './fixtures/grpc-js.js';
import { countingRelay } from './fixtures/relay.js';

const MiB = 1024 * 1024;

test('grpc-js calls a Switchyard server: request fields, metadata both ways, headers and trailers', async (t) => {
  const { port, log } = await startGreeter(t);
  const client = grpcJsClient(t, greeterJs(), port);
  const metadata = new grpcJs.Metadata();
  metadata.set('x-tenant', 'acme');
  metadata.set('x-raw-bin', Buffer.from([1, 2, 3]));
  const outcome = await unaryJs(client, 'sayHello', { name: 'grpc-js', bigNumber: '12345678901234567', mood: 'HAPPY' }, metadata);
  assert.equal(outcome.error, null);
  assert.deepEqual(outcome.response, { message: 'Hello, grpc-js!' });
  assert.deepEqual(outcome.headers?.get('x-tenant-seen'), ['acme']);
  assert.deepEqual(outcome.headers?.get('x-raw-reversed-bin'), [Buffer.from([3, 2, 1])]);
  assert.equal(log.metadata[0]!['x-tenant'], 'acme');
  assert.equal(log.metadata[0]!['x-raw-bin'], Buffer.from([1, 2, 3]).toString('base64'));
  assert.equal(log.metadata[0]!['grpc-timeout'], undefined, 'transport headers are not metadata');
  assert.deepEqual(log.requests[0], { name: 'grpc-js', bigNumber: 12345678901234567n, mood: 'HAPPY' });
});

test('an application error reaches grpc-js with its code, percent-encoded message and google.rpc.Status details', async (t) => {
  const { port } = await startGreeter(t);
  const client = grpcJsClient(t, greeterJs(), port);
  const outcome = await unaryJs(client, 'fail', { code: Code.FAILED_PRECONDITION, message: 'quota 100% used ✓' });
  assert.equal(outcome.error?.code, grpcJs.status.FAILED_PRECONDITION);
  assert.equal(outcome.error?.details, 'quota 100% used ✓');
  assert.deepEqual(outcome.error?.metadata.get('switchyard-error-name'), ['QuotaError']);
  const [bin] = outcome.error!.metadata.get('grpc-status-details-bin') as Buffer[];
  const root = protobuf.parse(`syntax = "proto3";
    message Any { string type_url = 1; bytes value = 2; }
    message Status { int32 code = 1; string message = 2; repeated Any details = 3; }`, { keepCase: true }).root;
  root.add(protobuf.Root.fromJSON(protobuf.common.get('google/protobuf/struct.proto')!).lookup('google')!);
  const status = root.lookupType('Status').toObject(root.lookupType('Status').decode(bin!)) as { code: number; message: string; details: Array<{ type_url: string; value: Uint8Array }> };
  assert.equal(status.code, Code.FAILED_PRECONDITION);
  assert.equal(status.message, 'quota 100% used ✓');
  assert.equal(status.details[0]!.type_url, 'type.googleapis.com/google.protobuf.Struct');
  const struct = root.lookupType('google.protobuf.Struct');
  assert.deepEqual(struct.toObject(struct.decode(status.details[0]!.value)), {
    fields: {
      reason: { stringValue: 'quota' },
      attempt: { numberValue: 3 },
      tags: { listValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }] } },
    },
  });
});

test('a grpc-js deadline ends the call with DEADLINE_EXCEEDED and fires the handler signal', async (t) => {
  const { port, log } = await startGreeter(t);
  const client = grpcJsClient(t, greeterJs(), port);
  const started = Date.now();
  const outcome = await unaryJs(client, 'slow', { ms: 5000 }, undefined, { deadline: Date.now() + 150 });
  assert.equal(outcome.error?.code, grpcJs.status.DEADLINE_EXCEEDED);
  assert.ok(Date.now() - started < 2000);
  await waitUntil(() => log.aborted.length === 1);
  const reason = log.aborted[0]!.reason as RpcError;
  assert.ok(reason instanceof RpcError);
  assert.ok(reason.code === Code.DEADLINE_EXCEEDED || reason.code === Code.CANCELLED, `aborted with ${reason}`);
});

test('grpc-js cancelling a call fires the handler signal with CANCELLED', async (t) => {
  const { port, log } = await startGreeter(t);
  const client = grpcJsClient(t, greeterJs(), port);
  const outcome = await unaryJs(client, 'slow', { ms: 5000 }, undefined, {}, (call) => setTimeout(() => call.cancel(), 100));
  assert.equal(outcome.error?.code, grpcJs.status.CANCELLED);
  await waitUntil(() => log.aborted.length === 1);
  assert.equal((log.aborted[0]!.reason as RpcError).code, Code.CANCELLED);
});

test('4 MiB messages travel both ways between grpc-js and Switchyard', async (t) => {
  const { port } = await startGreeter(t);
  const client = grpcJsClient(t, greeterJs(), port, { 'grpc.max_receive_message_length': 8 * MiB, 'grpc.max_send_message_length': 8 * MiB });
  const data = Buffer.alloc(4 * MiB);
  for (let i = 0; i < data.length; i += 4096) data[i] = i % 251;
  const outcome = await unaryJs(client, 'echo', { data });
  assert.equal(outcome.error, null);
  assert.ok(Buffer.compare((outcome.response as { data: Buffer }).data, data) === 0);
});

test('a server stream reaches grpc-js in order; cancelling it stops the generator', async (t) => {
  const { port, log } = await startGreeter(t);
  const client = grpcJsClient(t, greeterJs(), port);
  const values: number[] = [];
  const stream = (client.count as (r: unknown) => grpcJs.ClientReadableStream<{ value: number }>)({ n: 5 });
  for await (const item of stream) values.push(item.value);
  assert.deepEqual(values, [0, 1, 2, 3, 4]);

  const endless = (client.count as (r: unknown) => grpcJs.ClientReadableStream<{ value: number }>)({ n: 1_000_000, delayMs: 10 });
  const seen: number[] = [];
  const ended = new Promise<grpcJs.ServiceError>((resolve) => endless.on('error', resolve));
  endless.on('data', (item: { value: number }) => {
    seen.push(item.value);
    if (seen.length === 3) endless.cancel();
  });
  assert.equal((await ended).code, grpcJs.status.CANCELLED);
  await waitUntil(() => log.countStopped.length === 2);
  assert.deepEqual(seen, [0, 1, 2]);
});

test('gzip: grpc-js sends compressed requests, and a server with compression=gzip answers compressed', async (t) => {
  const { port } = await startGreeter(t, { query: '?compression=gzip' });
  // A counting relay between the two shows that the 130 kB each way crossed the wire compressed.
  const relay = await countingRelay(t, port);
  const client = grpcJsClient(t, greeterJs(), relay.port, { 'grpc.default_compression_algorithm': 2 });
  const data = Buffer.from('compressible '.repeat(10_000));
  const outcome = await unaryJs(client, 'echo', { data });
  assert.equal(outcome.error, null);
  assert.deepEqual((outcome.response as { data: Buffer }).data, data);
  assert.ok(relay.up() < 20_000, `request bytes on the wire: ${relay.up()}`);
  assert.ok(relay.down() < 20_000, `response bytes on the wire: ${relay.down()}`);
});

test('client-streaming rpcs of a .proto are served to grpc-js (more in request-streams-interop.test.ts)', async (t) => {
  const { port } = await startGreeter(t);
  const client = grpcJsClient(t, greeterJs(), port);
  const outcome = await new Promise<{ error: grpcJs.ServiceError | null; response: unknown }>((resolve) => {
    const call = (client.collect as (cb: (e: grpcJs.ServiceError | null, r?: unknown) => void) => grpcJs.ClientWritableStream<unknown>)((error, response) => resolve({ error, response }));
    for (const value of [1, 2, 3]) call.write({ value });
    call.end();
  });
  assert.equal(outcome.error, null);
  assert.deepEqual(outcome.response, { value: 6 });
});

test('grpc.health.v1.Health: Check and Watch report SERVING, then NOT_SERVING on close', async (t) => {
  const { port, server } = await startGreeter(t);
  const health = grpcJsClient(t, healthJs(), port);
  for (const service of ['', 'test.greeter.Greeter']) {
    const outcome = await unaryJs(health, 'check', { service });
    assert.deepEqual(outcome.response, { status: 'SERVING' }, `status of ${JSON.stringify(service)}`);
  }
  assert.equal((await unaryJs(health, 'check', { service: 'no.Such' })).error?.code, grpcJs.status.NOT_FOUND);

  const watch = (health.watch as (r: unknown) => grpcJs.ClientReadableStream<{ status: string }>)({ service: '' });
  const statuses: string[] = [];
  const ended = new Promise<void>((resolve, reject) => {
    watch.on('end', resolve);
    watch.on('error', reject);
  });
  watch.on('data', (item: { status: string }) => statuses.push(item.status));
  await waitUntil(() => statuses.length === 1);
  await server.close({ timeoutMs: 2000 });
  await ended;
  assert.deepEqual(statuses, ['SERVING', 'NOT_SERVING']);
});
