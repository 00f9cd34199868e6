import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonSerializer } from '../../src/serialization/json.js';
import { msgpackSerializer } from '../../src/serialization/msgpack.js';
import type { Serializer } from '../../src/serialization/serializer.js';

// What each serializer does with values it cannot carry as they are (docs/calls.md, "Values: what
// arrives"): a tagged or documented form, or a refusal when encoding, never a silent change.

const roundTrip = (serializer: Serializer, value: unknown): unknown => serializer.decode(serializer.encode(value));
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

class Holder {
  constructor(readonly inner: unknown) {}
}

/** Values both serializers refuse, nested in every kind of container they search. */
const refusedValues: Array<[string, () => object, RegExp]> = [
  ['an Error', () => new TypeError('x'), /cannot carry an Error value/],
  ['a RegExp', () => /a+/g, /cannot carry a RegExp/],
  ['a Float64Array', () => new Float64Array([1.5]), /cannot carry a Float64Array/],
  ['an Int32Array', () => new Int32Array([1]), /cannot carry an Int32Array/],
  ['a Uint8ClampedArray', () => new Uint8ClampedArray([1]), /cannot carry a Uint8ClampedArray/],
  ['an ArrayBuffer', () => new ArrayBuffer(2), /cannot carry an ArrayBuffer/],
  ['a DataView', () => new DataView(new ArrayBuffer(2)), /cannot carry a DataView/],
];
const containers: Array<[string, (value: object) => unknown]> = [
  ['alone', (value) => value],
  ['in an array', (value) => [1, value]],
  ['in an object', (value) => ({ field: value })],
  ['in a Map', (value) => new Map([['key', value]])],
  ['in a Set', (value) => new Set([value])],
  ['in a class instance', (value) => new Holder(value)],
];

for (const serializer of [msgpackSerializer(), jsonSerializer()]) {
  describe(`${serializer.name}: values it cannot carry as they are`, () => {
    for (const [name, make, message] of refusedValues) {
      it(`refuses ${name} wherever it is, naming it`, () => {
        for (const [where, wrap] of containers) assert.throws(() => serializer.encode(wrap(make())), message, `${name} ${where}`);
      });
    }

    it('keeps NaN, Infinity, -Infinity and -0', () => {
      const back = roundTrip(serializer, { list: [Number.NaN, Infinity, -Infinity, -0], zero: -0, inMap: new Map([['z', -0]]) }) as Record<string, unknown>;
      assert.deepStrictEqual(back, { list: [Number.NaN, Infinity, -Infinity, -0], zero: -0, inMap: new Map([['z', -0]]) });
      assert.ok(Object.is(roundTrip(serializer, -0), -0));
    });

    it('keeps undefined in arrays, and turns holes into undefined items', () => {
      // eslint-disable-next-line no-sparse-arrays -- a hole is what is tested
      const back = roundTrip(serializer, [[1, undefined, 3], [1, , 3], undefined]) as unknown[][];
      assert.deepStrictEqual(back, [[1, undefined, 3], [1, undefined, 3], undefined]);
      assert.ok(1 in back[1]!, 'the hole is an own undefined item');
    });

    it('keeps Dates, and sends a class instance as a plain object of its fields, Maps inside kept', () => {
      const when = new Date('2024-02-29T12:34:56.789Z');
      assert.deepStrictEqual(roundTrip(serializer, { when }), { when });
      assert.deepStrictEqual(roundTrip(serializer, new Holder(new Map([[1, 'one']]))), { inner: new Map([[1, 'one']]) });
    });
  });
}

describe('msgpack: values', () => {
  const msgpack = msgpackSerializer();

  it('writes -0 as a float64, which any MessagePack reader decodes as -0', () => {
    assert.deepEqual([...msgpack.encode(-0)], [0xcb, 0x80, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual([...msgpack.encode(0)], [0]);
  });

  it('keeps an invalid Date and an object field holding undefined', () => {
    const back = roundTrip(msgpack, { when: new Date(Number.NaN), empty: undefined }) as { when: Date; empty: undefined };
    assert.ok(back.when instanceof Date && Number.isNaN(back.when.getTime()));
    assert.ok(Object.hasOwn(back, 'empty'));
  });
});

describe('JSON: tagged values', () => {
  const json = jsonSerializer();

  it('tags dates, special numbers and undefined array items', () => {
    assert.equal(text(json.encode([new Date(0), Number.NaN, -Infinity, -0, undefined])),
      '[{"$date":"1970-01-01T00:00:00.000Z"},{"$number":"NaN"},{"$number":"-Infinity"},{"$number":"-0"},{"$undefined":true}]');
  });

  it('leaves out an object field holding undefined, as JSON does', () => {
    assert.deepStrictEqual(roundTrip(json, { kept: 1, empty: undefined }), { kept: 1 });
  });

  it('refuses an invalid Date, naming where it is', () => {
    assert.throws(() => json.encode({ when: new Date(Number.NaN) }), /cannot carry an invalid Date \(at key "when"\)/);
  });

  it('refuses a $date or $number of the wrong form instead of decoding something else', () => {
    for (const bad of ['{"$date":"yesterday"}', '{"$date":"2024-02-30T00:00:00.000Z"}', '{"$date":"2024-02-29"}', '{"$number":"1e400"}', '{"$number":"nan"}']) {
      assert.throws(() => json.decode(Buffer.from(bad)), /\$date|\$number/, bad);
    }
  });

  it('leaves objects that only look like the new tags alone', () => {
    const value = { d: { $date: 5 }, n: { $number: 1 }, u: { $undefined: 'yes' }, w: { $undefined: true, other: 1 } };
    assert.deepStrictEqual(roundTrip(json, value), value);
  });

  it('reads $undefined in an object field as a missing field, and at the top as undefined', () => {
    assert.deepStrictEqual(json.decode(Buffer.from('{"a":{"$undefined":true},"b":1}')), { b: 1 });
    assert.equal(json.decode(Buffer.from('{"$undefined":true}')), undefined);
  });
});
