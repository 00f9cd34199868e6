import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallList, type Listed } from '../../src/core/call-list.js';

class Item implements Listed<Item> {
  listPrev: Item | undefined = undefined;
  listNext: Item | undefined = undefined;
  constructor(readonly name: string) {}
}

const names = (list: CallList<Item>) => list.toArray().map((item) => item.name).sort();

test('a call list holds what was added until it is deleted, from any place', () => {
  const list = new CallList<Item>();
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => new Item(name)) as [Item, Item, Item, Item];
  for (const item of [a, b, c, d]) list.add(item);
  assert.equal(list.size, 4);
  list.delete(c); // middle
  assert.deepEqual(names(list), ['a', 'b', 'd']);
  list.delete(d); // head (the last added)
  assert.deepEqual(names(list), ['a', 'b']);
  list.delete(a); // tail
  assert.deepEqual(names(list), ['b']);
  list.delete(b);
  assert.equal(list.size, 0);
  assert.deepEqual(list.toArray(), []);
});

test('deleting twice, or deleting an item never added, changes nothing', () => {
  const list = new CallList<Item>();
  const a = new Item('a');
  const b = new Item('b');
  list.add(a);
  list.add(b);
  list.delete(a);
  list.delete(a);
  list.delete(new Item('x'));
  assert.equal(list.size, 1);
  assert.deepEqual(names(list), ['b']);
});

test('a walk over the copy may delete every item as it goes', () => {
  const list = new CallList<Item>();
  for (let i = 0; i < 100; i++) list.add(new Item(String(i)));
  let seen = 0;
  for (const item of list.toArray()) {
    list.delete(item);
    seen++;
  }
  assert.equal(seen, 100);
  assert.equal(list.size, 0);
});

test('an item deleted can be added again', () => {
  const list = new CallList<Item>();
  const a = new Item('a');
  list.add(a);
  list.delete(a);
  list.add(a);
  assert.deepEqual(names(list), ['a']);
  assert.equal(list.size, 1);
});
