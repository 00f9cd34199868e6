import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Code } from '../../src/index.js';
import { flatbuffersMessage } from '../../src/serialization/flatbuffers/message.js';
import { defineServiceFromFbs } from '../../src/serialization/flatbuffers/service.js';
import { hasCode } from '../support/assertions.js';
import { compileSchemas, ensureFlatc, fixtures, flatc } from './flatbuffers-fixtures.js';

ensureFlatc();
const scratch = mkdtempSync(join(tmpdir(), 'sy-fbs-schema-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A schema file of `text` in the scratch folder. */
function schemaFile(name: string, text: string): string {
  const file = join(scratch, name);
  writeFileSync(file, text);
  return file;
}

describe('FlatBuffers schemas', () => {
  test('an rpc_service becomes a definition: rpc names in lowerCamelCase, streaming from the schema', () => {
    const orders = defineServiceFromFbs(fixtures.shop, 'shop.Orders', { version: '2.0.0', methods: { place: { timeoutMs: 500 } } });
    assert.equal(orders.id, 'shop.Orders:2.0.0');
    assert.deepEqual([...orders.methods.keys()], ['place', 'track', 'placeMany', 'haggle', 'echo']);
    assert.equal(orders.methods.get('place')!.timeoutMs, 500);
    assert.equal(orders.methods.get('place')!.stream, undefined);
    assert.equal(orders.methods.get('track')!.stream, 'server');
    assert.equal(orders.methods.get('placeMany')!.stream, 'client');
    assert.equal(orders.methods.get('haggle')!.stream, 'bidi');
  });

  test('a .bfbs flatc wrote (scripts/flatc.sh compile) is read without flatc, from a file or as bytes, and gives the same messages', (t) => {
    const compiled = compileSchemas(fixtures.kinds);
    t.after(() => compiled.remove());
    const bfbs = join(compiled.dir, 'kinds.bfbs');
    const fromFbs = flatbuffersMessage(fixtures.kinds, 'sy.kinds.Kinds');
    const value = { i64: 5n, text: 'x', leaf: { name: 'l', value: 1 }, stamp: { seconds: 1n, zone: 'Z' } };
    for (const source of [bfbs, readFileSync(bfbs)]) {
      const fromBfbs = flatbuffersMessage(source, 'sy.kinds.Kinds', { flatc: '/nonexistent/flatc' });
      assert.deepStrictEqual(fromBfbs.decode(fromFbs.encode(value)), fromFbs.decode(fromBfbs.encode(value)));
    }
  });

  test('flatc reads what Switchyard writes', () => {
    const Kinds = flatbuffersMessage(fixtures.kinds, 'sy.kinds.Kinds');
    const bin = join(scratch, 'written.bin');
    writeFileSync(bin, Kinds.encode({
      i64: -7n, u64: 2n ** 64n - 1n, text: 'héllo', data: Buffer.from([1, 255]), color: 'Blue',
      cell: { id: 3n, pos: { x: 1, y: 2, z: 3 }, color: 'Red', weights: [1, -2, 3] },
      shape: { type: 'Leaf', value: { name: 'in union', value: -1 } }, ratio: -0.5, maybe: 0,
    }));
    flatc(['--json', '--strict-json', '--raw-binary', '--root-type', 'sy.kinds.Kinds', '-o', scratch, '-I', fixtures.dir, fixtures.kinds, '--', bin]);
    const text = readFileSync(join(scratch, 'written.json'), 'utf8');
    assert.match(text, /"u64": 18446744073709551615/, 'the ulong keeps all its bits');
    const json = JSON.parse(text) as Record<string, unknown>;
    assert.deepStrictEqual(
      { i64: json.i64, text: json.text, data: json.data, color: json.color, cell: json.cell, shapeType: json.shape_type, shape: json.shape, ratio: json.ratio, maybe: json.maybe },
      { i64: -7, text: 'héllo', data: [1, 255], color: 'Blue', cell: { id: 3, pos: { x: 1, y: 2, z: 3 }, color: 'Red', weights: [1, -2, 3] }, shapeType: 'Leaf', shape: { name: 'in union', value: -1 }, ratio: -0.5, maybe: 0 },
    );
  });

  test('Switchyard reads what flatc writes', () => {
    const json = schemaFile('from-flatc.json', JSON.stringify({
      flag: true, u32: 4294967295, text: 'from flatc', signed_bytes: [-1, 1], texts: ['a', 'b'], colors: ['Blue', 'Red'],
      cells: [{ id: 7, pos: { x: 0.5, y: 0, z: 0 }, color: 'Blue', weights: [4, 5, 6] }],
      leaves: [{ name: 'x', value: 2 }], shape_type: 'Image', shape: { data: [3, 4], width: 9 }, stamp: { seconds: 1, zone: 'CET' },
    }));
    flatc(['--binary', '--root-type', 'sy.kinds.Kinds', '-o', scratch, '-I', fixtures.dir, fixtures.kinds, json]);
    const read = flatbuffersMessage(fixtures.kinds, 'sy.kinds.Kinds').decode(readFileSync(join(scratch, 'from-flatc.bin')));
    assert.equal(read.flag, true);
    assert.equal(read.u32, 4294967295);
    assert.equal(read.text, 'from flatc');
    assert.deepStrictEqual(read.signedBytes, [-1, 1]);
    assert.deepStrictEqual(read.texts, ['a', 'b']);
    assert.deepStrictEqual(read.colors, ['Blue', 'Red']);
    assert.deepStrictEqual(read.cells, [{ id: 7n, pos: { x: 0.5, y: 0, z: 0 }, color: 'Blue', weights: [4, 5, 6] }]);
    assert.deepStrictEqual(read.leaves, [{ name: 'x', value: 2 }]);
    assert.deepStrictEqual(read.shape, { type: 'Image', value: { data: Buffer.from([3, 4]), width: 9 } });
    assert.deepStrictEqual(read.stamp, { seconds: 1n, zone: 'CET' });
  });

  test('keepCase keeps field names as the schema writes them', () => {
    const Line = flatbuffersMessage(fixtures.shop, 'shop.Line', { keepCase: true });
    assert.deepStrictEqual(Line.decode(Line.encode({ unit_cents: 5n })), { sku: null, title: null, quantity: 0, unit_cents: 5n });
    assert.throws(() => Line.encode({ unitCents: 5n }), hasCode(Code.INVALID_ARGUMENT, /field unitCents/));
  });

  test('a service or table the schema lacks is NOT_FOUND, naming what it has', () => {
    assert.throws(() => defineServiceFromFbs(fixtures.shop, 'shop.Nope'), hasCode(Code.NOT_FOUND, /no rpc_service "shop\.Nope".*it has: shop\.Orders/));
    assert.throws(() => flatbuffersMessage(fixtures.shop, 'shop.Nope'), hasCode(Code.NOT_FOUND));
    assert.throws(() => defineServiceFromFbs(join(scratch, 'missing.fbs'), 'x.Y'), hasCode(Code.NOT_FOUND, /cannot read the FlatBuffers schema/));
  });

  test('options for an rpc the service lacks are refused', () => {
    assert.throws(() => defineServiceFromFbs(fixtures.shop, 'shop.Orders', { methods: { refund: {} } }), hasCode(Code.INVALID_ARGUMENT, /has no rpc refund/));
  });

  test("a schema flatc refuses is INVALID_ARGUMENT with flatc's own message", () => {
    const broken = schemaFile('broken.fbs', 'table T { a: int; }\nrpc_service S { Call(T): Missing; }\n');
    assert.throws(() => defineServiceFromFbs(broken, 'S'), hasCode(Code.INVALID_ARGUMENT, /flatc cannot compile .*broken\.fbs.*Missing/s));
  });

  test('without flatc a .fbs is FAILED_PRECONDITION, saying how to install it or ship a .bfbs', () => {
    assert.throws(() => defineServiceFromFbs(fixtures.shop, 'shop.Orders', { flatc: '/nonexistent/flatc' }), hasCode(Code.FAILED_PRECONDITION, /apt-get install flatbuffers-compiler.*\.bfbs/));
  });

  test('what the codec does not carry is refused when the schema is loaded: vectors of unions, unions of structs', () => {
    const unionVector = schemaFile('union-vector.fbs', 'table A { x: int; }\nunion U { A }\ntable T { us: [U]; }\nrpc_service S { Call(T): T; }\n');
    assert.throws(() => defineServiceFromFbs(unionVector, 'S'), hasCode(Code.INVALID_ARGUMENT, /vector of unions/));
    const structUnion = schemaFile('struct-union.fbs', 'struct P { x: int; }\ntable A { x: int; }\nunion U { A, P }\ntable T { u: U; }\nrpc_service S { Call(T): T; }\n');
    assert.throws(() => defineServiceFromFbs(structUnion, 'S'), hasCode(Code.INVALID_ARGUMENT, /union U has the member P, which is no table/));
  });

  test('bytes that are not a binary schema are refused as one', () => {
    assert.throws(() => flatbuffersMessage(Buffer.from('not a schema at all'), 'x.Y'), hasCode(Code.INVALID_ARGUMENT, /not a binary FlatBuffers schema/));
  });
});
