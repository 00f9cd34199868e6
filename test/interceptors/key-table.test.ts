import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyTable } from '../../src/interceptors/key-table.js';
import { MethodCache, NONE } from '../../src/interceptors/method-cache.js';
import { keyOf } from '../support/keys.js';
import { mulberry32 } from '../support/random.js';

test('the key table agrees with a Map through growth and heavy churn, deletions in every order', () => {
  const random = mulberry32(7);
  const table = new KeyTable();
  const model = new Map<string, number>();
  const freeSlots: number[] = [];
  let nextSlot = 0;
  // Keys from a small space so that sets, hits, misses and deletions all happen often: short ones
  // kept inline, long ones (over 16 units) apart, sharing a long prefix.
  const randomKey = () => (random() < 0.5 ? `k${Math.floor(random() * 600)}` : `[#${Math.floor(random() * 600)},"shared prefix of a long key"]`);
  for (let step = 0; step < 60_000; step++) {
    const key = randomKey();
    const had = model.get(key);
    assert.equal(table.get(keyOf(key), KeyTable.hash(keyOf(key))), had ?? -1, `step ${step}: get ${key}`);
    if (had === undefined && (model.size < 400 || random() < 0.3)) {
      const slot = freeSlots.pop() ?? nextSlot++;
      table.set(keyOf(key), KeyTable.hash(keyOf(key)), slot);
      model.set(key, slot);
    } else if (had !== undefined && random() < 0.7) {
      table.delete(had);
      model.delete(key);
      freeSlots.push(had);
    }
    assert.equal(table.size, model.size);
  }
  for (const [key, slot] of model) assert.equal(table.get(keyOf(key), KeyTable.hash(keyOf(key))), slot);
});

test('the method cache agrees with a simple LRU model under random calls, failures and deletions', async () => {
  const random = mulberry32(11);
  const max = 50;
  const cache = new MethodCache(Infinity, max);
  const model: string[] = []; // keys held, least recent first
  const values = new Map<string, number>();
  const touch = (key: string) => {
    model.splice(model.indexOf(key), 1);
    model.push(key);
  };
  for (let step = 0; step < 20_000; step++) {
    const key = `key-${Math.floor(random() * 120)}`;
    const roll = random();
    const slot = cache.find(keyOf(key));
    assert.equal(slot === NONE, !values.has(key), `step ${step}: ${key} held`);
    if (slot !== NONE) {
      assert.equal(cache.valueAt(slot), values.get(key));
      touch(key);
      if (roll < 0.1) {
        assert.equal(cache.delete(keyOf(key)), 1);
        model.splice(model.indexOf(key), 1);
        values.delete(key);
      }
      continue;
    }
    // A call in flight takes its place at once, so starting one evicts even if it then fails.
    if (model.length === max) values.delete(model.shift()!);
    const fails = roll < 0.1;
    const outcome = fails ? Promise.reject(new Error('no')) : Promise.resolve(step);
    outcome.catch(() => {});
    cache.start(keyOf(key), outcome, undefined);
    await outcome.catch(() => {});
    await Promise.resolve();
    if (fails) continue;
    model.push(key);
    values.set(key, step);
  }
  assert.equal(cache.size, model.length);
});
