import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgKeyWriter } from '../../src/interceptors/arg-key.js';
import { stableKey } from '../../src/core/stable-key.js';

const values: unknown[] = [
  0, -0, 1, -1, 7, 65535, 65536, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 0.5, -0.5, 1e300, NaN, Infinity, -Infinity,
  '', 'a', '1', '0', 'true', 'null', 'a,b', '€uro', 'x'.repeat(100), '\u0000', '\uffff',
  true, false, null, undefined, 1n, 0n, -(2n ** 70n),
  [], [1], [[1]], ['1'], { a: 1 }, { a: '1' }, { b: 2, a: 1 }, { a: 1, b: 2 }, new Date(1), new Uint8Array([1]), Buffer.from([1]),
  new Map([[1, 2]]), new Set([1]),
];

function units(args: unknown[]): string | undefined {
  const writer = new ArgKeyWriter();
  return writer.write(args) ? Array.from(writer.units.subarray(0, writer.length)).join('.') : undefined;
}

test('two argument lists get the same units exactly when stableKey gives them the same key', () => {
  const lists: unknown[][] = [[], ...values.map((value) => [value])];
  for (const a of values) for (const b of values.slice(0, 20)) lists.push([a, b]);
  lists.push([1, 2, 3], [12, 3], ['1', 2, 3], [1, '2,3'], [[1, 2], 3], [undefined], [undefined, undefined]);
  const byUnits = new Map<string, string>();
  const byStableKey = new Map<string, string>();
  for (const list of lists) {
    const [u, k] = [units(list)!, stableKey(list)!];
    assert.ok(u !== undefined && k !== undefined);
    if (byUnits.has(u)) assert.equal(byUnits.get(u), k, `same units, different stableKey: ${k}`);
    if (byStableKey.has(k)) assert.equal(byStableKey.get(k), u, `same stableKey, different units: ${k}`);
    byUnits.set(u, k);
    byStableKey.set(k, u);
  }
  assert.equal(units([{ b: 2, a: 1 }]), units([{ a: 1, b: 2 }]), 'objects are keyed by content, not key order');
  assert.notEqual(units([0]), units([-0]));
  assert.equal(units([NaN]), units([Number('x')]));
});

test('arguments without a stable key are refused, and the writer stays usable', () => {
  const writer = new ArgKeyWriter();
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  for (const args of [[() => 1], [Symbol('s')], [1, new Error('e')], [cyclic], [Promise.resolve()]]) assert.equal(writer.write(args), false);
  assert.equal(writer.write(['long', 'x'.repeat(10_000)]), true, 'the buffer grows for long arguments');
  // Each string's tag, length and code units, with a tag between the two.
  assert.equal(writer.length, 3 + 4 + 1 + 3 + 10_000);
  assert.equal(writer.write([1]), true);
  assert.equal(writer.length, 4, 'a number tag, its int tag and its two units');
});
