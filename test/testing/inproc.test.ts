import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Code, createServer, currentCall, defineService, type Interceptor } from '../../src/index.js';
import { service, startClient, startServer } from '../../src/testing/index.js';
import { hasCode, recordEscapes, rejection } from '../support/assertions.js';
import { CalculatorService, calculatorImpl, newLog, onCleanup, waitUntil } from '../support/calculator.js';

/** A class whose instances lose their prototype on any wire. */
class Point {
  constructor(readonly x: number, readonly y: number) {}
  norm(): number {
    return Math.hypot(this.x, this.y);
  }
}

interface Shapes {
  /** Mutates what it received, then reports what it saw. */
  inspect(value: unknown, bytes: Uint8Array): Promise<{ isPoint: boolean; keys: string[]; first: number }>;
  /** Counts up from 0, recording in `produced` how far the implementation got. */
  count(limit: number): AsyncIterable<number>;
  /** Echoes the request metadata entry `who`, and answers with response metadata `served-by`. */
  whoami(): Promise<string>;
  /** Calls the caller back `times` times, collecting its answers. */
  tick(times: number, onTick: (n: number) => Promise<string>): Promise<string[]>;
}

const ShapesService = defineService<Shapes>('testing.Shapes', {
  methods: { inspect: {}, count: { stream: 'server' }, whoami: {}, tick: {} },
});

function shapes(produced: { count: number }): Shapes {
  return {
    async inspect(value, bytes) {
      const first = bytes[0]!;
      bytes[0] = 99;
      return { isPoint: value instanceof Point, keys: Object.keys(value as object).sort(), first };
    },
    async *count(limit) {
      for (let i = 0; i < limit; i++) {
        produced.count = i + 1;
        yield i;
      }
    },
    async whoami() {
      const call = currentCall();
      call.responseMetadata.set('served-by', 'shapes-1');
      return String(call.metadata.get('who') ?? 'nobody');
    },
    async tick(times, onTick) {
      const answers: string[] = [];
      for (let n = 1; n <= times; n++) answers.push(await onTick(n));
      return answers;
    },
  };
}

describe('inproc:// carries calls through real proxies, in memory', () => {
  test('a call reaches the implementation and comes back, and no socket is opened for it', async (t) => {
    const escaped = recordEscapes(t);
    const log = newLog();
    await using server = await startServer({ services: [service(CalculatorService, calculatorImpl(log))] });
    await using client = startClient(server);
    assert.match(server.address, /^inproc:\/\/testing:\d+$/);
    const calc = client.proxy(CalculatorService);
    assert.equal(await calc.add(2, 3), 5);
    assert.deepEqual(log.calls.map((call) => [call.method, call.args]), [['add', [2, 3]]]);
    const resources = process.getActiveResourcesInfo();
    assert.ok(!resources.some((name) => name.startsWith('TCP')), `no TCP handle is open: ${resources.join(', ')}`);
    assert.deepEqual(escaped, []);
  });

  test('values go through the serializer: a class instance arrives as plain data, bytes as a copy, a symbol is refused', async () => {
    const produced = { count: 0 };
    await using server = await startServer({ services: [service(ShapesService, shapes(produced))] });
    await using client = startClient(server);
    const remote = client.proxy(ShapesService);
    const bytes = new Uint8Array([1, 2, 3]);
    const seen = await remote.inspect(new Point(3, 4), bytes);
    assert.deepEqual(seen, { isPoint: false, keys: ['x', 'y'], first: 1 });
    assert.equal(bytes[0], 1, "the server's change to its copy does not reach the caller's bytes");
    const refused = await rejection(remote.inspect(Symbol('nope'), bytes));
    assert.equal(refused.code, Code.INVALID_ARGUMENT);
    assert.equal(refused.unprocessed, true);
  });

  test('a deadline fires: the caller gets DEADLINE_EXCEEDED and the handler sees its signal abort', async () => {
    const log = newLog();
    await using server = await startServer({ services: [service(CalculatorService, calculatorImpl(log))] });
    await using client = startClient(server);
    const calc = client.proxy(CalculatorService);
    await assert.rejects(calc.slow.with({ timeoutMs: 50 })(10_000), hasCode(Code.DEADLINE_EXCEEDED));
    await waitUntil(() => log.slow[0]?.aborted === true);
    assert.equal(log.slow[0]!.finished, false);
    assert.ok(log.slow[0]!.deadline !== undefined, 'the deadline travelled with the call');
  });

  test("cancelling the caller's signal fails the call CANCELLED and aborts the handler", async () => {
    const log = newLog();
    await using server = await startServer({ services: [service(CalculatorService, calculatorImpl(log))] });
    await using client = startClient(server);
    const controller = new AbortController();
    const pending = client.proxy(CalculatorService).slow.with({ signal: controller.signal })(10_000);
    await waitUntil(() => log.slow.length === 1);
    controller.abort();
    await assert.rejects(pending, hasCode(Code.CANCELLED));
    await waitUntil(() => log.slow[0]!.aborted);
  });

  test('metadata travels both ways, and interceptors run on both sides', async () => {
    const serverSaw: string[] = [];
    const tagging: Interceptor = (next) => (call) => {
      call.metadata.set('who', 'alice');
      return next(call);
    };
    const recording: Interceptor = (next) => (call) => {
      serverSaw.push(`${call.method} from ${String(call.metadata.get('who'))}`);
      return next(call);
    };
    await using server = await startServer({ services: [service(ShapesService, shapes({ count: 0 }))], interceptors: [recording] });
    await using client = startClient(server, { interceptors: [tagging] });
    let servedBy: unknown;
    const answer = await client.proxy(ShapesService).whoami.with({ onResponseMetadata: (metadata) => (servedBy = metadata.get('served-by')) })();
    assert.equal(answer, 'alice');
    assert.equal(servedBy, 'shapes-1');
    assert.deepEqual(serverSaw, ['whoami from alice']);
  });

  test('errors arrive as RpcError with their code, name, message and details', async () => {
    await using server = await startServer({ services: [service(CalculatorService, calculatorImpl(newLog()))] });
    await using client = startClient(server);
    const calc = client.proxy(CalculatorService);
    const divided = await rejection(calc.divide(1, 0));
    assert.equal(divided.code, Code.INVALID_ARGUMENT);
    assert.equal(divided.message, 'cannot divide by zero');
    assert.deepEqual(divided.details, { field: 'b', value: 0 });
    const failed = await rejection(calc.fail());
    assert.equal(failed.name, 'QuotaError');
    assert.equal(failed.message, 'quota of 10 calls exceeded');
  });

  test('a server stream is pulled only as fast as its reader takes items', async () => {
    const produced = { count: 0 };
    await using server = await startServer({ services: [service(ShapesService, shapes(produced))] });
    await using client = startClient(server);
    const received: number[] = [];
    for await (const item of client.proxy(ShapesService).count(1000)) {
      received.push(item);
      if (received.length === 3) {
        await sleep(100); // the reader stalls: the producer must stop within its credit
        assert.ok(produced.count < 3 + 40, `the producer ran ahead by ${produced.count - 3} items only`);
      }
      if (received.length === 50) break;
    }
    assert.deepEqual(received, Array.from({ length: 50 }, (_, i) => i));
  });

  test('a function argument is called back over the same in-memory connection', async () => {
    await using server = await startServer({ services: [service(ShapesService, shapes({ count: 0 }))] });
    await using client = startClient(server);
    const answers = await client.proxy(ShapesService).tick(3, async (n) => `tick ${n}`);
    assert.deepEqual(answers, ['tick 1', 'tick 2', 'tick 3']);
  });

  test('port 0 takes a fresh port each time; a taken address fails to listen with UNAVAILABLE', async (t) => {
    await using first = await startServer({ listen: ['inproc://orders:0'] });
    await using second = await startServer({ listen: ['inproc://orders:0'] });
    assert.notEqual(first.address, second.address);
    const clash = createServer({ registry: false, listen: [first.address] });
    onCleanup(t, () => clash.close({ timeoutMs: 100 }));
    await assert.rejects(clash.listen(), hasCode(Code.UNAVAILABLE, /already in use/));
  });

  test('an address nothing listens on fails UNAVAILABLE, unprocessed, so a caller may go elsewhere', async () => {
    await using client = startClient('inproc://nobody:4242');
    const failed = await rejection(client.proxy(CalculatorService).add(1, 2));
    assert.equal(failed.code, Code.UNAVAILABLE);
    assert.equal(failed.unprocessed, true);
    assert.match(failed.message, /ECONNREFUSED inproc:\/\/nobody:4242/);
  });

  test('closing the server lets a call in flight finish, then the address refuses new connections', async () => {
    const log = newLog();
    const server = await startServer({ services: [service(CalculatorService, calculatorImpl(log))] });
    await using client = startClient(server);
    const calc = client.proxy(CalculatorService);
    const inFlight = calc.slow(50);
    await waitUntil(() => log.slow.length === 1);
    await server.close();
    assert.equal(await inFlight, 50);
    await using late = startClient(server.address);
    await assert.rejects(late.proxy(CalculatorService).add(1, 1), hasCode(Code.UNAVAILABLE));
  });
});

