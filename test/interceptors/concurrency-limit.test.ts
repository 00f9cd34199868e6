import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, Metadata, RpcError, concurrencyLimit, createServer, defineService, type ConcurrencyLimitOptions, type Invocation } from '../../src/index.js';
import { CalculatorService, calculatorImpl, newLog, onCleanup, startClient, startServer, waitUntil } from '../support/calculator.js';
import { brokerScope } from '../support/rabbitmq.js';

const calc = CalculatorService.id;

/** Settles each promise into `order` with its label as it settles. */
function track(order: string[], label: string, promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      order.push(`${label}:ok`);
      return value;
    },
    (error: unknown) => {
      order.push(`${label}:${error instanceof RpcError ? error.code : 'error'}`);
      return error;
    },
  );
}

test('calls over a method limit are rejected at once with RESOURCE_EXHAUSTED and never run later', async (t) => {
  const limit = concurrencyLimit({ services: { [calc]: { methods: { slow: { max: 2 } } } } });
  const { address, log } = await startServer(t, { interceptors: [limit] });
  const { calc: proxy } = startClient(t, address);
  const order: string[] = [];
  const calls = Array.from({ length: 5 }, (_, i) => track(order, `c${i}`, proxy.slow(300)));
  const outcomes = await Promise.all(calls);
  const refused = outcomes.filter((o) => o instanceof RpcError);
  assert.equal(refused.length, 3);
  for (const error of refused) {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, Code.RESOURCE_EXHAUSTED);
    assert.deepEqual(error.details, { limit: 'concurrency', scope: `method ${calc}/slow`, max: 2 });
  }
  assert.deepEqual(order.slice(0, 3).map((o) => o.split(':')[1]), ['8', '8', '8'], 'every refusal came back before any admitted call finished');
  assert.equal(log.slow.length, 2, 'refused calls were not queued');
  assert.deepEqual(limit.stats(), { active: 0, admitted: 2, rejected: 3 });
});

test('a service limit counts all its methods together; a method limit only its own', async () => {
  const limit = concurrencyLimit({ services: { [calc]: { max: 2, methods: { slow: { max: 1 } } } } });
  const held: Array<() => void> = [];
  const handler = limit(() => new Promise<void>((resolve) => held.push(resolve)));
  const slow = handler(invocation(CalculatorService, 'slow'));
  await assert.rejects(handler(invocation(CalculatorService, 'slow')), { code: Code.RESOURCE_EXHAUSTED, details: { limit: 'concurrency', scope: `method ${calc}/slow`, max: 1 } });
  const add = handler(invocation(CalculatorService, 'add'));
  assert.equal(limit.stats().active, 2, 'the service had room for another method');
  await assert.rejects(handler(invocation(CalculatorService, 'divide')), { code: Code.RESOURCE_EXHAUSTED, details: { limit: 'concurrency', scope: `service ${calc}`, max: 2 } });
  for (const release of held.splice(0)) release();
  await Promise.all([slow, add]);
  const again = [handler(invocation(CalculatorService, 'slow')), handler(invocation(CalculatorService, 'divide'))];
  assert.equal(limit.stats().active, 2);
  for (const release of held.splice(0)) release();
  await Promise.all(again);
  assert.deepEqual(limit.stats(), { active: 0, admitted: 4, rejected: 2 });
});

test('a service limit refuses another method while the service is full', async (t) => {
  const limit = concurrencyLimit({ services: { [calc]: { max: 1 } } });
  const { address, log } = await startServer(t, { interceptors: [limit] });
  const { calc: proxy } = startClient(t, address);
  const slow = proxy.slow(200);
  await waitUntil(() => log.slow.length === 1);
  await assert.rejects(proxy.add(1, 2), { code: Code.RESOURCE_EXHAUSTED, details: { limit: 'concurrency', scope: `service ${calc}`, max: 1 } });
  assert.equal(await slow, 200);
  assert.equal(await proxy.add(1, 2), 3, 'room again once the slow call settled');
});

test('a top-level max bounds every call through the interceptor; other services pass when only one is limited', async () => {
  const Other = defineService<{ ping(): Promise<void> }>('demo.Other', { methods: { ping: {} } });
  let open = (): void => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  const handler = concurrencyLimit({ max: 1 })(() => gate);
  const first = handler(invocation(Other, 'ping'));
  await assert.rejects(handler(invocation(CalculatorService, 'add')), { code: Code.RESOURCE_EXHAUSTED, details: { limit: 'concurrency', scope: 'all calls', max: 1 } });
  open();
  await first;
  const onlyCalc = concurrencyLimit({ services: { [calc]: { max: 0 } } })(async () => 'ran');
  assert.equal(await onlyCalc(invocation(Other, 'ping')), 'ran');
  await assert.rejects(onlyCalc(invocation(CalculatorService, 'add')), { code: Code.RESOURCE_EXHAUSTED });
});

test('the place is released when the handler fails or the call is cancelled', async (t) => {
  const limit = concurrencyLimit({ services: { [calc]: { methods: { fail: { max: 1 }, slow: { max: 1 } } } } });
  const { address, log } = await startServer(t, { interceptors: [limit] });
  const { calc: proxy } = startClient(t, address);
  for (let i = 0; i < 3; i++) await assert.rejects(proxy.fail(), { name: 'QuotaError' });
  const controller = new AbortController();
  const cancelled = proxy.slow.with({ signal: controller.signal })(10_000);
  await waitUntil(() => log.slow.length === 1);
  await assert.rejects(proxy.slow(10), { code: Code.RESOURCE_EXHAUSTED });
  controller.abort();
  await assert.rejects(cancelled, { code: Code.CANCELLED });
  await waitUntil(() => log.slow[0]!.aborted && limit.stats().active === 0);
  assert.equal(await proxy.slow(10), 10, 'admitted again after the cancelled handler settled');
  assert.deepEqual(limit.stats(), { active: 0, admitted: 5, rejected: 1 });
});

test('a server-streaming call holds its place until its stream ends, is closed early or is aborted', async () => {
  interface Feed {
    ticks(n: number): AsyncIterable<number>;
  }
  const FeedService = defineService<Feed>('demo.Feed', { methods: { ticks: { stream: 'server' } } });
  const limit = concurrencyLimit({ services: { [FeedService.id]: { max: 1 } } });
  const handler = limit(async (call) => (async function* () {
    for (let i = 0; i < (call.args[0] as number); i++) yield i;
  })());
  const drain = async (stream: unknown) => {
    const seen: number[] = [];
    for await (const value of stream as AsyncIterable<number>) seen.push(value);
    return seen;
  };

  const stream = await handler(invocation(FeedService, 'ticks', [3]));
  await assert.rejects(handler(invocation(FeedService, 'ticks', [1])), { code: Code.RESOURCE_EXHAUSTED });
  assert.deepEqual(await drain(stream), [0, 1, 2]);
  assert.equal(limit.stats().active, 0, 'released at the end of the stream');

  const early = (await handler(invocation(FeedService, 'ticks', [100]))) as AsyncIterable<number>;
  for await (const value of early) if (value === 1) break;
  assert.equal(limit.stats().active, 0, 'released when the consumer stops early');

  const controller = new AbortController();
  await handler(invocation(FeedService, 'ticks', [100], controller.signal));
  assert.equal(limit.stats().active, 1);
  controller.abort();
  assert.equal(limit.stats().active, 0, 'released when the call is aborted');
});

test('over TCP, a stream keeps its place until the caller has read it all or stops reading', async (t) => {
  interface Feed {
    ticks(n: number): AsyncIterable<number>;
  }
  const FeedService = defineService<Feed>('demo.Feed', { methods: { ticks: { stream: 'server' } } });
  const limit = concurrencyLimit({ services: { [FeedService.id]: { max: 1 } } });
  const { address } = await startServer(t, {
    interceptors: [limit],
    setup: (server) => server.provide(FeedService, {
      async *ticks(n) {
        for (let i = 0; i < n; i++) yield i;
      },
    }),
  });
  const { client } = startClient(t, address);
  const feed = client.proxy(FeedService);
  // Longer than the 16 items the server may send ahead, so the generator waits for the reader.
  const first = feed.ticks(100)[Symbol.asyncIterator]();
  assert.deepEqual(await first.next(), { done: false, value: 0 });
  await assert.rejects(async () => {
    for await (const _ of feed.ticks(1));
  }, { code: Code.RESOURCE_EXHAUSTED });
  let read = 1;
  for (let step = await first.next(); step.done !== true; step = await first.next()) read++;
  assert.equal(read, 100);
  await waitUntil(() => limit.stats().active === 0);
  for await (const value of feed.ticks(1_000_000)) if (value === 2) break;
  await waitUntil(() => limit.stats().active === 0);
  const all: number[] = [];
  for await (const value of feed.ticks(2)) all.push(value);
  assert.deepEqual(all, [0, 1]);
});

test('bad options are refused with INVALID_ARGUMENT', () => {
  const bad: unknown[] = [null, { max: -1 }, { max: 1.5 }, { max: '4' }, { services: { [calc]: { methods: { slow: { max: -2 } } } } }, { services: 'all' }];
  for (const options of bad) {
    assert.throws(() => concurrencyLimit(options as ConcurrencyLimitOptions), { code: Code.INVALID_ARGUMENT }, JSON.stringify(options));
  }
});

function invocation(service: Invocation['service'], method: string, args: unknown[] = [], signal?: AbortSignal): Invocation {
  return { service, method, args, metadata: new Metadata(), responseMetadata: new Metadata(), deadline: undefined, signal, oneWay: false };
}

test('on every server transport a place is held while the handler runs, even after the caller cancels, and released when it settles', async (t) => {
  const scope = await brokerScope(t);
  for (const listen of ['tcp://127.0.0.1:0', 'http://127.0.0.1:0', 'grpc://127.0.0.1:0', scope.url({ server: 's1' })]) {
    const transport = listen.split(':')[0]!;
    const limit = concurrencyLimit({ services: { [calc]: { methods: { slow: { max: 1 }, fail: { max: 1 } } } } });
    const log = newLog();
    // The handler ignores cancellation, so only its settling can free the place.
    const server = createServer({ registry: false, listen: [listen], interceptors: [limit] });
    server.provide(CalculatorService, { ...calculatorImpl(log), slow: (ms: number) => new Promise<number>((resolve) => setTimeout(() => resolve(ms), ms)) });
    onCleanup(t, () => server.close({ timeoutMs: 2000 }));
    const [address] = await server.listen();
    const { calc: proxy } = startClient(t, address!);

    for (let i = 0; i < 3; i++) await assert.rejects(proxy.fail(), (error: Error) => error.message.includes('quota'), `${transport}: a failed call frees its place`);
    assert.equal(await proxy.slow(1), 1, transport);
    const controller = new AbortController();
    const cancelled = proxy.slow.with({ signal: controller.signal })(400);
    await waitUntil(() => limit.stats().active === 1);
    controller.abort();
    await assert.rejects(cancelled, { code: Code.CANCELLED });
    await assert.rejects(proxy.slow(1), { code: Code.RESOURCE_EXHAUSTED }, `${transport}: the cancelled call's handler still holds the place`);
    await waitUntil(() => limit.stats().active === 0, 3000);
    assert.equal(await proxy.slow(1), 1, `${transport}: admitted again once the handler settled`);
    assert.deepEqual(limit.stats(), { active: 0, admitted: 6, rejected: 1 }, transport);
  }
});
