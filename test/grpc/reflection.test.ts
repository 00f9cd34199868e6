// gRPC server reflection (grpc.reflection.v1 and v1alpha), checked by a reflection client made of
// @grpc/grpc-js, @grpc/proto-loader and protobufjs from the reflection .proto: it lists the
// services, fetches their files, and calls them through clients built from those files alone.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { defineServiceFromProto } from '../../src/index.js';
import { catalogImpl } from './fixtures/catalog-usage.js';
import { CatalogService } from './fixtures/catalog.types.js';
import { FIXTURES, startGreeter } from './fixtures/greeter.js';
import { grpcJs, grpcJsClient, unaryJs } from './fixtures/grpc-js.js';
import { grpcFrame, grpcHeaders, rawRequest, rawSession } from './fixtures/raw-h2.js';
import { clientFromFiles, decodeFiles, reflectionClients, ReflectionSession, type MessageProto } from './fixtures/reflection-client.js';

const NOT_FOUND = 5;

test('list_services names the .proto services, health and reflection itself, over v1 and v1alpha', async (t) => {
  const { port } = await startGreeter(t, { setup: (server) => server.provide(CatalogService, catalogImpl({ getItem: [], listItems: [] })) });
  const clients = reflectionClients(t, port);
  for (const version of ['v1', 'v1alpha'] as const) {
    const session = new ReflectionSession(clients[version]);
    const listed = await session.ask({ host: 'localhost', list_services: '' });
    assert.equal(listed.message_response, 'list_services_response', version);
    assert.deepEqual(listed.list_services_response?.service.map((service) => service.name), [
      'grpc.health.v1.Health',
      'grpc.reflection.v1.ServerReflection',
      'grpc.reflection.v1alpha.ServerReflection',
      'test.catalog.Catalog',
      'test.greeter.Greeter',
    ], version);
    assert.equal(listed.valid_host, 'localhost');
    assert.equal(listed.original_request?.list_services, '', 'the request comes back with its answer');
    assert.equal((await session.close()).code, grpcJs.status.OK, `${version}: a half-close ends the stream OK`);
  }
});

test('the file of a service, decoded with protobufjs, makes a grpc-js client that calls it', async (t) => {
  const { port } = await startGreeter(t);
  const session = new ReflectionSession(reflectionClients(t, port).v1);
  const files = decodeFiles(await session.ask({ file_containing_symbol: 'test.greeter.Greeter' }));
  assert.deepEqual(files.map((file) => file.name), ['greeter.proto', 'common/blob.proto'], 'the file, then its imports');
  const greeter = files[0]!;
  assert.equal(greeter.package, 'test.greeter');
  assert.equal(greeter.syntax, 'proto3');
  assert.deepEqual(greeter.dependency, ['common/blob.proto']);
  const service = greeter.service?.[0];
  assert.equal(service?.name, 'Greeter');
  assert.deepEqual(service?.method.map((method) => method.name), ['SayHello', 'Fail', 'Slow', 'Echo', 'Count', 'Collect']);
  const echo = service?.method.find((method) => method.name === 'Echo');
  assert.deepEqual([echo?.inputType, echo?.outputType], ['.test.common.Blob', '.test.common.Blob'], 'type names are fully qualified');
  assert.equal(service?.method.find((method) => method.name === 'Count')?.serverStreaming, true);
  assert.equal(service?.method.find((method) => method.name === 'Collect')?.clientStreaming, true);

  const stub = grpcJsClient(t, clientFromFiles(files, 'test.greeter.Greeter'), port);
  const hello = await unaryJs(stub, 'SayHello', { name: 'reflected', mood: 'HAPPY' });
  assert.equal(hello.error, null);
  assert.deepEqual(hello.response, { message: 'Hello, reflected!' });

  // Methods, messages and enums name the same file; the import this stream has had is not sent again.
  for (const symbol of ['test.greeter.Greeter.SayHello', 'test.greeter.HelloRequest', 'test.greeter.HelloRequest.name', 'test.greeter.Mood', '.test.greeter.HelloReply']) {
    assert.deepEqual(decodeFiles(await session.ask({ file_containing_symbol: symbol })).map((file) => file.name), ['greeter.proto'], symbol);
  }
  assert.deepEqual(decodeFiles(await session.ask({ file_by_filename: 'common/blob.proto' })).map((file) => file.name), ['common/blob.proto']);
  assert.equal((await session.close()).code, grpcJs.status.OK);
});

test('maps, oneofs, proto3 optionals, nested and well-known types come out as protoc writes them', async (t) => {
  const { port } = await startGreeter(t, { setup: (server) => server.provide(CatalogService, catalogImpl({ getItem: [], listItems: [] })) });
  const session = new ReflectionSession(reflectionClients(t, port).v1alpha);
  const files = decodeFiles(await session.ask({ file_containing_symbol: 'test.catalog.Item.Variant.Shade' }));
  assert.equal(files[0]?.name, 'catalog.proto');
  assert.deepEqual(files.map((file) => file.name).slice(1).sort(), ['common/blob.proto', 'google/protobuf/empty.proto', 'google/protobuf/timestamp.proto', 'google/protobuf/wrappers.proto']);
  const item = files[0]!.messageType!.find((message) => message.name === 'Item')!;
  const field = (message: MessageProto, name: string) => message.field!.find((candidate) => candidate.name === name)!;
  assert.deepEqual([field(item, 'stock').typeName, field(item, 'stock').label], ['.test.catalog.Item.StockEntry', 3]);
  assert.equal(item.nestedType!.find((nested) => nested.name === 'StockEntry')?.options?.mapEntry, true);
  assert.equal(field(item, 'notesByDay').typeName, '.test.catalog.Item.NotesByDayEntry', 'entry names as protoc makes them');
  assert.deepEqual(item.oneofDecl!.map((oneof) => oneof.name), ['source', '_rating'], 'synthetic oneofs after the real ones');
  assert.deepEqual([field(item, 'rating').proto3Optional, field(item, 'rating').oneofIndex, field(item, 'url').oneofIndex], [true, 1, 0]);
  assert.equal(field(item, 'updatedAt').typeName, '.google.protobuf.Timestamp');

  // A client built from the reflected files reads the same item as a client of the .proto. (protobufjs
  // builds map fields from descriptors as the repeated entries they are on the wire, and reads int64
  // map keys of a .proto wrongly: those two fields are compared apart.)
  const fromProto = grpcJs.loadPackageDefinition(protoLoader.loadSync(join(FIXTURES, 'catalog.proto'), { longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [FIXTURES] }));
  const Catalog = ((fromProto.test as grpcJs.GrpcObject).catalog as grpcJs.GrpcObject).Catalog as grpcJs.ServiceClientConstructor;
  const reflected = await unaryJs(grpcJsClient(t, clientFromFiles(files, 'test.catalog.Catalog'), port), 'GetItem', { id: '1' });
  const direct = await unaryJs(grpcJsClient(t, Catalog, port), 'GetItem', { id: '1' });
  assert.equal(reflected.error, null);
  type Entries = Array<{ key: string; value: string }>;
  const { stock, notesByDay, ...rest } = reflected.response as { stock: Entries; notesByDay: Entries; title: string };
  const { stock: directStock, notesByDay: _garbled, ...directRest } = direct.response as { stock: Record<string, string>; notesByDay: unknown };
  assert.deepEqual(rest, directRest);
  assert.equal(rest.title, 'Dune');
  assert.deepEqual(Object.fromEntries(stock.map(({ key, value }) => [key, value])), directStock);
  assert.deepEqual(notesByDay, [{ key: '-1', value: 'yesterday' }, { key: '-9223372036854775808', value: 'long ago' }]);
  assert.equal((await session.close()).code, grpcJs.status.OK);
});

test('unknown symbols, files and extensions are NOT_FOUND error responses, and the stream goes on', async (t) => {
  const { port } = await startGreeter(t);
  const session = new ReflectionSession(reflectionClients(t, port).v1);
  const symbol = await session.ask({ file_containing_symbol: 'no.such.Service' });
  assert.equal(symbol.message_response, 'error_response');
  assert.equal(symbol.error_response?.error_code, NOT_FOUND);
  assert.match(symbol.error_response?.error_message ?? '', /no\.such\.Service/);
  assert.equal((await session.ask({ file_by_filename: 'nope.proto' })).error_response?.error_code, NOT_FOUND);
  const extension = await session.ask({ file_containing_extension: { containing_type: 'test.greeter.HelloRequest', extension_number: 100 } });
  assert.equal(extension.error_response?.error_code, NOT_FOUND);
  assert.equal((await session.ask({ all_extension_numbers_of_type: 'no.such.Message' })).error_response?.error_code, NOT_FOUND);
  const none = await session.ask({ all_extension_numbers_of_type: 'test.greeter.HelloRequest' });
  assert.equal(none.all_extension_numbers_response?.base_type_name, 'test.greeter.HelloRequest');
  assert.deepEqual(none.all_extension_numbers_response?.extension_number ?? [], [], 'a known message without extensions has none');
  assert.equal((await session.ask({ list_services: '' })).message_response, 'list_services_response', 'still answering');
  const asked = ['test.greeter.Greeter', 'no.such.Thing', 'test.greeter.Number'];
  const answers = await Promise.all(asked.map((name) => session.ask({ file_containing_symbol: name })));
  assert.deepEqual(answers.map((answer) => answer.original_request?.file_containing_symbol), asked, 'requests sent at once are answered in order');
  assert.deepEqual(answers.map((answer) => answer.message_response), ['file_descriptor_response', 'error_response', 'file_descriptor_response']);
  assert.equal((await session.close()).code, grpcJs.status.OK);
});

test('over raw HTTP/2: whole, split and gzip-compressed messages are answered in order; grpc+json is refused', async (t) => {
  const { port } = await startGreeter(t);
  const root = new protobuf.Root().loadSync(fileURLToPath(new URL('./fixtures/reflection.proto', import.meta.url)), { keepCase: true });
  const Request = root.lookupType('grpc.reflection.v1.ServerReflectionRequest');
  const Response = root.lookupType('grpc.reflection.v1.ServerReflectionResponse');
  const request = (symbol: string) => Buffer.from(Request.encode({ file_containing_symbol: symbol }).finish());
  const second = grpcFrame(request('test.greeter.HelloReply'));
  const session = await rawSession(t, port);
  const path = '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo';
  const response = await rawRequest(session, grpcHeaders(path, { 'grpc-encoding': 'gzip' }), [
    Buffer.concat([grpcFrame(request('test.greeter.Greeter')), second.subarray(0, 7)]),
    second.subarray(7),
    grpcFrame(gzipSync(request('no.such.Thing')), 1),
  ]);
  assert.equal(response.grpcStatus, 0);
  const answers: Array<Record<string, unknown>> = [];
  for (let at = 0; at < response.body.length; at += 5 + response.body.readUInt32BE(at + 1)) {
    assert.equal(response.body[at], 0, 'answers are not compressed');
    answers.push(Response.toObject(Response.decode(response.body.subarray(at + 5, at + 5 + response.body.readUInt32BE(at + 1))), { oneofs: true }));
  }
  assert.deepEqual(answers.map((answer) => (answer.original_request as { file_containing_symbol: string }).file_containing_symbol), ['test.greeter.Greeter', 'test.greeter.HelloReply', 'no.such.Thing']);
  assert.deepEqual(answers.map((answer) => answer.message_response), ['file_descriptor_response', 'file_descriptor_response', 'error_response']);

  const empty = await rawRequest(session, grpcHeaders(path));
  assert.deepEqual([empty.grpcStatus, empty.body.length], [0, 0], 'a stream closed without requests ends OK');
  const json = await rawRequest(session, grpcHeaders(path, { 'content-type': 'application/grpc+json' }), grpcFrame(Buffer.from('[]')));
  assert.equal(json.grpcStatus, grpcJs.status.UNIMPLEMENTED);
  assert.match(json.grpcMessage ?? '', /Protobuf/);
});

test('proto2 extensions are found by the message they extend and their number', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-reflection-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'base.proto'), 'syntax = "proto2"; package ext; message Base { optional string name = 1; extensions 100 to 199; }');
  writeFileSync(join(dir, 'svc.proto'), `syntax = "proto2"; package ext; import "base.proto";
    extend Base { optional int32 weight = 100; }
    service Scale { rpc Weigh (Base) returns (Base); }`);
  const Scale = defineServiceFromProto<{ weigh(base: object): Promise<object> }>(join(dir, 'svc.proto'), 'ext.Scale');
  const { port } = await startGreeter(t, { setup: (server) => server.provide(Scale, { weigh: async (base) => base }) });
  const session = new ReflectionSession(reflectionClients(t, port).v1);
  const numbers = await session.ask({ all_extension_numbers_of_type: 'ext.Base' });
  assert.deepEqual(numbers.all_extension_numbers_response, { base_type_name: 'ext.Base', extension_number: [100] });
  const files = decodeFiles(await session.ask({ file_containing_extension: { containing_type: 'ext.Base', extension_number: 100 } }));
  assert.deepEqual(files.map((file) => [file.name, file.syntax]), [['svc.proto', 'proto2'], ['base.proto', 'proto2']]);
  assert.deepEqual(files[0]?.dependency, ['base.proto']);
  const base = files[1]!.messageType![0] as MessageProto & { extensionRange?: Array<{ start: number; end: number }> };
  assert.deepEqual(base.extensionRange, [{ start: 100, end: 200 }], 'the end is exclusive, as in descriptor.proto');
  assert.equal((await session.close()).code, grpcJs.status.OK);
});

test('health and reflection describe themselves, and a client built from that checks health', async (t) => {
  const { port } = await startGreeter(t);
  const session = new ReflectionSession(reflectionClients(t, port).v1);
  const health = decodeFiles(await session.ask({ file_containing_symbol: 'grpc.health.v1.Health' }));
  assert.deepEqual(health.map((file) => file.name), ['grpc/health/v1/health.proto']);
  const check = await unaryJs(grpcJsClient(t, clientFromFiles(health, 'grpc.health.v1.Health'), port), 'Check', { service: '' });
  assert.deepEqual(check.response, { status: 'SERVING' });
  const [alpha] = decodeFiles(await session.ask({ file_containing_symbol: 'grpc.reflection.v1alpha.ServerReflection.ServerReflectionInfo' }));
  assert.equal(alpha?.name, 'grpc/reflection/v1alpha/reflection.proto');
  assert.deepEqual(alpha?.service?.[0]?.method[0], {
    name: 'ServerReflectionInfo',
    inputType: '.grpc.reflection.v1alpha.ServerReflectionRequest',
    outputType: '.grpc.reflection.v1alpha.ServerReflectionResponse',
    clientStreaming: true,
    serverStreaming: true,
  });
  const request = alpha?.messageType?.find((message) => message.name === 'ServerReflectionRequest');
  assert.equal(request?.field?.find((field) => field.name === 'file_containing_symbol')?.number, 4);
  assert.equal((await session.close()).code, grpcJs.status.OK);
});

test('reflection passes the server gate: refused without credentials, answered with them', async (t) => {
  const { port } = await startGreeter(t, { auth: { tokens: { 'ops-token-0123456789': { id: 'ops' } } } });
  const clients = reflectionClients(t, port);
  for (const version of ['v1', 'v1alpha'] as const) {
    const anonymous = new ReflectionSession(clients[version]);
    await assert.rejects(anonymous.ask({ list_services: '' }), (error: Error & { code?: number }) => error.code === grpcJs.status.UNAUTHENTICATED);
    assert.match((await anonymous.status).details, /missing credentials/, version);
  }
  const metadata = new grpcJs.Metadata();
  metadata.set('authorization', 'Bearer ops-token-0123456789');
  const admitted = new ReflectionSession(clients.v1, metadata);
  assert.equal((await admitted.ask({ list_services: '' })).message_response, 'list_services_response');
  assert.equal((await admitted.close()).code, grpcJs.status.OK);
});

test('closing the server ends an open reflection stream UNAVAILABLE instead of waiting for the client', async (t) => {
  const { server, port } = await startGreeter(t);
  const session = new ReflectionSession(reflectionClients(t, port).v1);
  assert.equal((await session.ask({ list_services: '' })).message_response, 'list_services_response');
  await server.close({ timeoutMs: 20_000 });
  const status = await session.status;
  assert.equal(status.code, grpcJs.status.UNAVAILABLE);
  assert.match(status.details, /server is shutting down/);
});
