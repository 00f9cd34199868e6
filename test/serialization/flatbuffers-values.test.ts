import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Code } from '../../src/index.js';
import { flatbuffersMessage } from '../../src/serialization/flatbuffers/message.js';
import { hasCode } from '../support/assertions.js';
import { ensureFlatc, fixtures } from './flatbuffers-fixtures.js';

ensureFlatc();
const Kinds = flatbuffersMessage(fixtures.kinds, 'sy.kinds.Kinds');
const Strict = flatbuffersMessage(fixtures.kinds, 'sy.kinds.Strict');

/** Every field of `sy.kinds.Kinds` given, each at an edge of its range where it has one. */
function everyKind(): Record<string, unknown> {
  return {
    flag: true, i8: -128, u8: 255, i16: -32768, u16: 65535, i32: -(2 ** 31), u32: 2 ** 32 - 1,
    i64: -(2n ** 63n), u64: 2n ** 64n - 1n, f32: 1.5, f64: Math.PI,
    text: 'héllo ✓ 𝄞', data: Buffer.from([0, 1, 127, 128, 255]), signedBytes: [-128, 0, 127],
    ints: [1, -2, 2 ** 31 - 1], longs: [5n, -(2n ** 63n)], doubles: [0.5, -0, Number.NaN, Number.POSITIVE_INFINITY],
    bools: [true, false], texts: ['a', '', 'ü'],
    color: 'Blue', colors: ['Red', 'Blue'], wide: 'Huge', perms: 5,
    pos: { x: 1, y: -2, z: 0.25 },
    cell: { id: 9n, pos: { x: 1, y: 2, z: 3 }, color: 'Green', weights: [1, -2, 32767] },
    cells: [{ id: 1n, pos: { x: 0, y: 0, z: 0 }, color: 'Red', weights: [0, 0, 0] }, { id: 2n, pos: { x: 4, y: 5, z: 6 }, color: 'Blue', weights: [-1, -1, -1] }],
    leaf: { name: 'l', value: 7 }, leaves: [{ name: 'a', value: 1 }, { name: null, value: 0 }],
    shape: { type: 'Image', value: { data: Buffer.from([9]), width: 3 } },
    maybe: 0, defaulted: 7, ratio: -0,
    stamp: { seconds: 10n, zone: 'UTC' },
    nested: { ...defaults(), text: 'inner', nested: { ...defaults(), i32: 1 } },
  };
}

/** `sy.kinds.Kinds` with nothing set, as it reads back. */
function defaults(): Record<string, unknown> {
  return {
    flag: false, i8: 0, u8: 0, i16: 0, u16: 0, i32: 0, u32: 0, i64: 0n, u64: 0n, f32: 0, f64: 0,
    text: null, data: Buffer.alloc(0), signedBytes: [], ints: [], longs: [], doubles: [], bools: [], texts: [],
    color: 'Green', colors: [], wide: 'Small', perms: 0, pos: null, cell: null, cells: [], leaf: null, leaves: [],
    shape: null, maybe: null, defaulted: 42, ratio: 1.5, stamp: null, nested: null,
  };
}

describe('FlatBuffers values', () => {
  test('every kind a table holds round-trips: integers of every width, 64-bit as bigint, floats, strings, bytes, vectors, enums, structs, tables, unions', () => {
    const value = everyKind();
    assert.deepStrictEqual(Kinds.decode(Kinds.encode(value)), value);
  });

  test('a field left out reads as its default: scalars their schema default, optional scalars null, strings, tables, structs and unions null, vectors empty', () => {
    assert.deepStrictEqual(Kinds.decode(Kinds.encode({})), defaults());
    assert.deepStrictEqual(Kinds.decode(Kinds.encode({ text: null, leaf: undefined, maybe: null })), defaults());
  });

  test('a value equal to its default still reads back the same, and -0 in a float field stays -0', () => {
    const read = Kinds.decode(Kinds.encode({ defaulted: 42, color: 'Green', ratio: 1.5, f64: -0, maybe: 0 }));
    assert.equal(read.defaulted, 42);
    assert.equal(read.color, 'Green');
    assert.ok(Object.is(read.f64, -0));
    assert.equal(read.maybe, 0, 'an optional scalar set to 0 is not left out');
  });

  test('[ubyte] arrives as a Buffer viewing the received message, not a copy', () => {
    const bytes = Kinds.encode({ data: new Uint8Array([1, 2, 3]) });
    const read = Kinds.decode(bytes);
    assert.ok(Buffer.isBuffer(read.data));
    assert.deepEqual([...(read.data as Buffer)], [1, 2, 3]);
    assert.equal((read.data as Buffer).buffer, bytes.buffer, 'the same memory as the message');
  });

  test('other forms are taken where they are unambiguous: 64-bit from safe numbers and decimal strings, enums by number, bytes from an array, a class instance by its own fields', () => {
    class LeafValue {
      name = 'own';
      value = 3;
      get computed(): number {
        return this.value * 2;
      }
    }
    const read = Kinds.decode(Kinds.encode({ i64: -5, u64: '18446744073709551615', color: 5, data: [1, 2], leaf: new LeafValue() }));
    assert.equal(read.i64, -5n);
    assert.equal(read.u64, 2n ** 64n - 1n);
    assert.equal(read.color, 'Blue');
    assert.deepEqual([...(read.data as Buffer)], [1, 2]);
    assert.deepStrictEqual(read.leaf, { name: 'own', value: 3 });
  });

  test('float fields carry float32: a double arrives rounded to the nearest float32', () => {
    assert.equal(Kinds.decode(Kinds.encode({ f32: 0.1 })).f32, Math.fround(0.1));
  });

  test('an enum value the schema does not name, and a bit_flags combination, arrive as numbers', () => {
    const read = Kinds.decode(Kinds.encode({ color: 3, perms: 7 }));
    assert.equal(read.color, 3);
    assert.equal(read.perms, 7);
  });

  const cycle: Record<string, unknown> = {};
  cycle.nested = cycle;
  const refusals: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a field the table does not have', { nope: 1 }, /field nope, which sy\.kinds\.Kinds does not have/],
    ['an integer out of its range', { i8: 128 }, /cannot carry 128 in a byte field/],
    ['a negative number in an unsigned field', { u32: -1 }, /cannot carry -1 in a uint field/],
    ['a negative bigint in a ulong field', { u64: -1n }, /ulong/],
    ['a bigint past 64 bits', { i64: 2n ** 64n }, /long field/],
    ['an unsafe number in a long field', { i64: 2 ** 60 }, /safe integer/],
    ['a fraction in an integer field', { i32: 1.5 }, /number 1\.5 in a int field/],
    ['a number in a string field', { text: 5 }, /number 5 in a string field/],
    ['a number in a bool field', { flag: 1 }, /bool field/],
    ['a string in a double field', { f64: '1' }, /float field/],
    ['a wrong item in a vector', { ints: [1, 'x'] }, /ints\[1\]/],
    ['a string for bytes', { data: 'abc' }, /vector field \(it takes a Uint8Array/],
    ['a typed array other than Uint8Array', { ints: new Int32Array(2) }, /Int32Array/],
    ['an enum name the enum lacks', { color: 'Purple' }, /Color has no value named "Purple"/],
    ['a struct missing a field', { pos: { x: 1, y: 2 } }, /pos\.z is missing/],
    ['a fixed array of the wrong length', { cell: { id: 1n, pos: { x: 0, y: 0, z: 0 }, color: 'Red', weights: [1, 2] } }, /exactly 3 items/],
    ['a union member the union lacks', { shape: { type: 'Nope', value: {} } }, /type one of Leaf, Image/],
    ['a union given as its member alone', { shape: { name: 'x' } }, /written as \{ type, value \}/],
    ['a string with a lone surrogate', { text: 'a\ud800' }, /lone surrogate/],
    ['a Map as a table', { leaf: new Map([['name', 'x']]) }, /a Map as the table sy\.kinds\.Leaf/],
    ['a Date as a table', { nested: new Date(0) }, /a Date as the table/],
    ['an Error as a table', { leaf: new Error('x') }, /an Error value as the table/],
    ['an array as a table', { leaf: ['x'] }, /an array as the table/],
    ['a cycle', cycle, /nesting deeper than 100 levels/],
    // eslint-disable-next-line no-sparse-arrays -- the hole is the point of this case
    ['a hole in a sparse array', { ints: [1, , 3] }, /ints\[1\]: FlatBuffers cannot carry undefined/],
  ];
  for (const [what, value, message] of refusals) {
    test(`refused when written, with INVALID_ARGUMENT naming the field: ${what}`, () => {
      assert.throws(() => Kinds.encode(value), hasCode(Code.INVALID_ARGUMENT, message));
    });
  }

  test('a required field left out is refused when written, and when read', () => {
    assert.throws(() => Strict.encode({ count: 1 }), hasCode(Code.INVALID_ARGUMENT, /name is required by sy\.kinds\.Strict/));
    assert.deepStrictEqual(Strict.decode(Strict.encode({ name: 'n' })), { name: 'n', count: 0 });
    // A Leaf has Strict's layout with a name that may be left out.
    const withoutName = flatbuffersMessage(fixtures.kinds, 'sy.kinds.Leaf').encode({ value: 1 });
    assert.throws(() => Strict.decode(withoutName), hasCode(Code.INVALID_ARGUMENT, /required field name is missing/));
  });

  test('a message that is no table at all is refused', () => {
    for (const value of [null, 5, 'text', [1, 2], undefined]) {
      assert.throws(() => Kinds.encode(value as unknown as Record<string, unknown>), hasCode(Code.INVALID_ARGUMENT, /cannot carry/));
    }
  });
});
