// Inputs the fuzzers (scripts/fuzz/) found worth keeping, with what must happen to them.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Code } from '../../src/core/code.js';
import { RpcError } from '../../src/core/rpc-error.js';
import { jsonSerializer } from '../../src/serialization/json.js';
import { msgpackSerializer } from '../../src/serialization/msgpack.js';
import { serializerCodec } from '../../src/transport/grpc/codec.js';

const msgpack = msgpackSerializer();
const json = jsonSerializer();
const bytes = (hex: string) => Buffer.from(hex, 'hex');
const invalidArgument = (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT;

test('arguments nested past the stack are refused with INVALID_ARGUMENT, and the decoders read on', () => {
  // 100,000 nested one-item arrays: the decoders recurse and run out of stack (a RangeError).
  assert.throws(() => serializerCodec(msgpack).decodeRequest(Buffer.concat([Buffer.alloc(100_000, 0x91), bytes('01')])), invalidArgument);
  assert.throws(() => serializerCodec(json).decodeRequest(Buffer.from('['.repeat(100_000) + ']'.repeat(100_000))), invalidArgument);
  assert.deepEqual(msgpack.decode(msgpack.encode([1, { a: 'b' }])), [1, { a: 'b' }]);
  assert.deepEqual(json.decode(json.encode([1, { a: 'b' }])), [1, { a: 'b' }]);
});

// msgpackr's built-in extensions decode into values the values table (docs/calls.md) says never
// travel; msgpack.ts refused them only when encoding. Found by target `msgpack`; now the scan
// before decoding (msgpack-scan.ts) refuses them, leaving msgpackr's own extensions as they are.
const foreignValues: Array<[string, string]> = [
  ['a RegExp (extension 0x78)', '91d4780092a2612ba167'],
  ['an Error (extension 0x65)', '91d4650093a54572726f72a26869c0'],
  ['a Float64Array (extension 0x74)', '91c7097408000000000000f03f'],
  ['an ArrayBuffer (extension 0x74, code 16)', '91d57410ab'],
  ['a DataView (extension 0x74, code 17)', '91d57411ab'],
  ["msgpackr's C1 marker (byte 0xc1, never used in MessagePack)", '91c1'],
];
for (const [what, hex] of foreignValues) {
  test(`MessagePack from a peer holding ${what} is refused`, () => {
    assert.throws(() => serializerCodec(msgpack).decodeRequest(bytes(hex)), invalidArgument);
  });
}

test('a Map nested deeper than 64 levels is sent back as a Map', () => {
  // The encoder boxed Maps 64 levels deep only, so deeper ones were written as plain maps: an
  // object on the other side, or (object keys) bytes no decoder reads. It now boxes as deep as the decoder reads.
  const input = Buffer.concat([Buffer.alloc(70, 0x91), msgpack.encode(new Map([['a', 1]]))]);
  let value = msgpack.decode(msgpack.encode(msgpack.decode(input)));
  for (let i = 0; i < 70; i++) value = (value as unknown[])[0];
  assert.ok(value instanceof Map);
});

test('MessagePack refuses to encode a lone surrogate instead of turning it into U+FFFD', () => {
  // JSON carries '\ud800' unchanged; MessagePack writes UTF-8, which cannot hold it.
  assert.equal(json.decode(json.encode('\ud800')), '\ud800');
  assert.throws(() => msgpack.encode(['ok', { text: 'a\ud800b' }]), TypeError);
  assert.deepEqual(msgpack.decode(msgpack.encode(['\ud83d\ude00'])), ['\ud83d\ude00']);
});
