import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MethodCache } from '../../src/interceptors/method-cache.js';

/** Starts a call for `key` that succeeds with `value`, and waits for it to be stored. */
async function fill(cache: MethodCache, key: string, value: unknown): Promise<void> {
  const promise = Promise.resolve(value);
  cache.start(key, promise, undefined);
  await promise;
  await Promise.resolve();
}

test('the least recently used result goes first; a lookup makes a result the most recent', async () => {
  const cache = new MethodCache(Infinity, 3);
  for (const key of ['a', 'b', 'c']) await fill(cache, key, key.toUpperCase());
  assert.equal(cache.find('a')?.value, 'A');
  await fill(cache, 'd', 'D'); // evicts b, the least recently used
  assert.equal(cache.find('b'), undefined);
  await fill(cache, 'e', 'E'); // evicts c
  assert.equal(cache.find('c'), undefined);
  assert.deepEqual(['a', 'd', 'e'].map((key) => cache.find(key)?.value), ['A', 'D', 'E']);
  assert.equal(cache.size, 3);
});

test('a call in flight holds a place: found while pending, its result kept, its failure removed', async () => {
  const cache = new MethodCache(Infinity, 10);
  let succeed: (value: unknown) => void = () => {};
  const pending = new Promise((resolve) => (succeed = resolve));
  cache.start('k', pending, 1234);
  const found = cache.find('k');
  assert.equal(found?.promise, pending);
  assert.equal(found?.deadline, 1234);
  assert.equal(cache.size, 0, 'a call in flight is not a result');
  succeed(42);
  await pending;
  await Promise.resolve();
  assert.equal(cache.find('k')?.promise, undefined);
  assert.equal(cache.find('k')?.value, 42);

  const failing = Promise.reject(new Error('no'));
  cache.start('f', failing, undefined);
  await failing.catch(() => {});
  await Promise.resolve();
  assert.equal(cache.find('f'), undefined);
});

test('results expire after ttlMs; undefined and null are results like any other', async () => {
  const cache = new MethodCache(40, 10);
  await fill(cache, 'u', undefined);
  await fill(cache, 'n', null);
  assert.equal(cache.find('u')?.promise, undefined);
  assert.equal(cache.find('n')?.value, null);
  assert.equal(cache.size, 2);
  await sleep(80);
  assert.equal(cache.size, 0);
  assert.equal(cache.find('u'), undefined);
});

test('delete and clear drop results and calls in flight; a dropped call in flight stores nothing', async () => {
  const cache = new MethodCache(Infinity, 10);
  await fill(cache, 'a', 1);
  await fill(cache, 'b', 2);
  assert.equal(cache.delete('a'), 1);
  assert.equal(cache.delete('a'), 0);
  let succeed: (value: unknown) => void = () => {};
  const pending = new Promise((resolve) => (succeed = resolve));
  cache.start('p', pending, undefined);
  assert.equal(cache.delete('p'), 0, 'a call in flight is not counted as a result');
  succeed(3);
  await pending;
  await Promise.resolve();
  assert.equal(cache.find('p'), undefined);
  assert.equal(cache.clear(), 1);
  assert.equal(cache.find('b'), undefined);
  await fill(cache, 'c', 4);
  assert.equal(cache.find('c')?.value, 4, 'usable after clear');
});

test('a failure of an earlier call does not remove a newer one for the same key', async () => {
  const cache = new MethodCache(Infinity, 10);
  let fail: (error: Error) => void = () => {};
  const first = new Promise((_, reject) => (fail = reject));
  first.catch(() => {});
  cache.start('k', first, undefined);
  cache.delete('k');
  await fill(cache, 'k', 'second');
  fail(new Error('late'));
  await first.catch(() => {});
  await Promise.resolve();
  assert.equal(cache.find('k')?.value, 'second');
});

test('a call for a key that started while another was starting replaces it cleanly', async () => {
  const cache = new MethodCache(Infinity, 2);
  cache.start('k', new Promise(() => {}), undefined);
  await fill(cache, 'k', 'later'); // the same key again without a find() in between
  await fill(cache, 'x', 1);
  assert.equal(cache.find('k')?.value, 'later'); // k is now the most recent, x the least
  await fill(cache, 'y', 2); // evicts x; the replaced entry of k left nothing behind to evict instead
  assert.equal(cache.find('x'), undefined);
  assert.deepEqual([cache.find('k')?.value, cache.find('y')?.value], ['later', 2]);
  assert.equal(cache.size, 2);
});
