import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { Code, createClient, type Server } from '../../src/index.js';
import { jsonSerializer } from '../../src/serialization/json.js';
import { msgpackSerializer } from '../../src/serialization/msgpack.js';
import { DEFAULT_DECODE_LIMITS, type DecodeLimits } from '../../src/serialization/serializer.js';
import { rejection } from '../support/assertions.js';
import { CalculatorService, onCleanup } from '../support/calculator.js';
import { rawRequest } from '../support/http.js';
import { brokerScope, startAmqpServer } from '../support/rabbitmq.js';
import { counted, deepJson, deepMessagePack, sendingBytes, startOn } from './support.js';

/**
 * Decode limits: a message nesting deeper than `maxDecodeDepth` or holding more than
 * `maxDecodeItems` items is refused before a value is built, so a 100,000-deep document is an
 * INVALID_ARGUMENT naming the limit, never a stack overflow; everything within the limits decodes
 * exactly as before.
 */

const DEEP = 100_000;
const refusedDepth = (format: string) => new RegExp(`${format} nesting deeper than 100 levels \\(maxDecodeDepth\\)`);

test('msgpack and json refuse a 100,000-deep document naming the limit, and take one at the limit', () => {
  const msgpack = msgpackSerializer();
  const json = jsonSerializer();
  assert.throws(() => msgpack.decode(deepMessagePack(DEEP)), refusedDepth('MessagePack value'));
  assert.throws(() => json.decode(Buffer.from(deepJson(DEEP))), refusedDepth('JSON value'));
  assert.throws(() => msgpack.decode(deepMessagePack(101)), RangeError);
  assert.throws(() => json.decode(Buffer.from(deepJson(101))), RangeError);
  assert.equal(JSON.stringify(msgpack.decode(deepMessagePack(100))), deepJson(100));
  assert.equal(JSON.stringify(json.decode(Buffer.from(deepJson(100)))), deepJson(100));
});

test('items past maxDecodeItems are refused before anything is built, even when the count only claims them', () => {
  const limits: DecodeLimits = { maxDepth: 100, maxItems: 1000 };
  const msgpack = msgpackSerializer(limits);
  const json = jsonSerializer(limits);
  assert.throws(() => msgpack.decode(msgpack.encode(new Array(1001).fill({}))), /more than 1000 items \(maxDecodeItems\)/);
  assert.throws(() => json.decode(json.encode(new Array(1001).fill(0))), /more than 1000 items \(maxDecodeItems\)/);
  assert.equal((msgpack.decode(msgpack.encode(new Array(999).fill(0))) as unknown[]).length, 999);
  // An array 32 header claiming four billion items, followed by two hundred bytes.
  const claim = Buffer.concat([Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), Buffer.alloc(200)]);
  assert.throws(() => msgpack.decode(claim), /maxDecodeItems/);
});

test('the limits count what the encoding nests: Maps, Sets and tagged JSON values nest like the arrays and objects they are written as', () => {
  const msgpack = msgpackSerializer({ maxDepth: 4, maxItems: 1000 });
  // args array (1) > Map entries (2) > entry pair (3) > Set items (4)
  const value = [new Map([['k', new Set([1, 2, 'a'.repeat(200)])]])];
  assert.deepEqual(msgpack.decode(msgpack.encode(value)), value);
  assert.throws(() => msgpack.decode(msgpack.encode([[...value]])), /maxDecodeDepth/);
  const json = jsonSerializer({ maxDepth: 3, maxItems: 1000 });
  // `"[{\"$bytes\": ...}]"`: a quoted bracket inside a string is not nesting.
  const text = Buffer.from(JSON.stringify([{ note: '[[[[[[{{{{ \\"]]]', bytes: { $bytes: 'AAAA' } }]));
  assert.deepEqual(json.decode(text), [{ note: '[[[[[[{{{{ \\"]]]', bytes: Buffer.alloc(3) }]);
});

test('brackets, quotes and backslashes inside JSON strings of any length are not nesting', () => {
  const json = jsonSerializer({ maxDepth: 2, maxItems: 1000 });
  const text = fc.string({ unit: fc.constantFrom('\\', '"', '[', '{', ',', 'a'), maxLength: 120 });
  fc.assert(fc.property(fc.array(text, { maxLength: 4 }), (strings) => {
    assert.deepEqual(json.decode(json.encode([strings])), [strings]);
  }), { numRuns: 1000 });
});

test('msgpackr records and string bundles, never written here, are refused in a message long enough to hide nesting', () => {
  const msgpack = msgpackSerializer();
  const withRecords = new Packr({ useRecords: true }).pack(Array.from({ length: 50 }, (_, i) => ({ a: i, b: [i] })));
  assert.throws(() => msgpack.decode(withRecords), /records \(extension 0x72\) are not accepted/);
  const bundled = new Packr({ bundleStrings: true, useRecords: false }).pack({ text: 'x'.repeat(300), more: ['y'.repeat(50)] });
  assert.throws(() => msgpack.decode(bundled), /string bundles \(extension 0x62\) are not accepted/);
});

test('any value within the limits decodes as it did without them', () => {
  const msgpack = msgpackSerializer();
  const json = jsonSerializer();
  const unlimited = new Packr({ useRecords: false, int64AsType: 'bigint', useBigIntExtension: true, structuredClone: false });
  const values = fc.anything({ maxDepth: 12, maxKeys: 8, withMap: true, withSet: true, withDate: true, withBigInt: true, withTypedArray: false, withBoxedValues: false, withNullPrototype: false });
  fc.assert(fc.property(values, (value) => {
    const packed = msgpack.encode([value]);
    assert.deepEqual(msgpack.decode(packed), unlimited.unpack(packed as Buffer));
    let text: Uint8Array;
    try {
      text = json.encode([value]);
    } catch (error) {
      // fast-check now and then makes an invalid Date, which JSON refuses by design (src/serialization/json.ts).
      assert.match((error as Error).message, /JSON cannot carry an invalid Date/);
      return;
    }
    assert.deepEqual(json.decode(text), jsonSerializer({ maxDepth: Infinity, maxItems: Infinity }).decode(text));
  }), { numRuns: 300 });
});

test('random bytes never make the scan throw anything but an Error, nor loop', () => {
  const msgpack = msgpackSerializer({ maxDepth: 8, maxItems: 64 });
  const json = jsonSerializer({ maxDepth: 8, maxItems: 64 });
  fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), (bytes) => {
    for (const serializer of [msgpack, json]) {
      try {
        serializer.decode(bytes);
      } catch (error) {
        assert.ok(error instanceof Error, String(error));
        assert.ok(!/call stack/.test(error.message), error.message);
      }
    }
  }), { numRuns: 2000 });
  assert.ok(DEFAULT_DECODE_LIMITS.maxDepth >= 64);
});

async function expectDeepRefused(server: Server, call: () => Promise<unknown>, format: string): Promise<void> {
  const error = await rejection(call());
  assert.equal(error.code, Code.INVALID_ARGUMENT, error.message);
  assert.match(error.message, refusedDepth(format));
  await counted(server, 'maxDecodeDepth');
}

for (const scheme of ['tcp', 'grpc'] as const) {
  test(`${scheme}: 100,000-deep arguments are INVALID_ARGUMENT naming the limit, counted, and the server goes on`, async (t) => {
    const { server, address } = await startOn(t, scheme);
    const hostile = createClient({ url: address, serializer: sendingBytes(deepMessagePack(DEEP)), retries: 0 });
    onCleanup(t, () => hostile.close({ timeoutMs: 1000 }));
    await expectDeepRefused(server, () => hostile.proxy(CalculatorService).add(1, 2), 'MessagePack value');
    const client = createClient({ url: address });
    onCleanup(t, () => client.close({ timeoutMs: 1000 }));
    assert.equal(await client.proxy(CalculatorService).add(1, 2), 3);
  });
}

test('amqp: 100,000-deep arguments are INVALID_ARGUMENT naming the limit, and counted', async (t) => {
  const scope = await brokerScope(t);
  const { server } = await startAmqpServer(t, scope, 'decode');
  const hostile = createClient({ url: scope.url(), serializer: sendingBytes(deepMessagePack(DEEP)), retries: 0 });
  onCleanup(t, () => hostile.close({ timeoutMs: 1000 }));
  await expectDeepRefused(server, () => hostile.proxy(CalculatorService).add(1, 2), 'MessagePack value');
});

test('http: a 100,000-deep JSON body is 400 INVALID_ARGUMENT naming the limit, and counted', async (t) => {
  const { server, address } = await startOn(t, 'http', { maxDecodeItems: 200 });
  const deep = await rawRequest(address, 'POST', '/demo.Calculator/add', { headers: { 'content-type': 'application/json' }, body: deepJson(DEEP) });
  assert.equal(deep.status, 400);
  assert.match((deep.json as { message: string }).message, refusedDepth('JSON value'));
  await counted(server, 'maxDecodeDepth');
  const many = await rawRequest(address, 'POST', '/demo.Calculator/add', { headers: { 'content-type': 'application/json' }, body: JSON.stringify([1, 2, new Array(300).fill(0)]) });
  assert.equal(many.status, 400);
  await counted(server, 'maxDecodeItems');
});
