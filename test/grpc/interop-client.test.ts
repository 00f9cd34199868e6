// A Switchyard client calls a real @grpc/grpc-js server over grpc://.
import assert from 'node:assert/strict';
import test, { type TestContext } from 'node:test';
import protobuf from 'protobufjs';
import { Code, Metadata, RpcError } from '../../src/index.js';
import { waitUntil } from '../support/calculator.js';
import { GreeterService, startGrpcClient } from './fixtures/greeter.js';
import { greeterJs, grpcJs, grpcJsServer } from './fixtures/grpc-js.js';

const MiB = 1024 * 1024;

interface JsLog {
  metadata: grpcJs.Metadata[];
  cancelled: string[];
}

/** google.rpc.Status with one google.protobuf.Struct, encoded as grpc-js users do by hand. */
function statusDetails(code: number, message: string, fields: Record<string, string>): Buffer {
  const root = protobuf.parse(`syntax = "proto3";
    message Any { string type_url = 1; bytes value = 2; }
    message Status { int32 code = 1; string message = 2; repeated Any details = 3; }`, { keepCase: true }).root;
  root.add(protobuf.Root.fromJSON(protobuf.common.get('google/protobuf/struct.proto')!).lookup('google')!);
  const struct = root.lookupType('google.protobuf.Struct');
  const value = struct.encode({ fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, { stringValue: v }])) }).finish();
  const status = root.lookupType('Status');
  return Buffer.from(status.encode({ code, message, details: [{ type_url: 'type.googleapis.com/google.protobuf.Struct', value }, { type_url: 'type.example.com/Opaque', value: Buffer.from([7]) }] }).finish());
}

async function startJsGreeter(t: TestContext): Promise<{ url: string; log: JsLog }> {
  const log: JsLog = { metadata: [], cancelled: [] };
  type Unary = (call: grpcJs.ServerUnaryCall<Record<string, unknown>, unknown>, callback: grpcJs.sendUnaryData<unknown>) => void;
  const sayHello: Unary = (call, callback) => {
    log.metadata.push(call.metadata);
    const headers = new grpcJs.Metadata();
    headers.set('x-tenant-seen', String(call.metadata.get('x-tenant')[0] ?? ''));
    call.sendMetadata(headers);
    const trailers = new grpcJs.Metadata();
    trailers.set('x-trailer-bin', Buffer.from([9, 8]));
    callback(null, { message: `Hello, ${call.request.name}!` }, trailers);
  };
  const fail: Unary = (call, callback) => {
    const code = call.request.code as number;
    const metadata = new grpcJs.Metadata();
    metadata.set('grpc-status-details-bin', statusDetails(code, call.request.message as string, { reason: 'quota', owner: 'grpc-js' }));
    callback({ code, details: call.request.message as string, metadata });
  };
  const slow: Unary = (call, callback) => {
    const timer = setTimeout(() => callback(null, { message: 'late' }), call.request.ms as number);
    call.on('cancelled', () => {
      clearTimeout(timer);
      log.cancelled.push('slow');
    });
  };
  const echo: Unary = (call, callback) => callback(null, { data: call.request.data });
  const count = (call: grpcJs.ServerWritableStream<{ n: number; delayMs: number }, unknown>) => {
    let i = 0;
    let stopped = false;
    call.on('cancelled', () => {
      stopped = true;
      log.cancelled.push('count');
    });
    const next = () => {
      if (stopped) return;
      if (i >= call.request.n) return call.end();
      call.write({ value: i++ });
      setTimeout(next, call.request.delayMs);
    };
    next();
  };
  const port = await grpcJsServer(t, greeterJs().service, { sayHello, fail, slow, echo, count, collect: () => {} }, {
    'grpc.max_receive_message_length': 8 * MiB,
    'grpc.max_send_message_length': 8 * MiB,
  });
  return { url: `grpc://127.0.0.1:${port}`, log };
}

test('Switchyard calls a grpc-js server: response, metadata both ways, headers and trailers', async (t) => {
  const { url, log } = await startJsGreeter(t);
  const greeter = startGrpcClient(t, url).proxy(GreeterService);
  let response: Metadata | undefined;
  const reply = await greeter.sayHello.with({
    metadata: { 'x-tenant': 'acme', 'x-key-bin': new Uint8Array([1, 2]) },
    onResponseMetadata: (md) => (response = md),
  })({ name: 'Switchyard', bigNumber: 12345678901234567n, mood: 'HAPPY' });
  assert.deepEqual(reply, { message: 'Hello, Switchyard!' });
  assert.deepEqual(log.metadata[0]!.get('x-tenant'), ['acme']);
  assert.deepEqual(log.metadata[0]!.get('x-key-bin'), [Buffer.from([1, 2])]);
  assert.equal(response?.get('x-tenant-seen'), 'acme');
  assert.deepEqual(response?.get('x-trailer-bin'), Buffer.from([9, 8]));
});

test('a grpc-js error arrives as an RpcError with its code, message and status details', async (t) => {
  const { url } = await startJsGreeter(t);
  const greeter = startGrpcClient(t, url).proxy(GreeterService);
  await assert.rejects(greeter.fail({ code: Code.FAILED_PRECONDITION, message: 'out of quota: 100% ✓' }), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, Code.FAILED_PRECONDITION);
    assert.equal(error.message, 'out of quota: 100% ✓');
    assert.deepEqual(error.details, { reason: 'quota', owner: 'grpc-js', any: [{ typeUrl: 'type.example.com/Opaque', value: 'Bw==' }] });
    return true;
  });
  // ALREADY_EXISTS has no Switchyard name: UNKNOWN, with the number kept.
  await assert.rejects(greeter.fail({ code: 6, message: 'exists' }), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, Code.UNKNOWN);
    assert.equal(error.details.grpcStatus, 6);
    return true;
  });
});

test('a Switchyard deadline ends the call with DEADLINE_EXCEEDED and the grpc-js server sees it cancelled', async (t) => {
  const { url, log } = await startJsGreeter(t);
  const greeter = startGrpcClient(t, url).proxy(GreeterService);
  const started = Date.now();
  await assert.rejects(greeter.slow.with({ timeoutMs: 150 })({ ms: 5000 }), (error: unknown) => error instanceof RpcError && error.code === Code.DEADLINE_EXCEEDED);
  assert.ok(Date.now() - started < 2000);
  await waitUntil(() => log.cancelled.includes('slow'));
});

test('aborting a Switchyard call cancels it on the grpc-js server', async (t) => {
  const { url, log } = await startJsGreeter(t);
  const greeter = startGrpcClient(t, url).proxy(GreeterService);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  await assert.rejects(greeter.slow.with({ signal: controller.signal })({ ms: 5000 }), (error: unknown) => error instanceof RpcError && error.code === Code.CANCELLED);
  await waitUntil(() => log.cancelled.includes('slow'));
});

test('4 MiB messages travel both ways between Switchyard and grpc-js', async (t) => {
  const { url } = await startJsGreeter(t);
  const greeter = startGrpcClient(t, url).proxy(GreeterService);
  const data = Buffer.alloc(4 * MiB);
  for (let i = 0; i < data.length; i += 4096) data[i] = i % 253;
  const reply = await greeter.echo({ data });
  assert.ok(Buffer.compare(Buffer.from(reply.data), data) === 0);
});

test('a grpc-js server stream is iterated in order; leaving the loop early cancels it', async (t) => {
  const { url, log } = await startJsGreeter(t);
  const greeter = startGrpcClient(t, url).proxy(GreeterService);
  const values: number[] = [];
  for await (const item of greeter.count({ n: 5, delayMs: 0 })) values.push(item.value);
  assert.deepEqual(values, [0, 1, 2, 3, 4]);

  const seen: number[] = [];
  for await (const item of greeter.count({ n: 1_000_000, delayMs: 5 })) {
    seen.push(item.value);
    if (seen.length === 3) break;
  }
  assert.deepEqual(seen, [0, 1, 2]);
  await waitUntil(() => log.cancelled.includes('count'));
});

test('an unreachable grpc:// address fails with UNAVAILABLE, marked as never processed', async (t) => {
  const { url } = await startJsGreeter(t);
  const port = Number(new URL(url).port);
  const greeter = startGrpcClient(t, `grpc://127.0.0.1:${port === 1 ? 2 : 1}`, { retries: 0 }).proxy(GreeterService);
  await assert.rejects(greeter.sayHello({ name: 'nobody' }), (error: unknown) => error instanceof RpcError && error.code === Code.UNAVAILABLE && error.unprocessed);
});
