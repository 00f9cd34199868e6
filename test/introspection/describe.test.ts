// switchyard.Introspection.describe: what a running server provides, on every transport.
import assert from 'node:assert/strict';
import test, { type TestContext } from 'node:test';
import { Code, GrpcHealthService, createClient, createServer, defineService, type Interceptor } from '../../src/index.js';
import { IntrospectionService } from '../../src/introspection/index.js';
import { hasCode } from '../support/assertions.js';
import { CalculatorService, calculatorImpl, newLog, onCleanup } from '../support/calculator.js';

interface Feed {
  updates(topic: string): AsyncIterable<string>;
  latest(topic: string): Promise<string>;
}

const FeedService = defineService<Feed>('demo.Feed', {
  group: 'blue',
  methods: { updates: { stream: 'server' }, latest: { idempotent: true, timeoutMs: 250 } },
});

const feed: Feed = {
  async *updates(topic) {
    yield topic;
  },
  async latest(topic) {
    return topic;
  },
};

const calculatorDescription = {
  id: 'demo.Calculator:1.0.0',
  name: 'demo.Calculator',
  version: '1.0.0',
  methods: [
    { name: 'add' },
    { name: 'divide', timeoutMs: 500 },
    { name: 'slow' },
    { name: 'echo' },
    { name: 'notify', oneWay: true },
    { name: 'fail' },
  ],
};

const feedDescription = {
  id: 'blue/demo.Feed',
  name: 'demo.Feed',
  group: 'blue',
  methods: [{ name: 'updates', stream: 'server' }, { name: 'latest', idempotent: true, timeoutMs: 250 }],
};

/** A server of the Calculator and the Feed on `url`, and a client's Introspection proxy of it. */
async function describedServer(t: TestContext, url: string, interceptors: Interceptor[] = []) {
  const server = createServer({ registry: false, listen: [url], interceptors });
  server.provide(CalculatorService, calculatorImpl(newLog())).provide(FeedService, feed);
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  const client = createClient({ url: address! });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  return { client, introspection: client.proxy(IntrospectionService) };
}

for (const scheme of ['tcp', 'http']) {
  test(`describe over ${scheme}:// lists the provided services with their methods and options, built-ins left out`, async (t) => {
    const { introspection } = await describedServer(t, `${scheme}://127.0.0.1:0`);
    assert.deepEqual(await introspection.describe(), { services: [calculatorDescription, feedDescription] });
    assert.deepEqual(await introspection.describe({}), { services: [calculatorDescription, feedDescription] });
  });

  test(`describe over ${scheme}:// filters by service name or id; an unknown or built-in one is NOT_FOUND`, async (t) => {
    const { introspection } = await describedServer(t, `${scheme}://127.0.0.1:0`);
    assert.deepEqual(await introspection.describe({ service: 'demo.Calculator' }), { services: [calculatorDescription] });
    assert.deepEqual(await introspection.describe({ service: 'blue/demo.Feed' }), { services: [feedDescription] });
    await assert.rejects(introspection.describe({ service: 'no.Such' }), hasCode(Code.NOT_FOUND, /"no.Such" is not provided here/));
    await assert.rejects(introspection.describe({ service: 'grpc.health.v1.Health' }), hasCode(Code.NOT_FOUND));
  });
}

test('describe passes the server\'s interceptors; health checks pass none', async (t) => {
  const seen: string[] = [];
  const record: Interceptor = (next) => (call) => {
    seen.push(`${call.service.key.name}.${call.method}`);
    return next(call);
  };
  const { client, introspection } = await describedServer(t, 'tcp://127.0.0.1:0', [record]);
  await introspection.describe();
  await client.proxy(GrpcHealthService).check({ service: '' });
  assert.deepEqual(seen, ['switchyard.Introspection.describe']);
});
