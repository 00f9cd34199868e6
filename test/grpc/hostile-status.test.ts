// Errors whose details, message or name are hostile still reach the caller as a gRPC status:
// grpc-message, switchyard-error-name and grpc-status-details-bin are written from plain copies,
// within bounds that keep the header block sendable.
import assert from 'node:assert/strict';
import test, { type TestContext } from 'node:test';
import { Code, RpcError, createServer } from '../../src/index.js';
import { recordEscapes } from '../support/assertions.js';
import { onCleanup } from '../support/calculator.js';
import { GreeterService, greeterImpl, newGreeterLog, startGrpcClient } from './fixtures/greeter.js';
import { greeterJs, grpcJs, grpcJsClient, unaryJs } from './fixtures/grpc-js.js';

const boom = (): never => {
  throw new Error('getter throws');
};

/** A tree 2^levels leaves wide made of one node per level, each referring twice to the next. */
function shared(levels: number): Record<string, unknown> {
  let node: Record<string, unknown> = { leaf: 'x' };
  for (let i = 0; i < levels; i++) node = { left: node, right: node };
  return node;
}

function cyclic(): Record<string, unknown> {
  const node: Record<string, unknown> = { name: 'loop' };
  node.self = node;
  node.again = node;
  node.list = [node, node];
  return node;
}

/** An RpcError whose message reads as a string once, and throws from then on. */
function fickle(): RpcError {
  const error = new RpcError(Code.FAILED_PRECONDITION, 'fickle');
  let reads = 0;
  Object.defineProperty(error, 'message', { get: () => (reads++ === 0 ? 'first read' : boom()) });
  return error;
}

const kinds: Record<string, () => RpcError> = {
  'throwing getter': () => new RpcError(Code.FAILED_PRECONDITION, 'getter', { details: Object.defineProperty({ ok: 'yes' }, 'bad', { get: boom, enumerable: true }) }),
  'cycles': () => new RpcError(Code.FAILED_PRECONDITION, 'cycles', { details: cyclic() }),
  'shared subtrees': () => new RpcError(Code.FAILED_PRECONDITION, 'shared', { details: shared(16) }),
  'odd values': () => new RpcError(Code.FAILED_PRECONDITION, 'odd', { details: { f: () => 1, s: Symbol('s'), n: 5n, d: new Date(0), b: Uint8Array.of(1, 2, 3), nested: [[1, { deep: true }]] } }),
  'a 1 MiB message': () => new RpcError(Code.FAILED_PRECONDITION, `${'x'.repeat(1 << 20)}✓`),
  '100 KB of details': () => new RpcError(Code.FAILED_PRECONDITION, 'huge details', { details: { blob: 'y'.repeat(100_000) } }),
  'a 100 KB name': () => new RpcError(Code.FAILED_PRECONDITION, 'huge name', { name: 'N'.repeat(100_000) }),
  'a fickle message': fickle,
};
const names = Object.keys(kinds);

/** A Greeter whose `fail` throws the hostile error named by its message, and whose `count` throws it after one item. */
async function startHostile(t: TestContext) {
  const server = createServer({ registry: false, listen: ['grpc://127.0.0.1:0'] });
  server.provide(GreeterService, {
    ...greeterImpl(newGreeterLog()),
    async fail({ message }) {
      throw kinds[message]!();
    },
    async *count({ n }) {
      yield { value: 0 };
      throw kinds[names[n]!]!();
    },
  });
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  return { address: address!, port: Number(new URL(address!).port) };
}

function check(kind: string, error: RpcError): void {
  const what = `${kind}: ${error.toString().slice(0, 200)}`;
  assert.equal(error.code, Code.FAILED_PRECONDITION, what);
  switch (kind) {
    case 'throwing getter':
      return assert.deepEqual(error.details, { ok: 'yes' }, what);
    case 'cycles':
      return assert.deepEqual(error.details, { name: 'loop', list: [null, null] }, what);
    case 'shared subtrees':
      return assert.ok(typeof error.details.left === 'object', what);
    case 'odd values':
      return assert.deepEqual(error.details, { n: '5', d: '1970-01-01T00:00:00.000Z', b: 'AQID', nested: [[1, { deep: true }]] }, what);
    case 'a 1 MiB message':
      assert.ok(error.message.length <= 16 * 1024 && error.message.startsWith('xxxx') && error.message.endsWith('…'), what);
      return assert.equal(error.message.replace(/x/g, ''), '…', 'cut between whole characters');
    case '100 KB of details':
      assert.equal(error.message, 'huge details');
      return assert.deepEqual(error.details, {}, 'details too large to send are left out');
    case 'a 100 KB name':
      return assert.ok(error.name.length <= 256 && error.name.startsWith('NNNN') && error.name.endsWith('…'), what);
    case 'a fickle message':
      return assert.equal(typeof error.message, 'string');
  }
}

test('hostile error details, messages and names still end Switchyard calls with the error\'s own status', async (t) => {
  const escaped = recordEscapes(t);
  const { address } = await startHostile(t);
  const greeter = startGrpcClient(t, address, { retries: 0, timeoutMs: 5000 }).proxy(GreeterService);
  for (const kind of names) {
    const error = await greeter.fail({ code: 0, message: kind }).then(() => assert.fail(`${kind}: the call succeeded`), (e: unknown) => e as RpcError);
    assert.ok(error instanceof RpcError, kind);
    check(kind, error);
  }
  assert.deepEqual(await greeter.sayHello({ name: 'after' }), { message: 'Hello, after!' });
  assert.deepEqual(escaped, []);
});

test('after items of a server stream, a hostile error arrives in the trailers with its status', async (t) => {
  const escaped = recordEscapes(t);
  const { address } = await startHostile(t);
  const greeter = startGrpcClient(t, address, { retries: 0, timeoutMs: 5000 }).proxy(GreeterService);
  for (let n = 0; n < names.length; n++) {
    const items: number[] = [];
    const error = await (async () => {
      for await (const item of greeter.count({ n })) items.push(item.value);
    })().then(() => assert.fail(`${names[n]}: the stream ended without its error`), (e: unknown) => e as RpcError);
    assert.deepEqual(items, [0], names[n]);
    check(names[n]!, error);
  }
  assert.deepEqual(escaped, []);
});

test('grpc-js sees the status of hostile errors: code, a message cut to size, plain details', async (t) => {
  const { port } = await startHostile(t);
  const client = grpcJsClient(t, greeterJs(), port);
  for (const kind of ['a 1 MiB message', 'cycles', '100 KB of details', 'a 100 KB name']) {
    const outcome = await unaryJs(client, 'fail', { code: 0, message: kind }, undefined, { deadline: Date.now() + 5000 });
    assert.equal(outcome.error?.code, grpcJs.status.FAILED_PRECONDITION, `${kind}: ${outcome.error?.details.slice(0, 100)}`);
  }
});
