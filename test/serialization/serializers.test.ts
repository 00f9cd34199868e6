import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code } from '../../src/core/code.js';
import { RpcError } from '../../src/core/rpc-error.js';
import { MAX_BIGINT_DIGITS, jsonSerializer } from '../../src/serialization/json.js';
import { msgpackSerializer } from '../../src/serialization/msgpack.js';
import { SerializerSet, errorSerializer } from '../../src/serialization/registry.js';
import type { Serializer } from '../../src/serialization/serializer.js';

const pollutingPayload = '{"__proto__": {"polluted": "yes"}, "nested": {"__proto__": {"polluted": "yes"}}, "list": [{"__proto__": {"polluted": "yes"}}]}';

/**
 * Fails if any object reachable from `value` has a prototype other than the plain ones or inherits
 * `polluted`, or if one of the three objects that carried a `__proto__` key got `polluted` itself.
 * (The object that was the `__proto__` value owns `polluted` as plain data, which is fine.)
 */
function assertNotPolluted(value: unknown, path = '$'): void {
  if (typeof value !== 'object' || value === null) return;
  const proto: unknown = Object.getPrototypeOf(value);
  assert.ok(proto === Object.prototype || proto === Array.prototype, `${path} has a foreign prototype`);
  const owns = Object.hasOwn(value, 'polluted');
  assert.ok(owns || !('polluted' in value), `${path} inherits polluted`);
  for (const key of Object.getOwnPropertyNames(value)) assertNotPolluted((value as Record<string, unknown>)[key], `${path}.${key}`);
}

function assertCarriersClean(decoded: unknown): void {
  const root = decoded as { nested: object; list: object[] };
  for (const [path, carrier] of [['$', root], ['$.nested', root.nested], ['$.list[0]', root.list[0]]] as const) {
    assert.equal((carrier as Record<string, unknown>).polluted, undefined, `${path}.polluted is reachable`);
  }
}

function assertPrototypeUntouched(): void {
  assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
}

function roundTrip(serializer: Serializer, value: unknown): unknown {
  return serializer.decode(serializer.encode(value));
}

describe('msgpack serializer', () => {
  const msgpack = msgpackSerializer();

  it('has wire id 0 and name msgpack', () => {
    assert.equal(msgpack.id, 0);
    assert.equal(msgpack.name, 'msgpack');
  });

  it('round-trips plain JSON-like values', () => {
    const value = { a: 1, b: -2.5, s: 'text ✓', t: true, n: null, list: [1, 'two', [3]], nested: { deep: { deeper: [] } } };
    assert.deepEqual(roundTrip(msgpack, value), value);
  });

  it('round-trips Dates as Dates', () => {
    const date = new Date('2024-02-29T12:34:56.789Z');
    const back = roundTrip(msgpack, { date });
    assert.ok((back as { date: unknown }).date instanceof Date);
    assert.equal((back as { date: Date }).date.getTime(), date.getTime());
  });

  it('round-trips small bigints as bigints', () => {
    for (const value of [0n, 5n, -5n, 2n ** 40n]) assert.equal(roundTrip(msgpack, value), value);
  });

  it('round-trips bigints at both ends of the int64 range', () => {
    for (const value of [2n ** 63n - 1n, -(2n ** 63n), 2n ** 62n + 7n]) assert.equal(roundTrip(msgpack, value), value);
  });

  it('round-trips bigints beyond 64 bits', () => {
    for (const value of [2n ** 64n, 2n ** 64n + 1n, -(2n ** 70n) - 3n, 10n ** 30n]) assert.equal(roundTrip(msgpack, value), value);
  });

  it('keeps integer numbers above 32 bits as numbers', () => {
    for (const value of [2 ** 32, 2 ** 40, Number.MAX_SAFE_INTEGER, -(2 ** 40)]) assert.equal(roundTrip(msgpack, value), value);
  });

  it('round-trips Maps as Maps, keeping non-string keys', () => {
    const map = new Map<unknown, unknown>([[1, 'one'], ['k', { v: 2 }]]);
    const back = roundTrip(msgpack, { map });
    assert.ok((back as { map: unknown }).map instanceof Map, 'decoded as a Map');
    assert.deepEqual((back as { map: unknown }).map, map);
  });

  it('round-trips Sets as Sets', () => {
    const set = new Set(['a', 1]);
    const back = roundTrip(msgpack, set);
    assert.ok(back instanceof Set);
    assert.deepEqual(back, set);
  });

  it('round-trips Sets, Dates and bigints nested in objects and arrays', () => {
    const value = { list: [{ when: new Date(0), ids: new Set([1n, 2n]) }], total: 2n ** 65n };
    assert.deepEqual(roundTrip(msgpack, value), value);
  });

  it('round-trips Buffers and Uint8Arrays byte for byte', () => {
    const value = { buf: Buffer.from([1, 2, 3]), u8: new Uint8Array([250, 0, 7]), empty: new Uint8Array(0) };
    const back = roundTrip(msgpack, value) as Record<string, unknown>;
    for (const key of ['buf', 'u8', 'empty'] as const) {
      assert.ok(back[key] instanceof Uint8Array, `${key} is bytes`);
      assert.deepEqual([...(back[key] as Uint8Array)], [...value[key]]);
    }
  });

  /** Places an encoded value at offset 16 of a buffer of its own (Buffer.alloc never uses the shared pool). */
  function inFrame(value: unknown): Buffer {
    const encoded = msgpack.encode(value);
    const frame = Buffer.alloc(16 + encoded.length, 0xee);
    frame.set(encoded, 16);
    return frame;
  }

  for (const [kind, bytes] of [['Buffer', Buffer.from([1, 2, 3])], ['Uint8Array', new Uint8Array([1, 2, 3])]] as const) {
    it(`decodes a ${kind} value as a view of the input buffer, not a copy`, () => {
      const frame = inFrame({ bytes });
      const decoded = msgpack.decode(frame.subarray(16)) as { bytes: Uint8Array };
      assert.deepEqual([...decoded.bytes], [1, 2, 3]);
      assert.ok(decoded.bytes.buffer === frame.buffer, 'the decoded bytes share the frame\'s ArrayBuffer');
      frame.fill(0x77, decoded.bytes.byteOffset, decoded.bytes.byteOffset + 3);
      assert.deepEqual([...decoded.bytes], [0x77, 0x77, 0x77], 'a write to the frame shows through');
    });
  }

  it('refuses structured-clone ids and pointers, so a peer cannot send a cyclic graph', () => {
    // ext 0x69 (id 1) around an array holding ext 0x70 (pointer to id 1): an array that contains itself
    const cyclic = Buffer.from([0xd6, 0x69, 0, 0, 0, 1, 0x91, 0xd6, 0x70, 0, 0, 0, 1]);
    assert.throws(() => msgpack.decode(cyclic), /Structured clone extension is disabled/);
  });

  it('encodes an object with more than 65,535 keys', () => {
    const wide: Record<string, number> = {};
    for (let i = 0; i < 70_000; i++) wide[`k${i}`] = i;
    const back = msgpack.decode(msgpack.encode({ wide })) as { wide: Record<string, number> };
    assert.equal(Object.keys(back.wide).length, 70_000);
    assert.equal(back.wide.k69999, 69_999);
  });

  it('decodes a __proto__ payload without touching Object.prototype or any decoded prototype', () => {
    const payload: unknown = JSON.parse(pollutingPayload);
    const decoded = msgpack.decode(msgpack.encode(payload));
    assertPrototypeUntouched();
    assertNotPolluted(decoded);
    assertCarriersClean(decoded);
    assert.equal(Object.keys((decoded as { nested: object }).nested).filter((k) => k.startsWith('__proto')).length, 1, 'the key is kept as plain data');
  });
});

describe('JSON serializer', () => {
  const json = jsonSerializer();
  const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

  it('has wire id 1 and name json', () => {
    assert.equal(json.id, 1);
    assert.equal(json.name, 'json');
  });

  it('round-trips plain values and decodes an empty body as undefined', () => {
    const value = { a: [1, 'b', null, { c: false }] };
    assert.deepEqual(roundTrip(json, value), value);
    assert.equal(json.decode(new Uint8Array(0)), undefined);
  });

  it('tags bytes as $bytes base64 and decodes them back to bytes', () => {
    const bytes = new Uint8Array([0, 1, 254, 255]);
    const encoded = json.encode({ bytes });
    assert.equal(text(encoded), `{"bytes":{"$bytes":"${Buffer.from(bytes).toString('base64')}"}}`);
    const back = json.decode(encoded) as { bytes: Uint8Array };
    assert.ok(back.bytes instanceof Uint8Array);
    assert.deepEqual([...back.bytes], [...bytes]);
  });

  it('tags a Buffer wherever it is without calling its toJSON, which would list its bytes as numbers', () => {
    let calls = 0;
    const bytes = Buffer.from([0, 1, 254, 255]);
    Object.defineProperty(bytes, 'toJSON', { value: () => ++calls });
    const tag = `{"$bytes":"${bytes.toString('base64')}"}`;
    const inherited = Object.create({ hidden: bytes }) as Record<string, unknown>;
    inherited.own = bytes;
    const holey: unknown[] = [bytes];
    holey[2] = 1;
    const cases: Array<[unknown, string]> = [
      [bytes, tag],
      [[bytes, 2], `[${tag},2]`],
      [{ a: { b: [bytes] } }, `{"a":{"b":[${tag}]}}`],
      [new Map([['k', bytes]]), `{"$map":[["k",${tag}]]}`],
      [new Set([bytes]), `{"$set":[${tag}]}`],
      [inherited, `{"own":${tag}}`],
      [holey, `[${tag},{"$undefined":true},1]`],
    ];
    for (const [value, expected] of cases) assert.equal(text(json.encode(value)), expected);
    assert.equal(calls, 0);
    assert.ok(holey[0] === bytes && !(1 in holey), 'the value given is left as it was');
    const back = json.decode(json.encode({ list: [bytes, bytes] })) as { list: Uint8Array[] };
    assert.deepEqual(back.list.map((item) => [...item]), [[0, 1, 254, 255], [0, 1, 254, 255]]);
  });

  it('encodes only the viewed bytes of a slice', () => {
    const backing = Buffer.from([9, 1, 2, 9]);
    const back = roundTrip(json, [backing.subarray(1, 3)]) as Uint8Array[];
    assert.deepEqual([...back[0]!], [1, 2]);
  });

  it('tags bigints as $bigint digits and decodes them back to bigints', () => {
    const value = { small: 3n, big: 2n ** 70n, negative: -(10n ** 25n) };
    const encoded = json.encode(value);
    assert.match(text(encoded), /"small":\{"\$bigint":"3"\}/);
    assert.deepEqual(json.decode(encoded), value);
  });

  it('leaves objects that only look like tags alone when their value is not a string or array', () => {
    const value = { b: { $bytes: 5 }, c: { $bigint: '1', other: true }, m: { $map: 'x' }, s: { $set: {} } };
    assert.deepEqual(roundTrip(json, value), value);
  });

  it('refuses a tag whose text has the wrong form instead of decoding something else', () => {
    for (const bad of ['{"a":{"$bigint":"12x"}}', '{"$bytes":"not base64!"}', '{"$bytes":"QUJDR"}', '{"$map":[[1]]}']) {
      assert.throws(() => json.decode(Buffer.from(bad)), /\$bigint|\$bytes|\$map/, bad);
    }
    assert.deepEqual([...(json.decode(Buffer.from('{"$bytes":"QUJD"}')) as Uint8Array)], [65, 66, 67]);
    assert.deepEqual([...(json.decode(Buffer.from('{"$bytes":"-_8"}')) as Uint8Array)], [251, 255], 'the URL-safe alphabet too');
  });

  it('bounds the digits of a $bigint, so a huge one costs no CPU', () => {
    const limit = '9'.repeat(MAX_BIGINT_DIGITS);
    assert.equal(json.decode(Buffer.from(`{"$bigint":"-${limit}"}`)), -BigInt(limit));
    assert.throws(() => json.decode(Buffer.from(`{"$bigint":"${'9'.repeat(16 << 20)}"}`)), RangeError);
  });

  it('carries Map and Set as $map and $set tags, and refuses an Error value', () => {
    const value = { m: new Map<unknown, unknown>([[1, 'one'], ['k', new Set([2n])]]), s: new Set(['a']) };
    assert.match(text(json.encode(value)), /"m":\{"\$map":\[\[1,"one"\]/);
    assert.deepEqual(roundTrip(json, value), value);
    assert.throws(() => json.encode({ failure: new Error('x') }), /cannot carry an Error value \(at key "failure"\)/);
  });

  it('keeps a __proto__ key as an own key and leaves Object.prototype untouched', () => {
    const decoded = json.decode(Buffer.from(pollutingPayload)) as Record<string, unknown>;
    assertPrototypeUntouched();
    assertNotPolluted(decoded);
    assertCarriersClean(decoded);
    assert.ok(Object.hasOwn(decoded, '__proto__'));
    assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
    assert.ok(Object.hasOwn(decoded.nested as object, '__proto__'));
    const again = roundTrip(json, decoded) as Record<string, unknown>;
    assert.ok(Object.hasOwn(again, '__proto__'), 'the key survives a second trip');
    assertPrototypeUntouched();
  });

  it('rejects bytes that are not valid UTF-8 or not JSON', () => {
    assert.throws(() => json.decode(new Uint8Array([0xff, 0xfe])));
    assert.throws(() => json.decode(Buffer.from('{"a":')));
  });

  it('refuses every kind of bad UTF-8 inside a string, and keeps a real U+FFFD', () => {
    const quoted = (...bytes: number[]) => Uint8Array.from([0x22, ...bytes, 0x22]);
    // A bad pair, a lone byte, an overlong form, a surrogate, a truncated sequence, a byte past U+10FFFF.
    for (const bad of [[0xc3, 0x28], [0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80]]) {
      assert.throws(() => json.decode(quoted(...bad)), /not valid for encoding utf-8/, `bytes ${bad.join(' ')}`);
    }
    assert.equal(json.decode(Buffer.from('"a\uFFFDb é€😀"')), 'a\uFFFDb é€😀');
    // A view into a larger buffer is read as its own bytes only.
    const backing = Buffer.from('xx"ok"xx');
    assert.equal(json.decode(new Uint8Array(backing.buffer, backing.byteOffset + 2, 4)), 'ok');
  });
});

describe('SerializerSet', () => {
  it('looks serializers up by name and by wire id', () => {
    const set = new SerializerSet(['msgpack', 'json']);
    assert.equal(set.named('msgpack').id, 0);
    assert.equal(set.named('json').id, 1);
    assert.equal(set.byWireId(0)?.name, 'msgpack');
    assert.equal(set.byWireId(1)?.name, 'json');
    assert.equal(set.byWireId(2), undefined);
  });

  it('refuses an unknown serializer name, listing the known ones', () => {
    assert.throws(() => new SerializerSet(['protobuf']), (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, Code.INVALID_ARGUMENT);
      assert.match(error.message, /"protobuf"/);
      assert.match(error.message, /msgpack, json/);
      return true;
    });
  });

  it('refuses a serializer that is not enabled when asked by name', () => {
    assert.throws(() => new SerializerSet(['msgpack']).named('json'), { code: Code.INVALID_ARGUMENT });
  });

  it('refuses two serializers with the same wire id', () => {
    const impostor: Serializer = { id: 0, name: 'impostor', encode: () => new Uint8Array(0), decode: () => undefined };
    assert.throws(() => new SerializerSet(['msgpack', impostor]), (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, Code.INVALID_ARGUMENT);
      assert.match(error.message, /share id 0/);
      return true;
    });
  });

  it('refuses wire ids outside 0..255', () => {
    for (const id of [-1, 256, 1.5]) {
      const odd: Serializer = { id, name: `odd${id}`, encode: () => new Uint8Array(0), decode: () => undefined };
      assert.throws(() => new SerializerSet([odd]), /outside 0\.\.255/);
    }
  });

  it('accepts a custom serializer next to the built-in ones', () => {
    const custom: Serializer = { id: 9, name: 'custom', encode: () => new Uint8Array([1]), decode: () => 'custom' };
    const set = new SerializerSet(['msgpack', custom]);
    assert.equal(set.byWireId(9), custom);
    assert.equal(set.named('custom'), custom);
  });

  it('falls back to JSON (id 1) for responses when JSON is not enabled', () => {
    const set = new SerializerSet(['msgpack']);
    assert.equal(set.byWireId(1), undefined);
    const fallback = set.forResponse(1);
    assert.equal(fallback, errorSerializer);
    assert.equal(fallback?.name, 'json');
    assert.equal(set.forResponse(0)?.name, 'msgpack');
    assert.equal(set.forResponse(7), undefined);
  });
});

describe('json text', () => {
  const json = jsonSerializer();
  it('writes undefined as no bytes and reads no bytes as undefined', () => {
    assert.equal(json.encode(undefined).byteLength, 0);
    assert.equal(json.decode(new Uint8Array(0)), undefined);
  });
  it('refuses bytes that are not UTF-8, in Node as in the browser', () => {
    assert.throws(() => json.decode(new Uint8Array([0x5b, 0xff, 0x5d])));
  });
  it('reads tags only where they are, and plain text without the reviver the same', () => {
    assert.deepEqual(json.decode(json.encode([1, 'a$', { $x: 1 }])), [1, 'a$', { $x: 1 }]);
    const [big, bytes] = json.decode(json.encode([10n, new Uint8Array([1, 2])])) as [bigint, Uint8Array];
    assert.equal(big, 10n);
    assert.deepEqual([...bytes], [1, 2]);
  });
});

describe('json fast path', () => {
  const json = jsonSerializer();
  it('writes short arrays of plain values as JSON does, and everything else through the tags', () => {
    assert.equal(new TextDecoder().decode(json.encode([1, 'a', true, null])), '[1,"a",true,null]');
    assert.equal(new TextDecoder().decode(json.encode([1, -0])), '[1,{"$number":"-0"}]');
    assert.equal(new TextDecoder().decode(json.encode([NaN])), '[{"$number":"NaN"}]');
    assert.equal(new TextDecoder().decode(json.encode([undefined])), '[{"$undefined":true}]');
    // An array of its own toJSON takes the replacer's way, as before the fast path.
    const own = Object.assign([1], { toJSON: () => [2n] });
    assert.equal(new TextDecoder().decode(json.encode(own)), '[{"$bigint":"2"}]');
  });
});
