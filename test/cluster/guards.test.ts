import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type TestContext } from 'node:test';
import type { CircuitEvent } from '../../src/cluster/circuit-breaker.js';
import { Code, RpcError, createClient, createServer, defineService, type ClientOptions, type Server } from '../../src/index.js';

interface Flaky {
  work(ms: number): Promise<string>;
}
const FlakyService = defineService<Flaky>('test.guards.Flaky', { version: '1.0.0', methods: { work: { idempotent: true } } });

/** Two providers on a private embedded registry: `good`, and `bad` while `state.failing` is set. */
async function cluster(t: TestContext, clientOptions: ClientOptions) {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-guards-'));
  const registry = `embedded://${dir}`;
  const state = { failing: true, calls: { good: 0, bad: 0 } as Record<string, number> };
  const servers: Server[] = [];
  for (const label of ['good', 'bad']) {
    const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry, warmupMs: 0 });
    server.provide(FlakyService, {
      async work(ms) {
        state.calls[label]!++;
        if (label === 'bad' && state.failing) throw new RpcError(Code.UNAVAILABLE, 'bad provider is failing');
        await new Promise((resolve) => setTimeout(resolve, ms));
        return label;
      },
    });
    await server.listen();
    servers.push(server);
  }
  const client = createClient({ registry, ...clientOptions });
  t.after(async () => {
    await client.close();
    for (const server of servers) await server.close({ timeoutMs: 1000 });
    await rm(dir, { recursive: true, force: true });
  });
  return { client, state };
}

test('a failing provider has its circuit opened, and calls go to the healthy one without failing', async (t) => {
  const events: CircuitEvent[] = [];
  const { client, state } = await cluster(t, {
    loadBalance: 'roundrobin',
    circuitBreaker: { minimumCalls: 4, failureRateThreshold: 0.5, openMs: 400, halfOpenProbes: 1 },
    onCircuitStateChange: (event) => events.push(event),
  });
  const flaky = client.proxy(FlakyService);
  // failover (the method is idempotent) hides the bad provider's failures from the caller throughout
  for (let i = 0; i < 20; i++) assert.equal(await flaky.work(0), 'good');
  assert.ok(events.some((e) => e.to === 'OPEN' && e.method === 'work'), 'the circuit opened');
  const badCallsWhileOpen = state.calls.bad!;
  for (let i = 0; i < 20; i++) await flaky.work(0);
  assert.equal(state.calls.bad, badCallsWhileOpen, 'an open circuit sends the bad provider nothing');

  state.failing = false;
  await new Promise((resolve) => setTimeout(resolve, 450));
  const served = new Set<string>();
  for (let i = 0; i < 20; i++) served.add(await flaky.work(0));
  assert.deepEqual([...served].sort(), ['bad', 'good'], 'after a successful probe the provider is used again');
  assert.deepEqual(events.filter((e) => e.provider === events[0]!.provider).map((e) => e.to), ['OPEN', 'HALF_OPEN', 'CLOSED']);
});

test('maxActivePerProvider sends the calls beyond the limit to the other provider', async (t) => {
  const { client, state } = await cluster(t, { loadBalance: 'roundrobin', maxActivePerProvider: 2 });
  state.failing = false;
  const flaky = client.proxy(FlakyService);
  const results = await Promise.all(Array.from({ length: 4 }, () => flaky.work(200)));
  assert.deepEqual(results.sort(), ['bad', 'bad', 'good', 'good']);
  // With both providers at their limit, a fifth call is refused at once rather than queued.
  const running = Promise.all(Array.from({ length: 4 }, () => flaky.work(300)));
  await new Promise((resolve) => setTimeout(resolve, 50));
  const started = Date.now();
  await assert.rejects(flaky.work(0), (error: unknown) => error instanceof RpcError && error.code === Code.RESOURCE_EXHAUSTED);
  assert.ok(Date.now() - started < 200, 'refused without waiting');
  await running;
});
