import assert from 'node:assert/strict';
import test from 'node:test';
import { msgpackSerializer } from '../../src/serialization/msgpack.js';

const msgpack = msgpackSerializer();
const join = (chunks: Uint8Array[]) => Buffer.concat(chunks);

test('a large binary value is encoded by reference: its own bytes are one of the chunks', () => {
  const big = Buffer.alloc(64 * 1024, 7);
  const chunks = msgpack.encodeChunks!(big)!;
  assert.ok(chunks.includes(big), 'the value itself is a chunk, not a copy');
  assert.deepEqual(msgpack.decode(join(chunks)), big);
  assert.deepEqual(join(chunks), Buffer.from(msgpack.encode(big)), 'the same bytes as the plain encoding');
});

test('call arguments holding a large binary among other values decode as the plain encoding does', () => {
  const big = new Uint8Array(20_000).fill(1);
  const args = [1, 'x', big, { m: new Map([[1, 2]]) }, new Date(5)];
  const chunks = msgpack.encodeChunks!(args)!;
  assert.ok(chunks.includes(big));
  assert.deepEqual(msgpack.decode(join(chunks)), msgpack.decode(msgpack.encode(args)));
});

test('small values, and arrays without a large binary, use the plain encoding', () => {
  assert.equal(msgpack.encodeChunks!(new Uint8Array(100)), undefined);
  assert.equal(msgpack.encodeChunks!([1, 2, new Uint8Array(100)]), undefined);
  assert.equal(msgpack.encodeChunks!({ a: Buffer.alloc(64 * 1024) }), undefined);
});
