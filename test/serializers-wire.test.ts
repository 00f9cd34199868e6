import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Code, RpcError } from '../src/index.js';
import { CalculatorService, startClient, startServer } from './support/calculator.js';

function isPolluted(): boolean {
  return Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted') || ({} as Record<string, unknown>).polluted !== undefined;
}

test('a JSON client works against a server with the default serializers', async (t) => {
  const { address, log } = await startServer(t);
  const { calc } = startClient(t, address, { serializer: 'json' });
  assert.equal(await calc.add(2, 3), 5);
  await assert.rejects(calc.divide(1, 0), { code: Code.INVALID_ARGUMENT, message: 'cannot divide by zero', details: { field: 'b', value: 0 } });
  const bytes = await calc.echo(new Uint8Array([0, 1, 2, 255]));
  assert.ok(bytes instanceof Uint8Array, 'bytes come back as bytes through JSON');
  assert.deepEqual([...bytes], [0, 1, 2, 255]);
  assert.ok(log.calls[2]!.args[0] instanceof Uint8Array, 'the handler received bytes, not base64 text');
});

test('msgpack and JSON clients share one server', async (t) => {
  const { address } = await startServer(t);
  const { calc: viaMsgpack } = startClient(t, address, { serializer: 'msgpack' });
  const { calc: viaJson } = startClient(t, address, { serializer: 'json' });
  assert.deepEqual(await Promise.all([viaMsgpack.add(1, 2), viaJson.add(3, 4), viaMsgpack.divide(9, 3), viaJson.divide(8, 4)]), [3, 7, 3, 2]);
});

test('Date, bigint, Set and Uint8Array round-trip over the wire with msgpack', async (t) => {
  const { address, log } = await startServer(t);
  const { client } = startClient(t, address);
  const value = {
    when: new Date(Date.UTC(2024, 1, 29, 12, 30, 15, 123)),
    big: 2n ** 63n - 1n,
    negative: -5n,
    tags: new Set(['a', 'b', 3]),
    bytes: new Uint8Array([9, 8, 7, 0, 255]),
    nested: [{ at: new Date(0), ids: new Set([1n, 2n]) }],
  };
  const back = (await client.invoke(CalculatorService, 'echo', [value])) as typeof value;
  assert.ok(back.when instanceof Date);
  assert.equal(back.when.getTime(), value.when.getTime());
  assert.equal(back.big, value.big);
  assert.equal(back.negative, -5n);
  assert.ok(back.tags instanceof Set);
  assert.deepEqual([...back.tags], ['a', 'b', 3]);
  assert.ok(back.bytes instanceof Uint8Array);
  assert.deepEqual([...back.bytes], [9, 8, 7, 0, 255]);
  assert.ok(back.nested[0]!.at instanceof Date);
  assert.deepEqual([...back.nested[0]!.ids], [1n, 2n]);
  const received = log.calls[0]!.args[0] as typeof value;
  assert.ok(received.when instanceof Date && received.tags instanceof Set, 'the handler received the same types');
});

test('a Map round-trips over the wire with msgpack, keeping non-string keys', async (t) => {
  const { address, log } = await startServer(t);
  const { client } = startClient(t, address);
  const map = new Map<unknown, unknown>([['a', 1], [2, 'two'], [true, null]]);
  const back = await client.invoke(CalculatorService, 'echo', [{ map }]);
  assert.ok((log.calls[0]!.args[0] as { map: unknown }).map instanceof Map, 'the handler received a Map');
  const returned = (back as { map: unknown }).map;
  assert.ok(returned instanceof Map, `the caller received ${Object.prototype.toString.call(returned)}`);
  assert.deepEqual([...returned], [['a', 1], [2, 'two'], [true, null]]);
});

test('a server with only msgpack refuses a JSON request with INVALID_ARGUMENT and does not run the handler', async (t) => {
  const { address, log } = await startServer(t, { serializers: ['msgpack'] });
  const { calc: viaJson } = startClient(t, address, { serializer: 'json' });
  await assert.rejects(viaJson.add(1, 2), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.match(error.message, /serializer/);
    return true;
  });
  assert.equal(log.calls.length, 0);
  const { calc: viaMsgpack } = startClient(t, address);
  assert.equal(await viaMsgpack.add(1, 2), 3, 'msgpack clients are served');
});

for (const serializer of ['msgpack', 'json'] as const) {
  test(`__proto__ keys in a ${serializer} payload leave Object.prototype clean on both sides`, async (t) => {
    const { address, log } = await startServer(t);
    const { client } = startClient(t, address, { serializer });
    const payload = JSON.parse('{"__proto__": {"polluted": "yes"}, "inner": {"__proto__": {"polluted": "yes"}}, "list": [{"__proto__": {"polluted": "yes"}}]}') as unknown;
    const back = await client.invoke(CalculatorService, 'echo', [payload]);
    assert.equal(isPolluted(), false, 'Object.prototype was polluted');
    const received = log.calls[0]!.args[0] as Record<string, unknown>;
    for (const value of [received, received.inner, back, (back as Record<string, unknown>).inner]) {
      assert.equal(Object.getPrototypeOf(value), Object.prototype, 'no payload replaces a prototype');
      assert.equal((value as Record<string, unknown>).polluted, undefined);
    }
  });
}

test('a 1 MiB binary value is echoed intact', async (t) => {
  const { address } = await startServer(t);
  const { calc } = startClient(t, address);
  const sent = randomBytes(1024 * 1024);
  const back = await calc.echo(sent);
  assert.equal(back.byteLength, sent.byteLength);
  assert.equal(Buffer.compare(Buffer.from(back.buffer, back.byteOffset, back.byteLength), sent), 0);
  const [a, b] = await Promise.all([calc.echo(sent.subarray(0, 300_000)), calc.echo(sent.subarray(300_000))]);
  assert.equal(Buffer.compare(Buffer.concat([a!, b!]), sent), 0, 'two large calls in flight at once stay apart');
});
