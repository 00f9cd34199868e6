import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, Metadata, RpcError, defineService, resultCache, type Handler, type Invocation } from '../../src/index.js';

// The interceptor called directly on a handler, no transport: what reaches the handler is exactly
// what the cache let through.

interface Lookup {
  find(...args: unknown[]): Promise<unknown>;
}
const LookupService = defineService<Lookup>('test.Lookup', { methods: { find: {} } });

function call(args: unknown[], overrides: Partial<Invocation> = {}): Invocation {
  const metadata = new Metadata();
  return { service: LookupService, method: 'find', args, metadata, responseMetadata: new Metadata(), deadline: undefined, signal: undefined, oneWay: false, ...overrides };
}

/** A cache over a handler that records the arguments of every call that reaches it. */
function cached(answer: (args: unknown[]) => Promise<unknown> = async (args) => ({ seen: args.length })) {
  const upstream: unknown[][] = [];
  const cache = resultCache({ services: { [LookupService.id]: {} } });
  const handler = cache(async (invocation) => {
    upstream.push(invocation.args);
    return answer(invocation.args);
  });
  return { cache, upstream, find: (...args: unknown[]) => handler(call(args)) };
}

test('values that differ never share an entry: 1 and "1", 1n and 1, a Date and its ISO string, -0 and 0, a Map and an object, undefined and null', async () => {
  const { find, upstream } = cached();
  const date = new Date(Date.UTC(2024, 0, 2));
  const distinct: unknown[][] = [[1], ['1'], [1n], [date], [date.toISOString()], [-0], [0], [new Map([['a', 1]])], [{ a: 1 }], [undefined], [null], [[1, 2]], [new Set([1, 2])], [true], ['true']];
  for (const args of distinct) await find(...args);
  assert.equal(upstream.length, distinct.length, 'each went upstream');
  for (const args of distinct) await find(...args);
  assert.equal(upstream.length, distinct.length, 'and each is then answered from its own entry');
});

test('object arguments share an entry whatever the order of their keys, nested too', async () => {
  const { find, upstream } = cached();
  await find({ a: 1, b: { c: [1, 2], d: 'x' } });
  await find({ b: { d: 'x', c: [1, 2] }, a: 1 });
  assert.equal(upstream.length, 1);
  await find({ a: 1, b: { c: [2, 1], d: 'x' } });
  assert.equal(upstream.length, 2, 'array order still matters');
});

test('concurrent identical calls share one upstream call and its result', async () => {
  let release: (value: unknown) => void = () => {};
  const { cache, find, upstream } = cached(() => new Promise((resolve) => (release = resolve)));
  const calls = Array.from({ length: 10 }, () => find('same', 1));
  assert.equal(upstream.length, 1);
  release({ answer: 42 });
  const results = await Promise.all(calls);
  for (const result of results) assert.equal(result, results[0], 'every caller got the one result');
  assert.deepEqual(results[0], { answer: 42 });
  assert.deepEqual(cache.stats(), { hits: 0, misses: 1, coalesced: 9, size: 1 });
});

test('an error is shared by the calls that joined it and never cached', async () => {
  let fail: (error: unknown) => void = () => {};
  const { cache, find, upstream } = cached(() => new Promise((_, reject) => (fail = reject)));
  const calls = Array.from({ length: 3 }, () => find('boom'));
  fail(new RpcError(Code.UNAVAILABLE, 'down'));
  for (const outcome of await Promise.allSettled(calls)) {
    assert.equal(outcome.status, 'rejected');
    assert.equal((outcome.reason as RpcError).code, Code.UNAVAILABLE);
  }
  assert.equal(upstream.length, 1);
  assert.equal(cache.stats().size, 0);
  const next = find('boom');
  assert.equal(upstream.length, 2, 'the next call goes upstream again');
  fail(new RpcError(Code.UNAVAILABLE, 'still down'));
  await assert.rejects(next, { code: Code.UNAVAILABLE });
});

test('a handler that throws before returning a promise fails that call only and leaves nothing behind', async () => {
  const cache = resultCache({ services: { [LookupService.id]: {} } });
  let throwNow = true;
  const handler = cache((() => {
    if (throwNow) throw new RpcError(Code.INTERNAL, 'sync');
    return Promise.resolve('ok');
  }) as Handler);
  await assert.rejects(handler(call(['x'])), { code: Code.INTERNAL });
  throwNow = false;
  assert.equal(await handler(call(['x'])), 'ok');
  assert.deepEqual(cache.stats(), { hits: 0, misses: 2, coalesced: 0, size: 1 });
});

test('undefined and null results are cached like any other', async () => {
  const { find, upstream } = cached(async ([kind]) => (kind === 'u' ? undefined : null));
  assert.equal(await find('u'), undefined);
  assert.equal(await find('n'), null);
  assert.equal(await find('u'), undefined);
  assert.equal(await find('n'), null);
  assert.equal(upstream.length, 2);
});

test('arguments without a stable key bypass the cache', async () => {
  const { cache, find, upstream } = cached();
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  await find(cyclic);
  await find(cyclic);
  await find(() => 1);
  assert.equal(upstream.length, 3);
  assert.deepEqual(cache.stats(), { hits: 0, misses: 0, coalesced: 0, size: 0 });
});

test('invalidating a call in flight keeps its result out and lets the next call go upstream', async () => {
  const releases: Array<(value: unknown) => void> = [];
  const { cache, find, upstream } = cached(() => new Promise((resolve) => releases.push(resolve)));
  const first = find(7);
  assert.equal(cache.invalidate(LookupService, 'find', [7]), 0, 'a call in flight is not a result');
  const second = find(7);
  assert.equal(upstream.length, 2, 'the second call did not join the invalidated one');
  releases[0]!('old');
  releases[1]!('new');
  assert.equal(await first, 'old');
  assert.equal(await second, 'new');
  assert.equal(await find(7), 'new');
  assert.equal(upstream.length, 2);
});
