// What the conformance rows (src/conformance/rows-request-streams.ts) leave out about request
// streams: what a stream-taking call accepts as its argument, and that its stream is sent once,
// to one provider, whatever the client's cluster mode or interceptors try.
import assert from 'node:assert/strict';
import test, { type TestContext } from 'node:test';
import { Code, RpcError, createClient, createServer, defineService, type Interceptor } from '../../src/index.js';

interface Counter {
  count(values: AsyncIterable<number>): Promise<{ count: number; total: number; server: string }>;
}
const CounterService = defineService<Counter>('test.streams.Counter', { methods: { count: { stream: 'client', idempotent: true } } });

async function startServers(t: TestContext, labels: string[]): Promise<string[]> {
  const addresses: string[] = [];
  for (const label of labels) {
    const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false });
    server.provide(CounterService, {
      async count(values) {
        let count = 0;
        let total = 0;
        for await (const value of values) {
          count++;
          total += value;
        }
        return { count, total, server: label };
      },
    });
    addresses.push((await server.listen())[0]!);
    t.after(() => server.close({ timeoutMs: 1000 }));
  }
  return addresses;
}

test('a stream-taking method takes one AsyncIterable or Iterable, and refuses anything else before sending', async (t) => {
  const [address] = await startServers(t, ['a']);
  const client = createClient({ url: address! });
  t.after(() => client.close());
  const counter = client.proxy(CounterService);
  assert.deepEqual(await counter.count([1, 2, 3]), { count: 3, total: 6, server: 'a' });
  assert.deepEqual(await counter.count(new Set([4, 5])), { count: 2, total: 9, server: 'a' });
  const bad = counter.count as unknown as (...args: unknown[]) => Promise<unknown>;
  for (const args of [[], [1], ['abc'], [null], [[1], [2]]]) {
    await assert.rejects(bad(...args), (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT && error.unprocessed, JSON.stringify(args));
  }
  await assert.rejects(counter.count.with({ oneWay: true })([1]), (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT);
});

test('forking sends a stream-taking call to one provider only, which reads the whole stream', async (t) => {
  const addresses = await startServers(t, ['a', 'b', 'c']);
  const client = createClient({ url: addresses, cluster: 'forking', forks: 3 });
  t.after(() => client.close());
  let pulled = 0;
  async function* numbers() {
    for (let i = 1; i <= 100; i++) {
      pulled++;
      yield i;
    }
  }
  const answer = await client.proxy(CounterService).count(numbers());
  assert.equal(answer.count, 100);
  assert.equal(answer.total, 5050);
  assert.equal(pulled, 100);
});

test('an interceptor that sends a stream-taking call twice gets FAILED_PRECONDITION the second time', async (t) => {
  const [address] = await startServers(t, ['a']);
  const twice: Interceptor = (next) => async (call) => {
    const first = await next(call);
    await assert.rejects(next(call), (error: unknown) => error instanceof RpcError && error.code === Code.FAILED_PRECONDITION && /already sent/.test(error.message));
    return first;
  };
  const client = createClient({ url: address!, interceptors: [twice] });
  t.after(() => client.close());
  assert.deepEqual(await client.proxy(CounterService).count([7, 8]), { count: 2, total: 15, server: 'a' });
});
