// Switchyard clients and servers over grpc://, with services defined without a .proto.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type TestContext } from 'node:test';
import { Code, RpcError, createClient, createServer, currentCall, defineService, type Metadata, type ServerOptions } from '../../src/index.js';
import { CalculatorService, QuotaError, calculatorImpl, newLog, onCleanup, waitUntil } from '../support/calculator.js';
import { startGrpcClient } from './fixtures/greeter.js';
import { rawSession } from './fixtures/raw-h2.js';
import { countingRelay } from './fixtures/relay.js';

async function startCalculator(t: TestContext, listen = ['grpc://127.0.0.1:0'], options: Partial<ServerOptions> = {}) {
  const log = newLog();
  const server = createServer({ registry: false, ...options, listen });
  server.provide(CalculatorService, calculatorImpl(log));
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const addresses = await server.listen();
  return { server, addresses, log };
}

for (const serializer of ['msgpack', 'json']) {
  test(`a plain service over grpc:// with application/grpc+${serializer}: results, errors with name and details, bytes`, async (t) => {
    const { addresses } = await startCalculator(t);
    const calc = startGrpcClient(t, addresses[0]!, { serializer }).proxy(CalculatorService);
    assert.equal(await calc.add(2, 3), 5);
    assert.deepEqual(Buffer.from(await calc.echo(new Uint8Array([1, 2, 3]))), Buffer.from([1, 2, 3]));
    await assert.rejects(calc.divide(1, 0), (error: unknown) => {
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, Code.INVALID_ARGUMENT);
      assert.equal(error.message, 'cannot divide by zero');
      assert.deepEqual(error.details, { field: 'b', value: 0 });
      return true;
    });
    await assert.rejects(calc.fail(), (error: unknown) => error instanceof RpcError && error.name === new QuotaError().name && error.code === Code.UNKNOWN && error.message === 'quota of 10 calls exceeded');
  });
}

test('one server serves the same table on tcp:// and grpc:// at once', async (t) => {
  const { addresses, log } = await startCalculator(t, ['tcp://127.0.0.1:0', 'grpc://127.0.0.1:0']);
  const overTcp = startGrpcClient(t, addresses[0]!).proxy(CalculatorService);
  const overGrpc = startGrpcClient(t, addresses[1]!).proxy(CalculatorService);
  assert.deepEqual(await Promise.all([overTcp.add(1, 1), overGrpc.add(2, 2)]), [2, 4]);
  assert.equal(log.calls.length, 2);
});

test('deadlines travel as grpc-timeout: the handler sees the deadline, the caller gets DEADLINE_EXCEEDED', async (t) => {
  const { addresses, log } = await startCalculator(t);
  const calc = startGrpcClient(t, addresses[0]!).proxy(CalculatorService);
  const before = Date.now();
  await assert.rejects(calc.slow.with({ timeoutMs: 200 })(5000), (error: unknown) => error instanceof RpcError && error.code === Code.DEADLINE_EXCEEDED);
  await waitUntil(() => log.slow[0]?.aborted === true);
  const deadline = log.slow[0]!.deadline!;
  assert.ok(deadline >= before + 150 && deadline <= before + 400, `deadline ${deadline - before} ms after the call`);
});

test('aborting the caller\'s signal resets the stream and fires the handler\'s signal with CANCELLED', async (t) => {
  const { addresses, log } = await startCalculator(t);
  const calc = startGrpcClient(t, addresses[0]!).proxy(CalculatorService);
  const controller = new AbortController();
  const pending = calc.slow.with({ signal: controller.signal })(5000);
  await waitUntil(() => log.slow.length === 1);
  controller.abort();
  await assert.rejects(pending, (error: unknown) => error instanceof RpcError && error.code === Code.CANCELLED);
  await waitUntil(() => log.slow[0]!.aborted);
  assert.equal((log.slow[0]!.abortReason as RpcError).code, Code.CANCELLED);
});

test('metadata travels both ways: text, bytes under -bin keys, headers and trailers', async (t) => {
  interface Tagged {
    tag(): Promise<string>;
    tags(): AsyncIterable<number>;
  }
  const TaggedService = defineService<Tagged>('demo.Tagged', { methods: { tag: {}, tags: { stream: 'server' } } });
  const server = createServer({ registry: false, listen: ['grpc://127.0.0.1:0'] });
  server.provide(TaggedService, {
    async tag() {
      const call = currentCall();
      call.responseMetadata.set('x-echo', String(call.metadata.get('x-tenant')));
      call.responseMetadata.set('x-key-bin', call.metadata.get('x-key-bin')!);
      return 'ok';
    },
    async *tags() {
      const call = currentCall();
      call.responseMetadata.set('x-early', 'in headers');
      yield 1;
      call.responseMetadata.set('x-late', 'in trailers');
      yield 2;
    },
  });
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  const tagged = startGrpcClient(t, address!).proxy(TaggedService);
  let received: Metadata | undefined;
  const value = await tagged.tag.with({ metadata: { 'x-tenant': 'acme', 'x-key-bin': new Uint8Array([4, 5, 6]) }, onResponseMetadata: (md) => (received = md) })();
  assert.equal(value, 'ok');
  assert.equal(received?.get('x-echo'), 'acme');
  assert.deepEqual(Buffer.from(received!.get('x-key-bin') as Uint8Array), Buffer.from([4, 5, 6]));
  assert.equal(received?.get('content-type'), undefined);

  let streamed: Metadata | undefined;
  const items: number[] = [];
  for await (const item of tagged.tags.with({ onResponseMetadata: (md) => (streamed = md) })()) items.push(item);
  assert.deepEqual(items, [1, 2]);
  assert.equal(streamed?.get('x-early'), 'in headers');
  assert.equal(streamed?.get('x-late'), 'in trailers');
  await assert.rejects(tagged.tag.with({ metadata: { 'x-text': 'naïve' } })(), (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT && error.unprocessed);
  await assert.rejects(tagged.tag.with({ metadata: { 'grpc-timeout': '1S' } })(), (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT);
});

test('a plain server-streaming service streams over grpc://; an error after some items reaches the loop', async (t) => {
  interface Ticker {
    ticks(n: number, failAt: number): AsyncIterable<number>;
  }
  const TickerService = defineService<Ticker>('demo.Ticker', { methods: { ticks: { stream: 'server' } } });
  const server = createServer({ registry: false, listen: ['grpc://127.0.0.1:0'] });
  server.provide(TickerService, {
    async *ticks(n, failAt) {
      for (let i = 0; i < n; i++) {
        if (i === failAt) throw new RpcError(Code.RESOURCE_EXHAUSTED, 'no more ticks', { details: { at: i } });
        yield i;
      }
    },
  });
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  const ticker = startGrpcClient(t, address!).proxy(TickerService);
  const all: number[] = [];
  for await (const i of ticker.ticks(1000, -1)) all.push(i);
  assert.equal(all.length, 1000);
  const some: number[] = [];
  await assert.rejects(async () => {
    for await (const i of ticker.ticks(10, 3)) some.push(i);
  }, (error: unknown) => error instanceof RpcError && error.code === Code.RESOURCE_EXHAUSTED && error.details.at === 3);
  assert.deepEqual(some, [0, 1, 2]);
});

test('one-way calls resolve once sent and still run', async (t) => {
  const { addresses, log } = await startCalculator(t);
  const calc = startGrpcClient(t, addresses[0]!).proxy(CalculatorService);
  assert.equal(await calc.notify(7), undefined);
  await waitUntil(() => log.notified.includes(7));
});

test('versions: a request picks its version with switchyard-version; the only version needs none', async (t) => {
  interface Versioned {
    which(): Promise<string>;
  }
  const v1 = defineService<Versioned>('demo.Versioned', { version: '1.0.0', methods: { which: {} } });
  const v2 = defineService<Versioned>('demo.Versioned', { version: '2.0.0', methods: { which: {} } });
  const server = createServer({ registry: false, listen: ['grpc://127.0.0.1:0'] });
  server.provide(v1, { which: async () => 'one' }).provide(v2, { which: async () => 'two' });
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  const client = startGrpcClient(t, address!);
  assert.equal(await client.proxy(v1).which(), 'one');
  assert.equal(await client.proxy(v2).which(), 'two');
  const unversioned = defineService<Versioned>('demo.Versioned', { methods: { which: {} } });
  await assert.rejects(client.proxy(unversioned).which(), (error: unknown) => error instanceof RpcError && error.code === Code.NOT_FOUND && /switchyard-version/.test(error.message));
});

test('gzip both ways between Switchyard peers (compression=gzip on client and server)', async (t) => {
  const { addresses } = await startCalculator(t, ['grpc://127.0.0.1:0?compression=gzip']);
  const calc = startGrpcClient(t, `${addresses[0]}?compression=gzip`).proxy(CalculatorService);
  const big = Buffer.from('gzip me '.repeat(50_000));
  assert.ok(Buffer.compare(Buffer.from(await calc.echo(big)), big) === 0);
  assert.equal(await calc.add(1, 2), 3);
});

test('close drains: calls in flight finish, later calls fail UNAVAILABLE', async (t) => {
  const { server, addresses, log } = await startCalculator(t);
  const calc = startGrpcClient(t, addresses[0]!, { retries: 0 }).proxy(CalculatorService);
  const inFlight = calc.slow(300);
  await waitUntil(() => log.slow.length === 1);
  const closing = server.close({ timeoutMs: 3000 });
  assert.equal(await inFlight, 300);
  await closing;
  await assert.rejects(calc.add(1, 1), (error: unknown) => error instanceof RpcError && error.code === Code.UNAVAILABLE);
});

test('a closing server cut off at its timeout ends running calls with UNAVAILABLE', async (t) => {
  const { server, addresses, log } = await startCalculator(t);
  const calc = startGrpcClient(t, addresses[0]!, { retries: 0 }).proxy(CalculatorService);
  const inFlight = calc.slow(10_000);
  await waitUntil(() => log.slow.length === 1);
  await server.close({ timeoutMs: 200 });
  await assert.rejects(inFlight, (error: unknown) => error instanceof RpcError && error.code === Code.UNAVAILABLE);
  await waitUntil(() => log.slow[0]!.aborted);
  assert.equal((log.slow[0]!.abortReason as RpcError).code, Code.UNAVAILABLE);
});

test('a grpc:// server announces itself in a registry, and clients find it there', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-grpc-registry-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const registry = `embedded://${dir}`;
  await startCalculator(t, ['grpc://127.0.0.1:0'], { registry });
  const client = createClient({ registry });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  assert.equal(await client.proxy(CalculatorService).add(20, 22), 42);
});

test('a connection idle for 4 × idleTimeoutMs is closed politely; the next call reconnects, and keepalive PINGs keep it open', async (t) => {
  const { addresses } = await startCalculator(t, ['grpc://127.0.0.1:0'], { idleTimeoutMs: 100 });
  const relay = await countingRelay(t, Number(new URL(addresses[0]!).port));
  const session = await rawSession(t, relay.port);
  const goaway = new Promise<string | undefined>((resolve) => session.once('goaway', (_code, _last, data?: Buffer) => resolve(data?.toString())));
  assert.equal(await goaway, 'idle');

  const plain = startGrpcClient(t, `grpc://127.0.0.1:${relay.port}`).proxy(CalculatorService);
  assert.equal(await plain.add(1, 1), 2);
  await new Promise((resolve) => setTimeout(resolve, 700));
  assert.equal(await plain.add(2, 2), 4);
  assert.equal(relay.connections(), 3, 'the raw session, then the plain client twice');

  const kept = startGrpcClient(t, `grpc://127.0.0.1:${relay.port}?keepaliveMs=50`).proxy(CalculatorService);
  assert.equal(await kept.add(1, 1), 2);
  await new Promise((resolve) => setTimeout(resolve, 700));
  assert.equal(await kept.add(2, 2), 4);
  assert.equal(relay.connections(), 4, 'the keepalive client once');
});
