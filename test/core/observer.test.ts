import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createServer } from 'net';
import {
  Code,
  RpcError,
  codeName,
  createClient,
  currentCall,
  defineService,
  withOwnMetadata,
  type AttemptTarget,
  type ClientObserver,
  type Invocation,
  type ServerObserver,
} from '../../src/index.js';
import { CalculatorService, startClient, startServer } from '../support/calculator.js';

interface Seen {
  what: string;
  code?: string;
}

/** Writes down what the server's observer is told, in order. */
function recordingServer(seen: Seen[], context: { current?: string }): ServerObserver {
  return {
    serverCall(entry) {
      seen.push({ what: `start ${entry.method}` });
      return {
        run: (fn) => {
          context.current = entry.method;
          try {
            return fn();
          } finally {
            context.current = undefined;
          }
        },
        end: (error) => seen.push({ what: `end ${entry.method}`, code: error === undefined ? 'OK' : codeName(error.code) }),
      };
    },
  };
}

function recordingClient(seen: Seen[]): ClientObserver {
  return {
    clientCall(call) {
      seen.push({ what: `call ${call.method}` });
      return { end: (error) => seen.push({ what: `call-end ${call.method}`, code: error === undefined ? 'OK' : codeName(error.code) }) };
    },
    attempt(call: Invocation, target: AttemptTarget) {
      seen.push({ what: `attempt ${target.protocol} ${call.method}` });
      const sent = withOwnMetadata(call);
      sent.metadata.set('x-attempt', target.address);
      return { call: sent, end: (error) => seen.push({ what: `attempt-end ${call.method}`, code: error === undefined ? 'OK' : codeName(error.code) }) };
    },
  };
}

test('a server observer sees each call start and end with its code, and runs the handler inside its probe', async (t) => {
  const seen: Seen[] = [];
  const context: { current?: string } = {};
  let inside: string | undefined;
  const { address } = await startServer(t, {
    observers: [recordingServer(seen, context)],
    implementation: () => ({
      add: async (a, b) => {
        inside = context.current;
        return a + b;
      },
      divide: async () => {
        throw new RpcError(Code.INVALID_ARGUMENT, 'no');
      },
      slow: async (ms) => ms,
      echo: async (bytes) => bytes,
      notify: async () => undefined,
      fail: async () => {
        throw new Error('boom');
      },
    }),
  });
  const { calc } = startClient(t, address);
  assert.equal(await calc.add(1, 2), 3);
  assert.equal(inside, 'add');
  await assert.rejects(calc.divide(1, 0), { code: Code.INVALID_ARGUMENT });
  await assert.rejects(calc.fail(), { code: Code.UNKNOWN });
  assert.deepEqual(seen, [
    { what: 'start add' }, { what: 'end add', code: 'OK' },
    { what: 'start divide' }, { what: 'end divide', code: 'INVALID_ARGUMENT' },
    { what: 'start fail' }, { what: 'end fail', code: 'UNKNOWN' },
  ]);
});

test('a server stream is observed until its last item, after the answer went out', async (t) => {
  const Ticks = defineService<{ ticks(n: number): AsyncIterable<number> }>('test.Ticks', { methods: { ticks: { stream: 'server' } } });
  const seen: Seen[] = [];
  const { address } = await startServer(t, {
    observers: [recordingServer(seen, {})],
    setup: (server) => server.provide(Ticks, {
      async *ticks(n: number) {
        for (let i = 0; i < n; i++) {
          seen.push({ what: `item ${i}` });
          yield i;
        }
      },
    }),
  });
  const { client } = startClient(t, address);
  const items: number[] = [];
  for await (const item of client.proxy(Ticks).ticks(3)) items.push(item);
  assert.deepEqual(items, [0, 1, 2]);
  assert.deepEqual(seen.map((s) => s.what), ['start ticks', 'item 0', 'item 1', 'item 2', 'end ticks']);
});

test('a client observer sees one logical call and one attempt per provider tried; an attempt sends its own metadata', async (t) => {
  const seen: Seen[] = [];
  const { address } = await startServer(t, {
    implementation: () => ({
      add: async (a, b) => {
        seen.push({ what: `server saw ${String(currentCall().metadata.get('x-attempt'))}` });
        return a + b;
      },
      divide: async (a, b) => a / b,
      slow: async (ms) => ms,
      echo: async (bytes) => bytes,
      notify: async () => undefined,
      fail: async () => {
        throw new Error('boom');
      },
    }),
  });
  const dead = await closedPort();
  // Round robin over a dead address and a live one: the first attempt fails unprocessed, failover tries the other.
  const client = createClient({ url: [`tcp://127.0.0.1:${dead}`, address], observers: [recordingClient(seen)], loadBalance: 'roundrobin' });
  t.after(() => client.close());
  const calc = client.proxy(CalculatorService);
  for (let i = 0; i < 2; i++) assert.equal(await calc.add(i, 1), i + 1);
  const attempts = seen.filter((s) => s.what.startsWith('attempt-end'));
  const calls = seen.filter((s) => s.what.startsWith('call-end'));
  assert.equal(calls.length, 2);
  assert.ok(calls.every((c) => c.code === 'OK'));
  assert.ok(attempts.length >= 3, `one failed attempt at the dead address and one good one per call: ${JSON.stringify(seen)}`);
  assert.ok(attempts.some((a) => a.code === 'UNAVAILABLE'));
  assert.ok(seen.some((s) => s.what === `server saw ${address}`), 'the attempt\'s own metadata reached the server');
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
