import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Builder, ByteBuffer } from 'flatbuffers';
import { Code, RpcError } from '../../src/index.js';
import { loadFbsSchema } from '../../src/serialization/flatbuffers/load.js';
import { flatbuffersMessage } from '../../src/serialization/flatbuffers/message.js';
import { hasCode } from '../support/assertions.js';
import { ensureFlatc, fixtures } from './flatbuffers-fixtures.js';

ensureFlatc();
const Kinds = flatbuffersMessage(fixtures.kinds, 'sy.kinds.Kinds');
const kindsTable = loadFbsSchema(fixtures.kinds).objects.find((object) => object.name === 'sy.kinds.Kinds')!;
/** The vtable slot (id) of a field of sy.kinds.Kinds. */
const idOf = (key: string) => kindsTable.fields.find((field) => field.key === key)!.id;

/** A message with a field of every kind, so that a cut or a flipped byte lands in every kind of place. */
const rich = Buffer.from(Kinds.encode({
  flag: true, i64: 5n, text: 'abc', data: Buffer.from([1, 2, 3]), ints: [1, 2, 3], texts: ['x', 'yz'],
  cell: { id: 1n, pos: { x: 1, y: 2, z: 3 }, color: 'Blue', weights: [1, 2, 3] },
  leaves: [{ name: 'leaf', value: 1 }], shape: { type: 'Leaf', value: { name: 'u', value: 2 } },
  nested: { text: 'inner', nested: { i32: 3 } },
}));

/** Decodes `bytes`: the message, or the RpcError it was refused with; anything else thrown fails the test. */
function outcome(bytes: Uint8Array, message = Kinds): Record<string, unknown> | RpcError {
  try {
    return message.decode(bytes);
  } catch (error) {
    assert.ok(error instanceof RpcError, `a malformed message must be refused with an RpcError, not ${String(error)}`);
    assert.equal(error.code, Code.INVALID_ARGUMENT, error.message);
    return error;
  }
}

/** `rich` with the bytes of `find` (its first occurrence) replaced by `replace`. */
function patched(find: Uint8Array, replace: Uint8Array): Buffer {
  const copy = Buffer.from(rich);
  const at = copy.indexOf(find);
  assert.ok(at >= 0, 'the pattern to patch is in the message');
  copy.set(replace, at);
  return copy;
}

const u32 = (n: number) => Buffer.from(new Uint32Array([n]).buffer);

describe('malformed FlatBuffers messages', () => {
  test("the flatbuffers package's reader reads past the end of a message without an error, which is why the codec checks every offset", () => {
    const truncated = rich.subarray(0, 12);
    const buffer = new ByteBuffer(truncated);
    assert.equal(buffer.readInt32(truncated.length + 64), 0, 'bytes past the end read as zeros');
    assert.throws(() => Kinds.decode(truncated), hasCode(Code.INVALID_ARGUMENT, /past the end/));
  });

  test('every truncation of a message is refused with INVALID_ARGUMENT', () => {
    for (let length = 0; length < rich.length; length++) {
      const result = outcome(rich.subarray(0, length));
      assert.ok(result instanceof RpcError, `the first ${length} of ${rich.length} bytes were accepted`);
    }
  });

  test('random bytes are refused with INVALID_ARGUMENT or read as some table, and never throw anything else or hang', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      outcome(bytes);
    }), { numRuns: 2000 });
  });

  test('a message with any of its bytes changed is refused with INVALID_ARGUMENT or read, and never throws anything else or hangs', () => {
    fc.assert(fc.property(fc.nat(rich.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(rich.length - 1), fc.integer({ min: 0, max: 255 }), (i, a, j, b) => {
      const copy = Buffer.from(rich);
      copy[i] = a;
      copy[j] = b;
      outcome(copy);
    }), { numRuns: 3000 });
  });

  const cases: Array<[string, () => Uint8Array, RegExp]> = [
    ['an empty message', () => new Uint8Array(0), /at least 8 bytes/],
    ['a root offset past the end', () => Buffer.from([0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0]), /points past the end/],
    ['a vtable outside the message', () => {
      const copy = Buffer.from(rich);
      copy.writeInt32LE(-0x7fffffff, copy.readUInt32LE(0));
      return copy;
    }, /vtable at byte .* runs past the end/],
    ['a vector claiming four billion items', () => patched(Buffer.concat([u32(3), u32(1), u32(2), u32(3)]), u32(0xffffffff)), /a vector at byte .* runs past the end/],
    ['a string without its terminating zero', () => patched(Buffer.from('abc\0'), Buffer.from('abcd')), /lacks its terminating zero/],
    ['a string that is not UTF-8', () => patched(Buffer.from('abc\0'), Buffer.from([0xff, 0xfe, 0x41])), /not valid UTF-8/],
  ];
  for (const [what, make, message] of cases) {
    test(`refused with INVALID_ARGUMENT: ${what}`, () => {
      assert.throws(() => Kinds.decode(make()), hasCode(Code.INVALID_ARGUMENT, message));
    });
  }

  test('nesting past maxDepth is refused as the message is read', () => {
    let value: Record<string, unknown> = { i32: 1 };
    for (let i = 0; i < 30; i++) value = { nested: value };
    const bytes = Kinds.encode(value);
    const shallow = flatbuffersMessage(fixtures.kinds, 'sy.kinds.Kinds', { limits: { maxDepth: 20 } });
    assert.throws(() => shallow.decode(bytes), hasCode(Code.INVALID_ARGUMENT, /nesting deeper than 20 levels \(maxDecodeDepth\)/));
    assert.equal(outcome(bytes) instanceof RpcError, false, 'the default limits read it');
  });

  test('a small message pointing many times at one table cannot make the reader build more than maxItems values', () => {
    // 5,000 offsets to one shared Leaf: 20 KB that would read as 5,000 objects.
    const builder = new Builder(1024);
    const name = builder.createString('shared');
    builder.startObject(2);
    builder.addFieldOffset(0, name, 0);
    const leaf = builder.endObject();
    builder.startVector(4, 5000, 4);
    for (let i = 0; i < 5000; i++) builder.addOffset(leaf);
    const leaves = builder.endVector();
    builder.startObject(kindsTable.slotCount);
    builder.addFieldOffset(idOf('leaves'), leaves, 0);
    builder.finish(builder.endObject());
    const bytes = builder.asUint8Array();
    const few = flatbuffersMessage(fixtures.kinds, 'sy.kinds.Kinds', { limits: { maxItems: 1000 } });
    assert.throws(() => few.decode(bytes), hasCode(Code.INVALID_ARGUMENT, /more than 1000 items \(maxDecodeItems\)/));
    const read = Kinds.decode(bytes);
    assert.equal((read.leaves as unknown[]).length, 5000, 'sharing is legal FlatBuffers: within the limits it reads');
    assert.deepStrictEqual((read.leaves as unknown[])[4999], { name: 'shared', value: 0 });
  });

  test('a union member added after this schema was compiled reads as its type number with no value', () => {
    const bytes = Buffer.from(Kinds.encode({ shape: { type: 'Leaf', value: { name: 'u', value: 2 } } }));
    const shape = kindsTable.fields.find((field) => field.key === 'shape')!;
    const table = bytes.readUInt32LE(0);
    const vtable = table - bytes.readInt32LE(table);
    bytes[table + bytes.readUInt16LE(vtable + 4 + 2 * shape.unionTypeId)] = 9;
    assert.deepStrictEqual(Kinds.decode(bytes).shape, { type: 9, value: null });
  });
});
