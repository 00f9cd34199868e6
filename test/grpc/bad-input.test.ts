// Requests no well-behaved gRPC client sends: each gets a typed answer, and the server keeps serving.
import assert from 'node:assert/strict';
import { constants } from 'node:http2';
import test from 'node:test';
import { Code, createServer } from '../../src/index.js';
import { CalculatorService, calculatorImpl, newLog, onCleanup, waitUntil } from '../support/calculator.js';
import { GreeterService, startGreeter, startGrpcClient } from './fixtures/greeter.js';
import { grpcFrame, grpcHeaders, rawRequest, rawSession } from './fixtures/raw-h2.js';

const hello = grpcFrame(Buffer.from([0x0a, 0x02, 0x68, 0x69])); // HelloRequest { name: "hi" }

interface Case {
  name: string;
  headers: Record<string, string>;
  body?: Buffer | Buffer[];
  httpStatus?: number;
  grpcStatus?: Code;
  message?: RegExp;
}

const cases: Case[] = [
  { name: 'GET instead of POST', headers: { ':method': 'GET' }, httpStatus: 405 },
  { name: 'a content-type that is not gRPC', headers: { 'content-type': 'application/json' }, body: hello, httpStatus: 415 },
  { name: 'a malformed path', headers: { ':path': '/no-method' }, body: hello, grpcStatus: Code.UNIMPLEMENTED, message: /malformed path/ },
  { name: 'an unknown service', headers: { ':path': '/no.Such/Method' }, body: hello, grpcStatus: Code.NOT_FOUND },
  { name: 'an unknown method', headers: { ':path': '/test.greeter.Greeter/Nope' }, body: hello, grpcStatus: Code.UNIMPLEMENTED },
  { name: 'a method a name every object has', headers: { ':path': '/test.greeter.Greeter/constructor' }, body: hello, grpcStatus: Code.UNIMPLEMENTED },
  { name: 'an unknown version', headers: { 'switchyard-version': '9.9.9' }, body: hello, grpcStatus: Code.NOT_FOUND },
  { name: 'a malformed grpc-timeout', headers: { 'grpc-timeout': '123456789S' }, body: hello, grpcStatus: Code.INTERNAL, message: /grpc-timeout/ },
  { name: 'a grpc-timeout of zero', headers: { 'grpc-timeout': '0m' }, body: hello, grpcStatus: Code.DEADLINE_EXCEEDED },
  { name: 'an unsupported grpc-encoding', headers: { 'grpc-encoding': 'snappy' }, body: hello, grpcStatus: Code.UNIMPLEMENTED, message: /snappy/ },
  { name: 'a compressed flag without grpc-encoding', body: grpcFrame(Buffer.from([1, 2, 3]), 1), headers: {}, grpcStatus: Code.INTERNAL },
  { name: 'a corrupt gzip message', headers: { 'grpc-encoding': 'gzip' }, body: grpcFrame(Buffer.from('not gzip'), 1), grpcStatus: Code.INTERNAL, message: /decompress/ },
  { name: 'an invalid message flag', headers: {}, body: grpcFrame(Buffer.from([1]), 7), grpcStatus: Code.INTERNAL, message: /flag/ },
  { name: 'a truncated message', headers: {}, body: grpcFrame(Buffer.from([0x0a]), 0, 100), grpcStatus: Code.INTERNAL, message: /inside a message/ },
  { name: 'no message at all', headers: {}, body: Buffer.alloc(0), grpcStatus: Code.INTERNAL, message: /no message/ },
  { name: 'two messages for a unary method', headers: {}, body: [hello, hello], grpcStatus: Code.INTERNAL, message: /one request message/ },
  { name: 'bytes that are not a HelloRequest', headers: {}, body: grpcFrame(Buffer.from([0x0a, 0x7f, 0x01])), grpcStatus: Code.INVALID_ARGUMENT },
  { name: 'a serializer the server does not enable', headers: { 'content-type': 'application/grpc+cbor' }, body: hello, grpcStatus: Code.INVALID_ARGUMENT, message: /cbor/ },
  { name: 'Protobuf for a service without a .proto', headers: { ':path': '/demo.Calculator/add' }, body: hello, grpcStatus: Code.UNIMPLEMENTED, message: /application\/grpc\+msgpack/ },
  { name: 'MessagePack that is not an argument array', headers: { ':path': '/demo.Calculator/add', 'content-type': 'application/grpc+msgpack' }, body: grpcFrame(Buffer.from([0x2a])), grpcStatus: Code.INVALID_ARGUMENT, message: /array/ },
];

test('malformed requests get HTTP or gRPC statuses that say what is wrong; the server keeps serving', async (t) => {
  const { port, address } = await startGreeter(t, { setup: (server) => server.provide(CalculatorService, calculatorImpl(newLog())) });
  const session = await rawSession(t, port);
  for (const c of cases) {
    const headers = { ...grpcHeaders('/test.greeter.Greeter/SayHello'), ...c.headers };
    const response = await rawRequest(session, headers, c.body);
    if (c.httpStatus !== undefined) {
      assert.equal(response.headers[':status'], c.httpStatus, c.name);
    } else {
      assert.equal(response.headers[':status'], 200, c.name);
      assert.equal(response.grpcStatus, c.grpcStatus, `${c.name}: ${response.grpcMessage}`);
      if (c.message) assert.match(response.grpcMessage ?? '', c.message, c.name);
      if (c.headers['grpc-encoding'] === 'snappy') assert.equal(response.headers['grpc-accept-encoding'], 'identity,deflate,gzip');
    }
  }
  assert.ok(!session.closed && !session.destroyed, 'bad requests close only their own streams');
  const ok = await rawRequest(session, grpcHeaders('/test.greeter.Greeter/SayHello'), hello);
  assert.equal(ok.grpcStatus, Code.OK);
  assert.equal(ok.headers['content-type'], 'application/grpc');
  assert.equal(ok.headers['grpc-accept-encoding'], 'identity,deflate,gzip');
  assert.deepEqual(await startGrpcClient(t, address).proxy(GreeterService).sayHello({ name: 'still here' }), { message: 'Hello, still here!' });
});

test('the server enforces a grpc-timeout by itself: DEADLINE_EXCEEDED and the handler\'s signal fires', async (t) => {
  const log = newLog();
  const server = createServer({ registry: false, listen: ['grpc://127.0.0.1:0'] });
  server.provide(CalculatorService, calculatorImpl(log));
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  const session = await rawSession(t, Number(new URL(address!).port));
  const started = Date.now();
  // msgpack [5000]; the raw client keeps no timer of its own
  const response = await rawRequest(session, grpcHeaders('/demo.Calculator/slow', { 'content-type': 'application/grpc+msgpack', 'switchyard-version': '1.0.0', 'grpc-timeout': '150m' }), grpcFrame(Buffer.from([0x91, 0xcd, 0x13, 0x88])));
  assert.equal(response.grpcStatus, Code.DEADLINE_EXCEEDED);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 140 && elapsed < 2000, `answered after ${elapsed} ms`);
  await waitUntil(() => log.slow[0]?.aborted === true);
});

test('a stream the client resets mid-request is forgotten without an answer', async (t) => {
  const { port, address } = await startGreeter(t);
  const session = await rawSession(t, port);
  const stream = session.request(grpcHeaders('/test.greeter.Greeter/Echo'));
  stream.on('error', () => {});
  stream.write(grpcFrame(Buffer.alloc(10), 0, 1000));
  await new Promise((resolve) => setTimeout(resolve, 20));
  stream.close(constants.NGHTTP2_CANCEL);
  await new Promise((resolve) => stream.once('close', resolve));
  assert.equal(stream.rstCode, constants.NGHTTP2_CANCEL);
  assert.deepEqual(await startGrpcClient(t, address).proxy(GreeterService).sayHello({ name: 'next' }), { message: 'Hello, next!' });
});
