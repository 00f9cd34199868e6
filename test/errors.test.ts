import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, defineService } from '../src/index.js';
import { FrameType } from '../src/transport/tcp/frame.js';
import { CalculatorService, onCleanup, startClient, startServer } from './support/calculator.js';
import { RawPeer, requestFrame } from './support/raw-socket.js';
import { rejection } from './support/assertions.js';


interface Awkward {
  withSymbol(): Promise<unknown>;
  circular(): Promise<unknown>;
  throwsString(): Promise<unknown>;
  throwsCoded(): Promise<unknown>;
}

const AwkwardService = defineService<Awkward>('test.Awkward', {
  methods: { withSymbol: {}, circular: {}, throwsString: {}, throwsCoded: {} },
});

const awkward: Awkward = {
  async withSymbol() {
    return { id: Symbol('not data') };
  },
  async circular() {
    const node: Record<string, unknown> = { name: 'loop' };
    node.self = node;
    return node;
  },
  async throwsString() {
    throw 'out of paper';
  },
  async throwsCoded() {
    throw Object.assign(new Error('no entry'), { code: Code.PERMISSION_DENIED, details: { role: 'guest' } });
  },
};

test('an RpcError thrown by the implementation reaches the caller with its code, name, message and details', async (t) => {
  const { address } = await startServer(t);
  const { calc } = startClient(t, address);
  const error = await rejection(calc.divide(1, 0));
  assert.equal(error.code, Code.INVALID_ARGUMENT);
  assert.equal(error.name, 'RpcError');
  assert.equal(error.message, 'cannot divide by zero');
  assert.deepEqual(error.details, { field: 'b', value: 0 });
});

test('a plain Error subclass arrives with its name and message and code UNKNOWN', async (t) => {
  const { address, log } = await startServer(t);
  const { calc } = startClient(t, address);
  const error = await rejection(calc.fail());
  assert.equal(error.code, Code.UNKNOWN);
  assert.equal(error.name, 'QuotaError');
  assert.equal(error.message, 'quota of 10 calls exceeded');
  assert.deepEqual(error.details, {});
  assert.equal(log.calls.length, 1);
});

test('an Error carrying a valid code and plain details keeps them; a thrown string becomes UNKNOWN', async (t) => {
  const { address } = await startServer(t, { setup: (server) => server.provide(AwkwardService, awkward) });
  const { client } = startClient(t, address);
  const remote = client.proxy(AwkwardService);
  const coded = await rejection(remote.throwsCoded());
  assert.equal(coded.code, Code.PERMISSION_DENIED);
  assert.equal(coded.message, 'no entry');
  assert.deepEqual(coded.details, { role: 'guest' });
  const text = await rejection(remote.throwsString());
  assert.equal(text.code, Code.UNKNOWN);
  assert.equal(text.message, 'out of paper');
});

test('no server stack reaches the caller', async (t) => {
  const { address } = await startServer(t);
  const { calc } = startClient(t, address);
  const error = await rejection(calc.fail());
  assert.doesNotMatch(error.stack ?? '', /support[\\/]calculator\.ts/, 'the stack is the caller\'s own, not the implementation\'s');
  assert.equal(error.cause, undefined);
  assert.ok(!('stack' in error.details));
});

test('the error body on the wire holds only code, name, message and details', async (t) => {
  const { address } = await startServer(t);
  const peer = await RawPeer.connect(address);
  onCleanup(t, () => peer.destroy());
  const json = 1;
  for (const [requestId, method, args] of [[1, 'fail', []], [2, 'divide', [1, 0]]] as const) {
    peer.write(requestFrame({ service: CalculatorService.id, method, requestId, serializer: json, body: Buffer.from(JSON.stringify(args)) }));
    const response = await peer.waitFor((frame) => frame.type === FrameType.RESPONSE && frame.requestId === requestId);
    assert.equal(response.flags & 1, 1, 'the ERROR flag is set');
    const text = response.body.toString('utf8');
    const body = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).filter((k) => !['code', 'name', 'message', 'details'].includes(k)), [], text);
    assert.doesNotMatch(text, /calculator\.ts|\bat\s/, 'no stack frames in the body');
  }
});

test('a result the serializer cannot encode fails with INTERNAL and the connection keeps working', async (t) => {
  const { address } = await startServer(t, { setup: (server) => server.provide(AwkwardService, awkward) });
  const { client, calc } = startClient(t, address);
  const remote = client.proxy(AwkwardService);
  const symbol = await rejection(remote.withSymbol());
  assert.equal(symbol.code, Code.INTERNAL);
  assert.match(symbol.message, /encode/);
  const circular = await rejection(remote.circular());
  assert.equal(circular.code, Code.INTERNAL);
  assert.equal(await calc.add(2, 2), 4);
  assert.equal(await calc.divide(8, 2), 4);
});

test('a result JSON cannot encode fails with INTERNAL for a JSON client too', async (t) => {
  const { address } = await startServer(t, { setup: (server) => server.provide(AwkwardService, awkward) });
  const { client, calc } = startClient(t, address, { serializer: 'json' });
  const circular = await rejection(client.proxy(AwkwardService).circular());
  assert.equal(circular.code, Code.INTERNAL);
  assert.match(circular.message, /encode/);
  assert.equal(await calc.add(2, 3), 5);
});
