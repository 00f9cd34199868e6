import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stableKey } from '../../src/core/stable-key.js';
import { mulberry32 } from '../support/random.js';

test('object keys in any order give the same key, nested too', () => {
  assert.equal(stableKey([{ a: 1, b: { c: 2, d: [3, 4] } }]), stableKey([{ b: { d: [3, 4], c: 2 }, a: 1 }]));
  assert.notEqual(stableKey([{ a: 1, b: 2 }]), stableKey([{ a: 2, b: 1 }]));
  assert.notEqual(stableKey([{ a: 1 }]), stableKey([{ a: 1, b: undefined }]), 'an undefined property is sent, so it is part of the key');
});

test('types are told apart: numbers, bigints, strings, booleans, null, undefined, dates', () => {
  const keys = [1, 1n, '1', true, 'true', null, undefined, new Date(1), [1], { 0: 1 }, -0, 0, NaN, Infinity].map((value) => stableKey([value]));
  assert.equal(new Set(keys).size, keys.length, keys.join(' | '));
  assert.equal(stableKey([new Date(5)]), stableKey([new Date(5)]));
  assert.equal(stableKey([10n ** 30n]), stableKey([10n ** 30n]));
});

test('byte arrays are keyed by their bytes; a Buffer and a Uint8Array with the same bytes agree', () => {
  const bytes = new Uint8Array([1, 2, 3]);
  assert.equal(stableKey([bytes]), stableKey([new Uint8Array([1, 2, 3])]));
  assert.equal(stableKey([bytes]), stableKey([Buffer.from([1, 2, 3])]));
  assert.equal(stableKey([new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4)]), stableKey([bytes]), 'a view counts only its own bytes');
  assert.notEqual(stableKey([bytes]), stableKey([new Uint8Array([1, 2, 4])]));
  assert.notEqual(stableKey([bytes]), stableKey([[1, 2, 3]]));
  assert.notEqual(stableKey([new Uint16Array([1])]), stableKey([new Int16Array([1])]));
  assert.equal(stableKey([new Float64Array([0.5]).buffer]), stableKey([new Float64Array([0.5]).buffer]));
});

test('Maps and Sets are keyed by their contents, whatever the insertion order', () => {
  assert.equal(stableKey([new Map<unknown, unknown>([['b', 2], [1, 'a']])]), stableKey([new Map<unknown, unknown>([[1, 'a'], ['b', 2]])]));
  assert.equal(stableKey([new Set([3, 1, 2])]), stableKey([new Set([1, 2, 3])]));
  assert.notEqual(stableKey([new Set([1, 2])]), stableKey([[1, 2]]));
  assert.notEqual(stableKey([new Map([['a', 1]])]), stableKey([{ a: 1 }]));
  assert.notEqual(stableKey([new Map([[1, 'x']])]), stableKey([new Map([['1', 'x']])]));
});

test('argument position matters and strings cannot fake structure', () => {
  assert.notEqual(stableKey([1, 2]), stableKey([2, 1]));
  assert.notEqual(stableKey(['a,b']), stableKey(['a', 'b']));
  assert.notEqual(stableKey([{ 'a":1,"b': 2 }]), stableKey([{ a: 1, b: 2 }]));
  assert.notEqual(stableKey([[]]), stableKey([]));
});

test('values with no stable key give undefined: functions, symbols, cycles, errors, promises', () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  for (const value of [() => 1, Symbol('s'), cyclic, new Error('x'), Promise.resolve(1), new WeakMap()]) {
    assert.equal(stableKey([value]), undefined);
  }
  const shared = { a: 1 };
  assert.equal(typeof stableKey([shared, { x: shared }]), 'string', 'an object seen twice without a cycle is fine');
});

test('class instances are keyed by their own enumerable properties and class name', () => {
  class Money {
    constructor(
      readonly amount: number,
      readonly currency: string,
    ) {}
  }
  assert.equal(stableKey([new Money(5, 'EUR')]), stableKey([new Money(5, 'EUR')]));
  assert.notEqual(stableKey([new Money(5, 'EUR')]), stableKey([new Money(5, 'USD')]));
  assert.notEqual(stableKey([new Money(5, 'EUR')]), stableKey([{ amount: 5, currency: 'EUR' }]));
  assert.equal(stableKey([Object.assign(Object.create(null) as object, { a: 1 })]), stableKey([{ a: 1 }]));
});

test('the key rules of the result cache: what differs never shares a key, key order never matters', () => {
  const date = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));
  const differ: Array<[unknown, unknown, string]> = [
    [1, '1', 'a number and a string'],
    [1n, 1, 'a bigint and a number'],
    [date, date.toISOString(), 'a Date and its ISO string'],
    [date, date.getTime(), 'a Date and its time'],
    [-0, 0, '-0 and 0 (a method can tell them apart)'],
    [new Map([['a', 1]]), { a: 1 }, 'a Map and an object'],
    [undefined, null, 'undefined and null'],
    [{ a: undefined }, { a: null }, 'undefined and null inside an object'],
    [[undefined], [null], 'undefined and null inside an array'],
    ['', [], 'an empty string and an empty array'],
    [new Uint8Array([1]), new Int8Array([1]), 'two kinds of typed array with the same bytes'],
  ];
  for (const [a, b, what] of differ) assert.notEqual(stableKey([a]), stableKey([b]), what);
  assert.equal(stableKey([NaN]), stableKey([Number('not a number')]), 'NaNs cannot be told apart');
  assert.equal(stableKey([{ x: 1, y: { p: [1, { q: 2, r: 3 }] } }]), stableKey([{ y: { p: [1, { r: 3, q: 2 }] }, x: 1 }]));
});

test('no string argument, however it is written, gets the key of other values', () => {
  // Strings made of the key format's own pieces, against the values they might pass for.
  const tricky = ['', ',', ']', '[', '}', '{', ':', '1:', 's1:a', '#1', 'u', 'z', 't', 'f', 'n1', '=>', 'a,s1:b', '{1:a#1}', '0:', '\u0000'];
  const values: unknown[] = [...tricky, 'a', 'b', 1, 0, -0, 1n, true, false, null, undefined, [], {}, ['a'], ['a', 'b'], { a: 1 }, { a: '1' }];
  const random = mulberry32(3);
  const pick = () => values[Math.floor(random() * values.length)];
  const make = (depth: number): unknown => {
    const roll = random();
    if (depth > 2 || roll < 0.5) return pick();
    if (roll < 0.7) return Array.from({ length: Math.floor(random() * 3) }, () => make(depth + 1));
    if (roll < 0.85) return Object.fromEntries(Array.from({ length: Math.floor(random() * 3) }, () => [String(pick()), make(depth + 1)]));
    return new Map(Array.from({ length: Math.floor(random() * 3) }, () => [make(depth + 1), make(depth + 1)]));
  };
  // A reference form that is plainly one-to-one: type-tagged JSON with object keys sorted.
  const reference = (value: unknown): unknown => {
    if (value === undefined) return ['undefined'];
    if (typeof value === 'bigint') return ['bigint', String(value)];
    if (typeof value === 'number') return ['number', Object.is(value, -0) ? '-0' : String(value)];
    if (typeof value !== 'object' || value === null) return [typeof value, value];
    if (Array.isArray(value)) return ['array', value.map(reference)];
    if (value instanceof Map) return ['map', [...value].map(([k, v]) => JSON.stringify([reference(k), reference(v)])).sort()];
    return ['object', Object.keys(value).sort().map((k) => [k, reference((value as Record<string, unknown>)[k])])];
  };
  const byKey = new Map<string, string>();
  for (let i = 0; i < 20_000; i++) {
    const args = Array.from({ length: 1 + Math.floor(random() * 3) }, () => make(0));
    const key = stableKey(args)!;
    const form = JSON.stringify(reference(args));
    const seen = byKey.get(key);
    if (seen !== undefined) assert.equal(seen, form, `two different argument lists share the key ${key}`);
    byKey.set(key, form);
  }
  const forms = new Set(byKey.values());
  assert.equal(forms.size, byKey.size, 'two keys for one argument list');
});
