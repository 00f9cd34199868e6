import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { z } from 'zod';
import { defineService } from '../../src/index.js';
import { valueCases } from '../../src/conformance/values.js';
import { decodeElement } from '../../src/transport/http/xml/decode.js';
import { encodeElement } from '../../src/transport/http/xml/encode.js';
import { decodeName, encodeName } from '../../src/transport/http/xml/names.js';
import { parseXml } from '../../src/transport/http/xml/tree.js';
import { startHttpServer } from '../support/http.js';
import { argsBody, NS, postXml, resultOf } from './xml-support.js';

interface Values {
  same(value: unknown): Promise<unknown>;
  received(value: unknown): Promise<string>;
  make(name: string): Promise<unknown>;
  order(item: { sku: string; qty: number; when: Date; id: bigint; gift: boolean; tags: string[]; note?: string | null }, copies: number): Promise<unknown>;
}
const ValuesService = defineService<Values>('test.XmlValues', {
  methods: {
    same: {},
    received: {},
    make: {},
    order: {
      args: [z.object({ sku: z.string(), qty: z.number().int(), when: z.date(), id: z.bigint(), gift: z.boolean(), tags: z.array(z.string()), note: z.string().nullable().optional() }), z.number()],
    },
  },
});

async function start(t: TestContext) {
  const arrived: unknown[] = [];
  const { address } = await startHttpServer(t, {
    setup: (server) => server.provide(ValuesService, {
      same: async (value) => value,
      received: async (value) => {
        arrived.push(value);
        return 'ok';
      },
      make: async (name) => valueCases.find((each) => each.name === name)!.make(),
      order: async (item, copies) => ({ item, copies, types: [typeof item.qty, item.when instanceof Date, typeof item.id, typeof item.gift, typeof copies] }),
    }),
  });
  return { address, arrived };
}

function roundTrip(value: unknown): unknown {
  return decodeElement(parseXml(new TextEncoder().encode(encodeElement('v', value, NS))));
}

test('the XML mapping reads back every kind of value JSON carries, tagged with xsi:type', () => {
  const value = {
    text: ' two  spaces, <tags> & "quotes"\r\nand lines ',
    empty: '',
    numbers: [0, -0, 1.5, -1e300, 5e-324, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER],
    big: [0n, -(10n ** 40n), 2n ** 64n],
    flags: [true, false],
    nothing: null,
    when: new Date('2024-02-29T12:34:56.789Z'),
    bytes: Buffer.from([0, 1, 254, 255]),
    map: new Map<unknown, unknown>([[1, 'one'], [{ k: 'object key' }, [1]]]),
    set: new Set(['a', 2]),
    holes: [1, undefined, 3],
    deep: { a: { b: { c: [[[]], {}] } } },
    'odd key': 1, '1st': 2, 'xmlish': 3, '': 4, 'a:b': 5, '_x0041_': 6, 'ünï€ødé': 7, '__proto__': 8, constructor: 9, toString: 10,
  };
  assert.deepEqual(roundTrip(value), value);
  assert.equal(Object.getPrototypeOf(roundTrip(value)), Object.prototype);
  for (const key of Object.keys(value)) assert.equal(decodeName(encodeName(key)), key, key);
});

test('the XML mapping writes plain XML: text for strings, xsd: types for scalars, sy: types for structures', () => {
  assert.equal(encodeElement('v', 'a<b'), '<v>a&lt;b</v>');
  assert.equal(encodeElement('v', 1.5), '<v xsi:type="xsd:double">1.5</v>');
  assert.equal(encodeElement('v', NaN), '<v xsi:type="xsd:double">NaN</v>');
  assert.equal(encodeElement('v', -Infinity), '<v xsi:type="xsd:double">-INF</v>');
  assert.equal(encodeElement('v', 12n), '<v xsi:type="xsd:integer">12</v>');
  assert.equal(encodeElement('v', null), '<v xsi:nil="true"/>');
  assert.equal(encodeElement('v', new Date(0)), '<v xsi:type="xsd:dateTime">1970-01-01T00:00:00.000Z</v>');
  assert.equal(encodeElement('v', new Uint8Array([104, 105])), '<v xsi:type="xsd:base64Binary">aGk=</v>');
  assert.equal(encodeElement('v', [true]), '<v xsi:type="sy:array"><item xsi:type="xsd:boolean">true</item></v>');
  assert.equal(encodeElement('v', { 'a b': 'x' }), '<v xsi:type="sy:object"><a_x0020_b>x</a_x0020_b></v>');
});

test('elements without xsi:type read as text, or objects when they hold elements; a repeated name makes an array', () => {
  const root = parseXml(new TextEncoder().encode('<order><sku>A1</sku><qty>3</qty><tag>x</tag><tag>y</tag><ship><city>Porto</city></ship></order>'));
  assert.deepEqual(decodeElement(root), { sku: 'A1', qty: '3', tag: ['x', 'y'], ship: { city: 'Porto' } });
});

test('the values of the conformance table arrive over XML, in both directions, as the JSON column says', async (t) => {
  const { address, arrived } = await start(t);
  for (const valueCase of valueCases) {
    const outcome = valueCase.json;
    // As an argument: what the client's writer refuses never leaves it.
    let body: string | undefined;
    try {
      body = argsBody([valueCase.make()]);
    } catch (error) {
      assert.equal(outcome.kind, 'refused', `${valueCase.name} was refused as an argument: ${String(error)}`);
    }
    if (body !== undefined) {
      assert.notEqual(outcome.kind, 'refused', `${valueCase.name} was written as an argument`);
      const response = await postXml(address, '/test.XmlValues/received', body);
      assert.equal(response.status, 200, `${valueCase.name}: ${response.text}`);
      const got = arrived.pop();
      const expected = outcome.kind === 'converted' ? outcome.expect() : valueCase.make();
      if (valueCase.isUnchanged !== undefined && outcome.kind === 'unchanged') assert.ok(valueCase.isUnchanged(got), valueCase.name);
      else assert.deepEqual(got, expected, valueCase.name);
    }
    // As a result.
    const response = await postXml(address, '/test.XmlValues/make', argsBody([valueCase.name]));
    if (outcome.kind === 'refused') {
      assert.equal(response.status, 500, `${valueCase.name}: ${response.text}`);
      assert.match(response.text, /<code>INTERNAL<\/code>.*cannot encode the result/s, valueCase.name);
      continue;
    }
    const expected = outcome.kind === 'converted' ? outcome.expect() : valueCase.make();
    const got = response.status === 204 ? undefined : resultOf(response);
    if (valueCase.isUnchanged !== undefined && outcome.kind === 'unchanged') assert.ok(valueCase.isUnchanged(got), valueCase.name);
    else assert.deepEqual(got, expected, `${valueCase.name}: ${response.text.slice(0, 300)}`);
  }
});

test('a method with schemas reads untyped elements by its schemas: numbers, dates, bigints, booleans and lists from plain text', async (t) => {
  const { address } = await start(t);
  const body = `<args><item><sku>A1</sku><qty> 3 </qty><when>2024-02-29T13:34:56.789+01:00</when><id>123456789012345678901234567890</id><gift>1</gift><tags><t>x</t><t>y</t></tags></item><copies>2.5</copies></args>`;
  const response = await postXml(address, '/test.XmlValues/order', body);
  assert.equal(response.status, 200, response.text);
  assert.deepEqual(resultOf(response), {
    item: { sku: 'A1', qty: 3, when: new Date('2024-02-29T12:34:56.789Z'), id: 123456789012345678901234567890n, gift: true, tags: ['x', 'y'] },
    copies: 2.5,
    types: ['number', true, 'bigint', 'boolean', 'number'],
  });
  const wrong = await postXml(address, '/test.XmlValues/order', body.replace('<qty> 3 </qty>', '<qty>three</qty>'));
  assert.equal(wrong.status, 400);
  assert.match(wrong.text, /element &lt;qty&gt; holds "three"/);
  const badDay = await postXml(address, '/test.XmlValues/order', body.replace('2024-02-29T13', '2023-02-29T13'));
  assert.equal(badDay.status, 400);
  assert.match(badDay.text, /not a time that exists/);
});

test('a root element other than <args> is the single argument, and an array root stays one argument', async (t) => {
  const { address } = await start(t);
  const object = await postXml(address, '/test.XmlValues/same', '<shape><kind>square</kind><size>3</size></shape>');
  assert.deepEqual(resultOf(object), { kind: 'square', size: '3' });
  const list = await postXml(address, '/test.XmlValues/same', encodeElement('list', [1, 2], NS));
  assert.deepEqual(resultOf(list), [1, 2]);
  const text = await postXml(address, '/test.XmlValues/same', '<value>hello</value>');
  assert.equal(resultOf(text), 'hello');
});
