// Service definitions made from a .proto, served over grpc:// (Protobuf) and tcp:// (MessagePack).
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { Code, RpcError, defineServiceFromProto } from '../../src/index.js';
import { GREETER_PROTO, GreeterService, startGreeter, startGrpcClient } from './fixtures/greeter.js';

test('a .proto service becomes a definition: lowerCamel method names, stream flags', () => {
  assert.equal(GreeterService.id, 'test.greeter.Greeter');
  assert.deepEqual([...GreeterService.methods.keys()], ['sayHello', 'fail', 'slow', 'echo', 'count', 'collect']);
  assert.equal(GreeterService.methods.get('count')?.stream, 'server');
  assert.equal(GreeterService.methods.get('collect')?.stream, 'client');
  assert.equal(GreeterService.methods.get('sayHello')?.stream, undefined);
  assert.equal(GreeterService.methods.get('slow')?.idempotent, true, 'options given per method are kept');
  const versioned = defineServiceFromProto(GREETER_PROTO, 'test.greeter.Greeter', { version: '2.1.0', group: 'blue' });
  assert.equal(versioned.id, 'blue/test.greeter.Greeter:2.1.0');
});

test('defineServiceFromProto refuses a missing service, a missing file, a bad file and options for unknown methods', () => {
  assert.throws(() => defineServiceFromProto(GREETER_PROTO, 'test.greeter.Nope'), (error: unknown) => error instanceof RpcError && error.code === Code.NOT_FOUND);
  assert.throws(() => defineServiceFromProto('/nonexistent/x.proto', 'x.Y'), (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT);
  assert.throws(() => defineServiceFromProto(GREETER_PROTO, 'test.greeter.Greeter', { methods: { gather: {} } }), /has no rpc gather/);
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-proto-'));
  try {
    writeFileSync(join(dir, 'broken.proto'), 'syntax = "proto3"; service S { rpc A (Missing) returns (Missing); }');
    assert.throws(() => defineServiceFromProto(join(dir, 'broken.proto'), 'S'), (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT && /broken\.proto/.test(error.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('imports resolve beside the importing file, in includeDirs and to the well-known types; keepCase keeps field names', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-proto-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'lib'));
  writeFileSync(join(dir, 'lib', 'shared.proto'), 'syntax = "proto3"; package shared; message Item { string item_name = 1; }');
  writeFileSync(join(dir, 'svc.proto'), `syntax = "proto3"; package svc; import "shared.proto"; import "google/protobuf/empty.proto";
    service Store { rpc Put (shared.Item) returns (shared.Item); rpc Clear (google.protobuf.Empty) returns (google.protobuf.Empty); }`);
  assert.throws(() => defineServiceFromProto(join(dir, 'svc.proto'), 'svc.Store'), (error: unknown) => error instanceof RpcError);
  interface Store {
    put(item: { item_name: string }): Promise<{ item_name: string }>;
    clear(empty: object): Promise<object>;
  }
  const Store = defineServiceFromProto<Store>(join(dir, 'svc.proto'), 'svc.Store', { includeDirs: [join(dir, 'lib')], keepCase: true });
  const { address } = await startGreeter(t, { setup: (server) => server.provide(Store, { put: async (item) => ({ item_name: item.item_name.toUpperCase() }), clear: async () => ({}) }) });
  const store = startGrpcClient(t, address).proxy(Store);
  assert.deepEqual(await store.put({ item_name: 'kept' }), { item_name: 'KEPT' });
  assert.deepEqual(await store.clear({}), {}, 'google/protobuf well-known types are built in');
});

test('one .proto definition serves Switchyard proxies over grpc:// (Protobuf) and tcp:// (MessagePack), streams included', async (t) => {
  const { addresses } = await startGreeter(t, { listen: ['grpc://127.0.0.1:0', 'tcp://127.0.0.1:0'] }).then((started) => ({ addresses: started.server.addresses }));
  for (const address of addresses) {
    const greeter = startGrpcClient(t, address).proxy(GreeterService);
    assert.deepEqual(await greeter.sayHello({ name: address.split(':')[0]! }), { message: `Hello, ${address.split(':')[0]}!` });
    await assert.rejects(greeter.fail({ code: Code.PERMISSION_DENIED, message: 'no' }), (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, Code.PERMISSION_DENIED);
      assert.equal(error.name, 'QuotaError');
      assert.deepEqual(error.details, { reason: 'quota', attempt: 3, tags: ['a', 'b'] });
      return true;
    });
    const counted: number[] = [];
    for await (const item of greeter.count({ n: 3 })) counted.push(item.value);
    assert.deepEqual(counted, [0, 1, 2], `server stream over ${address}`);
  }
});

test('Protobuf messages over grpc://: defaults filled in, 64-bit integers as bigints, enums by name, bytes as Buffers', async (t) => {
  const { address, log } = await startGreeter(t);
  const greeter = startGrpcClient(t, address).proxy(GreeterService);
  await greeter.sayHello({ bigNumber: 2n ** 60n });
  assert.deepEqual(log.requests[0], { name: '', bigNumber: 2n ** 60n, mood: 'NEUTRAL' });
  const reply = await greeter.echo({ data: new Uint8Array([0, 255]) });
  assert.ok(Buffer.isBuffer(reply.data));
  assert.deepEqual([...reply.data], [0, 255]);
  const items: number[] = [];
  for await (const item of greeter.count({ n: 4 })) items.push(item.value);
  assert.deepEqual(items, [0, 1, 2, 3]);
});

test('a .proto method takes exactly one message object; anything else is INVALID_ARGUMENT', async (t) => {
  const { server } = await startGreeter(t, { listen: ['grpc://127.0.0.1:0', 'tcp://127.0.0.1:0'] });
  const [grpc, tcp] = server.addresses;
  const overGrpc = startGrpcClient(t, grpc!, { retries: 0 });
  const overTcp = startGrpcClient(t, tcp!, { retries: 0 });
  for (const args of [[], [{ name: 'a' }, { name: 'b' }], ['text'], [null]]) {
    for (const client of [overGrpc, overTcp]) {
      await assert.rejects(client.invoke(GreeterService, 'sayHello', args), (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT, `args ${JSON.stringify(args)}`);
    }
  }
});
