import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MethodCache, NONE } from '../../src/interceptors/method-cache.js';
import { keyOf } from '../support/keys.js';

const missing = Symbol('missing');

/** The result held for `key`, or `missing`; a lookup like any other (it makes the key the most recent). */
function valueFor(cache: MethodCache, key: string): unknown {
  const slot = cache.find(keyOf(key));
  return slot === NONE ? missing : cache.valueAt(slot);
}

/** Starts a call for `key` that succeeds with `value`, and waits for it to be stored. */
async function fill(cache: MethodCache, key: string, value: unknown): Promise<void> {
  const promise = Promise.resolve(value);
  cache.start(keyOf(key), promise, undefined);
  await promise;
  await Promise.resolve();
}

test('the least recently used result goes first; a lookup makes a result the most recent', async () => {
  const cache = new MethodCache(Infinity, 3);
  for (const key of ['a', 'b', 'c']) await fill(cache, key, key.toUpperCase());
  assert.equal(valueFor(cache, 'a'), 'A');
  await fill(cache, 'd', 'D'); // evicts b, the least recently used
  assert.equal(cache.find(keyOf('b')), NONE);
  await fill(cache, 'e', 'E'); // evicts c
  assert.equal(cache.find(keyOf('c')), NONE);
  assert.deepEqual(['a', 'd', 'e'].map((key) => valueFor(cache, key)), ['A', 'D', 'E']);
  assert.equal(cache.size, 3);
});

test('a call in flight holds a place: found while pending, its result kept, its failure removed', async () => {
  const cache = new MethodCache(Infinity, 10);
  let succeed: (value: unknown) => void = () => {};
  const pending = new Promise((resolve) => (succeed = resolve));
  cache.start(keyOf('k'), pending, 1234);
  const found = cache.find(keyOf('k'));
  assert.equal(cache.pendingAt(found), pending);
  assert.equal(cache.deadlineAt(found), 1234);
  assert.equal(cache.size, 0, 'a call in flight is not a result');
  succeed(42);
  await pending;
  await Promise.resolve();
  assert.equal(cache.pendingAt(cache.find(keyOf('k'))), undefined);
  assert.equal(valueFor(cache, 'k'), 42);

  const failing = Promise.reject(new Error('no'));
  cache.start(keyOf('f'), failing, undefined);
  await failing.catch(() => {});
  await Promise.resolve();
  assert.equal(cache.find(keyOf('f')), NONE);
});

test('results expire after ttlMs; undefined and null are results like any other', async () => {
  const cache = new MethodCache(40, 10);
  await fill(cache, 'u', undefined);
  await fill(cache, 'n', null);
  assert.notEqual(cache.find(keyOf('u')), NONE);
  assert.equal(cache.pendingAt(cache.find(keyOf('u'))), undefined);
  assert.equal(valueFor(cache, 'u'), undefined);
  assert.equal(valueFor(cache, 'n'), null);
  assert.equal(cache.size, 2);
  await sleep(80);
  assert.equal(cache.size, 0);
  assert.equal(cache.find(keyOf('u')), NONE);
});

test('delete and clear drop results and calls in flight; a dropped call in flight stores nothing', async () => {
  const cache = new MethodCache(Infinity, 10);
  await fill(cache, 'a', 1);
  await fill(cache, 'b', 2);
  assert.equal(cache.delete(keyOf('a')), 1);
  assert.equal(cache.delete(keyOf('a')), 0);
  let succeed: (value: unknown) => void = () => {};
  const pending = new Promise((resolve) => (succeed = resolve));
  cache.start(keyOf('p'), pending, undefined);
  assert.equal(cache.delete(keyOf('p')), 0, 'a call in flight is not counted as a result');
  succeed(3);
  await pending;
  await Promise.resolve();
  assert.equal(cache.find(keyOf('p')), NONE);
  assert.equal(cache.clear(), 1);
  assert.equal(cache.find(keyOf('b')), NONE);
  await fill(cache, 'c', 4);
  assert.equal(valueFor(cache, 'c'), 4, 'usable after clear');
});

test('a failure of an earlier call does not remove a newer one for the same key', async () => {
  const cache = new MethodCache(Infinity, 10);
  let fail: (error: Error) => void = () => {};
  const first = new Promise((_, reject) => (fail = reject));
  first.catch(() => {});
  cache.start(keyOf('k'), first, undefined);
  cache.delete(keyOf('k'));
  await fill(cache, 'k', 'second');
  fail(new Error('late'));
  await first.catch(() => {});
  await Promise.resolve();
  assert.equal(valueFor(cache, 'k'), 'second');
});
