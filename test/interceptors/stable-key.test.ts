import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stableKey } from '../../src/interceptors/stable-key.js';

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
