import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, RpcError, defineService, resultCache, type Interceptor, type ResultCacheOptions } from '../../src/index.js';
import { CalculatorService, startClient, startServer, waitUntil } from '../support/calculator.js';

const calc = CalculatorService.id;

/** Caches add, divide, slow and echo of the Calculator, with `settings` for each. */
function calculatorCache(settings: { ttlMs?: number; max?: number } = {}) {
  return resultCache({ services: { [calc]: { methods: { add: settings, divide: settings, slow: settings, echo: settings } } } });
}

interface Catalog {
  search(filter: Record<string, unknown>): Promise<string[]>;
}
const CatalogService = defineService<Catalog>('demo.Catalog', { methods: { search: {} } });

test('the provider sees one call for N cached ones', async (t) => {
  const { address, log } = await startServer(t);
  const cache = calculatorCache();
  const { calc: proxy } = startClient(t, address, { interceptors: [cache] });
  for (let i = 0; i < 20; i++) assert.equal(await proxy.add(1, 2), 3);
  assert.equal(log.calls.length, 1);
  assert.deepEqual(cache.stats(), { hits: 19, misses: 1, coalesced: 0, size: 1 });
  assert.equal(await proxy.add(2, 2), 4, 'other arguments are another entry');
  assert.equal(log.calls.length, 2);
});

test('N concurrent identical calls become one remote call (single flight)', async (t) => {
  const { address, log } = await startServer(t);
  const cache = calculatorCache();
  const { calc: proxy } = startClient(t, address, { interceptors: [cache] });
  const results = await Promise.all(Array.from({ length: 50 }, () => proxy.slow(100)));
  assert.deepEqual(results, Array(50).fill(100));
  assert.equal(log.slow.length, 1);
  assert.deepEqual(cache.stats(), { hits: 0, misses: 1, coalesced: 49, size: 1 });
});

test('object arguments built in any key order share one entry; other values do not', async (t) => {
  const searches: unknown[] = [];
  const { address } = await startServer(t, {
    setup: (server) => server.provide(CatalogService, { search: async (filter) => (searches.push(filter), [JSON.stringify(filter)]) }),
  });
  const { client } = startClient(t, address, { interceptors: [resultCache({ services: { [CatalogService.id]: {} } })] });
  const catalog = client.proxy(CatalogService);
  await catalog.search({ color: 'red', size: { min: 1, max: 3 }, tags: new Set(['a', 'b']) });
  await catalog.search({ tags: new Set(['b', 'a']), size: { max: 3, min: 1 }, color: 'red' });
  assert.equal(searches.length, 1);
  await catalog.search({ color: 'red', size: { min: 1, max: 4 }, tags: new Set(['a', 'b']) });
  assert.equal(searches.length, 2);
});

test('failures are not cached, and every coalesced caller sees the leader\'s failure', async (t) => {
  const { address, log } = await startServer(t);
  const cache = calculatorCache();
  const { calc: proxy } = startClient(t, address, { interceptors: [cache] });
  const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => proxy.divide(1, 0)));
  for (const outcome of outcomes) {
    assert.equal(outcome.status, 'rejected');
    assert.ok(outcome.reason instanceof RpcError);
    assert.equal(outcome.reason.code, Code.INVALID_ARGUMENT);
  }
  assert.equal(log.calls.length, 1, 'one remote call for the five');
  await assert.rejects(proxy.divide(1, 0), { code: Code.INVALID_ARGUMENT });
  assert.equal(log.calls.length, 2, 'the failure was not kept');
  assert.equal(cache.stats().size, 0);
});

test('a result is served until ttlMs passes, then fetched again', async (t) => {
  const { address, log } = await startServer(t);
  const { calc: proxy } = startClient(t, address, { interceptors: [calculatorCache({ ttlMs: 100 })] });
  await proxy.add(1, 1);
  await proxy.add(1, 1);
  assert.equal(log.calls.length, 1);
  await new Promise((resolve) => setTimeout(resolve, 150));
  await proxy.add(1, 1);
  assert.equal(log.calls.length, 2);
});

test('beyond max entries the least recently used result is evicted', async (t) => {
  const { address, log } = await startServer(t);
  const { calc: proxy } = startClient(t, address, { interceptors: [calculatorCache({ max: 2 })] });
  await proxy.add(1, 1);
  await proxy.add(2, 2);
  await proxy.add(1, 1); // hit: (1, 1) is now the most recently used
  await proxy.add(3, 3); // evicts (2, 2)
  assert.equal(log.calls.length, 3);
  await proxy.add(1, 1);
  assert.equal(log.calls.length, 3, '(1, 1) was kept');
  await proxy.add(2, 2);
  assert.equal(log.calls.length, 4, '(2, 2) was evicted');
});

test('invalidate drops one argument list, one method or a whole service; clear drops everything', async (t) => {
  const { address, log } = await startServer(t);
  const cache = calculatorCache();
  const { calc: proxy } = startClient(t, address, { interceptors: [cache] });
  const fill = async () => {
    await proxy.add(1, 1);
    await proxy.add(2, 2);
    await proxy.divide(4, 2);
  };
  const remoteCallsFor = async (work: () => Promise<unknown>) => {
    const before = log.calls.length;
    await work();
    return log.calls.length - before;
  };
  await fill();
  assert.equal(cache.invalidate(CalculatorService, 'add', [1, 1]), 1);
  assert.equal(await remoteCallsFor(fill), 1, 'only add(1, 1) was fetched again');
  assert.equal(cache.invalidate(CalculatorService, 'add'), 2);
  assert.equal(await remoteCallsFor(fill), 2, 'both adds were fetched again');
  assert.equal(cache.invalidate(calc), 3, 'a service id string works as well as its definition');
  assert.equal(await remoteCallsFor(fill), 3);
  cache.clear();
  assert.equal(cache.stats().size, 0);
  assert.equal(await remoteCallsFor(fill), 3);
  assert.equal(cache.invalidate('no.Such:1.0.0'), 0);
});

test('a result whose call was in flight during an invalidation is not kept', async (t) => {
  const { address, log } = await startServer(t);
  const cache = calculatorCache();
  const { calc: proxy } = startClient(t, address, { interceptors: [cache] });
  const first = proxy.slow(100);
  await waitUntil(() => log.slow.length === 1);
  cache.invalidate(CalculatorService, 'slow', [100]);
  assert.equal(await first, 100);
  assert.equal(await proxy.slow(100), 100);
  assert.equal(log.slow.length, 2, 'the second call was not answered from the result of the first');
});

test('one-way calls, unlisted methods and calls aimed at a named server are never cached', async (t) => {
  const { address, log } = await startServer(t);
  const cache = resultCache({ services: { [calc]: { methods: { add: {}, notify: {} } } } });
  const { client, calc: proxy } = startClient(t, address, { interceptors: [cache] });
  await proxy.notify(1);
  await proxy.notify(1);
  await waitUntil(() => log.notified.length === 2);
  await proxy.echo(new Uint8Array([1]));
  await proxy.echo(new Uint8Array([1]));
  assert.equal(log.calls.filter((c) => c.method === 'echo').length, 2, 'echo is not listed');
  assert.equal(await client.invoke(CalculatorService, 'add', [5, 5], { amqp: { targetServer: 'a' } }), 10);
  assert.equal(await client.invoke(CalculatorService, 'add', [5, 5], { amqp: { targetServer: 'a' } }), 10);
  assert.equal(log.calls.filter((c) => c.method === 'add').length, 2);
  assert.equal(cache.stats().size, 0);
});

test('streaming methods are never cached', async (t) => {
  interface Feed {
    ticks(n: number): AsyncIterable<number>;
  }
  const FeedService = defineService<Feed>('demo.Feed', { methods: { ticks: { stream: 'server' } } });
  let started = 0;
  const { address } = await startServer(t, {
    setup: (server) => server.provide(FeedService, {
      async *ticks(n) {
        started++;
        for (let i = 0; i < n; i++) yield i;
      },
    }),
  });
  const cache = resultCache({ services: { [FeedService.id]: {} } });
  const { client } = startClient(t, address, { interceptors: [cache] });
  const feed = client.proxy(FeedService);
  for (let round = 0; round < 2; round++) {
    const seen: number[] = [];
    for await (const value of feed.ticks(3)) seen.push(value);
    assert.deepEqual(seen, [0, 1, 2]);
  }
  assert.equal(started, 2);
  assert.equal(cache.stats().size, 0);
});

test('a coalesced caller that cancels, or whose own deadline is sooner, ends alone; the others get the result', async (t) => {
  const { address, log } = await startServer(t);
  const { calc: proxy } = startClient(t, address, { interceptors: [calculatorCache()] });
  const leader = proxy.slow(300);
  await waitUntil(() => log.slow.length === 1);
  const controller = new AbortController();
  const cancelling = proxy.slow.with({ signal: controller.signal })(300);
  const hurried = proxy.slow.with({ timeoutMs: 50 })(300);
  const patient = proxy.slow(300);
  controller.abort();
  await assert.rejects(cancelling, { code: Code.CANCELLED });
  await assert.rejects(hurried, { code: Code.DEADLINE_EXCEEDED });
  assert.equal(await leader, 300);
  assert.equal(await patient, 300);
  assert.equal(log.slow.length, 1);
  assert.equal(log.slow[0]!.aborted, false, 'the shared remote call went on');
});

test('bad options are refused with INVALID_ARGUMENT', () => {
  const bad: unknown[] = [
    {},
    { services: [] },
    { services: { [calc]: { ttlMs: 0 } } },
    { services: { [calc]: { methods: { add: { max: 0 } } } } },
    { services: { [calc]: { methods: { add: { max: 1.5 } } } } },
    { ttlMs: -1, services: {} },
    { services: { [calc]: { methods: { add: 'yes' } } } },
  ];
  for (const options of bad) {
    assert.throws(() => resultCache(options as ResultCacheOptions), { code: Code.INVALID_ARGUMENT }, JSON.stringify(options));
  }
  assert.doesNotThrow(() => resultCache({ ttlMs: Infinity, services: { [calc]: {} } }));
});

test('a call made from further down the chain while a miss is sent bypasses the cache and leaves the miss intact', async (t) => {
  const { address, log } = await startServer(t);
  const cache = calculatorCache();
  let nesting = false;
  let inner: Promise<unknown> | undefined;
  const started: { calc?: ReturnType<typeof startClient>['calc'] } = {};
  // Runs after the cache: on the first call it makes another call, synchronously, through the same chain.
  const nested: Interceptor = (next) => (call) => {
    if (!nesting) {
      nesting = true;
      inner = started.calc!.add(10, 20);
    }
    return next(call);
  };
  const proxy = (started.calc = startClient(t, address, { interceptors: [cache, nested] }).calc);
  assert.equal(await proxy.add(1, 2), 3);
  assert.equal(await inner, 30);
  assert.deepEqual(cache.stats(), { hits: 0, misses: 1, coalesced: 0, size: 1 }, 'the nested call was not cached');
  assert.equal(await proxy.add(1, 2), 3, 'the outer call was cached under its own key');
  assert.equal(await proxy.add(10, 20), 30);
  assert.deepEqual(log.calls.map((call) => call.args), [[10, 20], [1, 2], [10, 20]]);
  assert.equal(cache.stats().hits, 1);
});

test('a call with the same arguments made through another client sharing the cache while a miss is sent bypasses it', async (t) => {
  const { address, log } = await startServer(t);
  const cache = calculatorCache();
  let inner: Promise<unknown> | undefined;
  const other = startClient(t, address, { interceptors: [cache] }).calc;
  // Runs after the cache of the first client: on its first call, calls the other client with the same arguments.
  const nested: Interceptor = (next) => (call) => {
    inner ??= other.add(1, 2);
    return next(call);
  };
  const proxy = startClient(t, address, { interceptors: [cache, nested] }).calc;
  assert.equal(await proxy.add(1, 2), 3);
  assert.equal(await inner, 3);
  assert.deepEqual(cache.stats(), { hits: 0, misses: 1, coalesced: 0, size: 1 });
  assert.equal(await other.add(1, 2), 3);
  assert.equal(await proxy.add(1, 2), 3);
  assert.deepEqual(log.calls.map((call) => call.args), [[1, 2], [1, 2]], 'the later calls were served from the one result cached');
  assert.equal(cache.stats().hits, 2);
});
