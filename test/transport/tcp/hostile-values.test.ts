import assert from 'node:assert/strict';
import test, { type TestContext } from 'node:test';
import { Code, RpcError, createClient, createServer, defineService } from '../../../src/index.js';
import { onCleanup } from '../../support/calculator.js';
import { countingForwarder } from '../../support/raw-socket.js';

// A test whose fix is missing fails here instead of waiting forever for an answer.
const LIMIT_MS = 30_000;

/** A value every touch of which throws: reading a field, asking its prototype, listing its keys. */
function hostile(): object {
  const trap = (): never => {
    throw new Error('trap');
  };
  return new Proxy({}, { get: trap, getPrototypeOf: trap, ownKeys: trap, has: trap, getOwnPropertyDescriptor: trap });
}

interface Odd {
  result(): Promise<unknown>;
  iteratorGetterThrows(): AsyncIterable<number>;
  nextReturnsNothing(): AsyncIterable<number>;
  itemGetterThrows(): AsyncIterable<unknown>;
  returnThrows(): AsyncIterable<number>;
  callbackArgs(reply: (value: unknown) => Promise<unknown>): Promise<string>;
  ask(reply: () => Promise<unknown>): Promise<string>;
  add(a: number, b: number): Promise<number>;
}
const OddService = defineService<Odd>('test.tcp.Odd', {
  methods: {
    result: {},
    iteratorGetterThrows: { stream: 'server' },
    nextReturnsNothing: { stream: 'server' },
    itemGetterThrows: { stream: 'server' },
    returnThrows: { stream: 'server' },
    callbackArgs: {},
    ask: {},
    add: {},
  },
});

const throwingGetter = () => ({
  get x(): never {
    throw hostile();
  },
});

async function start(t: TestContext) {
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false });
  server.provide(OddService, {
    result: async () => throwingGetter(),
    iteratorGetterThrows: () => {
      // The call table checks the result is iterable (first read); the transport's read throws.
      let reads = 0;
      return {
        get [Symbol.asyncIterator]() {
          if (++reads > 1) throw hostile();
          return async function* () {};
        },
      } as unknown as AsyncIterable<number>;
    },
    nextReturnsNothing: () => ({ [Symbol.asyncIterator]: () => ({ next: async () => undefined }) }) as unknown as AsyncIterable<number>,
    async *itemGetterThrows() {
      yield throwingGetter();
    },
    returnThrows: () => {
      let i = 0;
      return {
        [Symbol.asyncIterator]: () => ({
          next: async () => ({ value: i++, done: false }),
          return: () => {
            throw hostile();
          },
        }),
      } as unknown as AsyncIterable<number>;
    },
    async callbackArgs(reply) {
      try {
        await reply(throwingGetter());
        return 'sent';
      } catch (error) {
        return error instanceof RpcError ? `${error.code}: ${error.message}` : 'not an RpcError';
      }
    },
    async ask(reply) {
      try {
        return `answered ${String(await reply())}`;
      } catch (error) {
        return error instanceof RpcError ? `${error.code}: ${error.message}` : 'not an RpcError';
      }
    },
    add: async (a, b) => a + b,
  });
  const [address] = await server.listen();
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const forwarder = await countingForwarder(t, address!);
  const client = createClient({ url: forwarder.address, retries: 0 });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  return { odd: client.proxy(OddService), connections: forwarder.connections };
}

async function drain(stream: AsyncIterable<unknown>): Promise<unknown[]> {
  const items: unknown[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

test('a result whose getter throws a value with throwing traps fails with INTERNAL; the server stays up', { timeout: LIMIT_MS }, async (t) => {
  const { odd, connections } = await start(t);
  await assert.rejects(odd.result(), (error: unknown) => error instanceof RpcError && error.code === Code.INTERNAL && /cannot encode the result/.test(error.message));
  assert.equal(await odd.add(1, 2), 3);
  assert.equal(connections(), 1);
});

test("a stream whose Symbol.asyncIterator getter throws fails that call with INTERNAL", { timeout: LIMIT_MS }, async (t) => {
  const { odd, connections } = await start(t);
  await assert.rejects(drain(odd.iteratorGetterThrows()), { code: Code.INTERNAL });
  assert.equal(await odd.add(2, 2), 4);
  assert.equal(connections(), 1);
});

test('a stream iterator whose next() resolves to no object fails with INTERNAL', { timeout: LIMIT_MS }, async (t) => {
  const { odd } = await start(t);
  await assert.rejects(drain(odd.nextReturnsNothing()), (error: unknown) => error instanceof RpcError && error.code === Code.INTERNAL && /non-object/.test(error.message));
});

test('a stream item whose getter throws ends the stream with INTERNAL', { timeout: LIMIT_MS }, async (t) => {
  const { odd } = await start(t);
  await assert.rejects(drain(odd.itemGetterThrows()), (error: unknown) => error instanceof RpcError && error.code === Code.INTERNAL && /cannot encode a stream item/.test(error.message));
});

test("cancelling a stream whose iterator's return() throws leaves the connection working", { timeout: LIMIT_MS }, async (t) => {
  const { odd, connections } = await start(t);
  for await (const item of odd.returnThrows()) {
    if (item === 2) break;
  }
  assert.equal(await odd.add(3, 4), 7);
  assert.equal(connections(), 1);
});

test('callback arguments whose getter throws reject on the server with INVALID_ARGUMENT', { timeout: LIMIT_MS }, async (t) => {
  const { odd } = await start(t);
  let reached = false;
  const answer = await odd.callbackArgs(async () => {
    reached = true;
  });
  assert.match(answer, /^3: cannot encode callback arguments/);
  assert.equal(reached, false);
});

test("a caller's callback that throws a value with throwing traps, or returns one it cannot encode, answers the server with an RpcError", { timeout: LIMIT_MS }, async (t) => {
  const { odd } = await start(t);
  assert.match(await odd.ask(async () => {
    throw hostile();
  }), /^2: non-error value thrown/);
  assert.match(await odd.ask(async () => throwingGetter()), /^2: /);
  assert.equal(await odd.ask(async () => 'fine'), 'answered fine');
});
