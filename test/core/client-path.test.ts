// One client call path over every transport: deadlines and cancellation fail a call with the same
// code, message and `unprocessed` flag whatever carries it (core/call-watch.ts), and a proxy's
// unary result misused as a stream fails loudly without leaking the call's rejection (core/proxy.ts).
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { Code, RpcError, createClient, createServer, type ServiceProxy } from '../../src/index.js';
import { beforeSending } from '../../src/core/call-watch.js';
import { ClientCall } from '../../src/core/client-call.js';
import type { ProxyResult } from '../../src/core/proxy.js';
import { CalculatorService, calculatorImpl, newLog, onCleanup, waitUntil, type Calculator, type CalculatorLog } from '../support/calculator.js';
import { recordEscapes } from '../support/assertions.js';
import { brokerScope, startAmqpServer } from '../support/rabbitmq.js';

interface Setup {
  calc: ServiceProxy<Calculator>;
  log: CalculatorLog;
  /** How the transport's error messages name the provider. */
  shownAs: RegExp;
}

/** A Calculator server and a fresh client of it, over one transport. */
const transports: Record<string, (t: TestContext) => Promise<Setup>> = {
  tcp: (t) => startOver(t, 'tcp'),
  http: (t) => startOver(t, 'http'),
  grpc: (t) => startOver(t, 'grpc'),
  amqp: async (t) => {
    const scope = await brokerScope(t);
    const { log } = await startAmqpServer(t, scope, 's1');
    return { calc: clientOf(t, scope.url()), log, shownAs: new RegExp(`^amqp://127\\.0\\.0\\.1:5672/\\?exchange=${scope.exchange}(&\\S*)?$`) };
  },
};

async function startOver(t: TestContext, protocol: string): Promise<Setup> {
  const log = newLog();
  const server = createServer({ registry: false, listen: [`${protocol}://127.0.0.1:0`] });
  server.provide(CalculatorService, calculatorImpl(log));
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  return { calc: clientOf(t, address!), log, shownAs: new RegExp(`^${address!.replace(/[.?]/g, '\\$&')}$`) };
}

function clientOf(t: TestContext, url: string): ServiceProxy<Calculator> {
  const client = createClient({ url });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  return client.proxy(CalculatorService);
}

/** Code, message (the provider's address replaced by `<address>`) and `unprocessed` of a failed call. */
async function outcome(call: Promise<unknown>, shownAs: RegExp): Promise<{ code: Code; message: string; unprocessed: boolean }> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof RpcError, `an RpcError, not ${String(error)}`);
    const address = /waiting for (\S+)$/.exec(error.message)?.[1];
    if (address !== undefined) assert.match(address, shownAs, 'the message names the provider as the transport shows it');
    return { code: error.code, message: address === undefined ? error.message : error.message.replace(address, '<address>'), unprocessed: error.unprocessed };
  }
  assert.fail('the call should have failed');
}

const notSent = { code: Code.DEADLINE_EXCEEDED, message: 'deadline exceeded before the call was sent', unprocessed: true };
// What `controller.abort()` without a reason gives a call (the reason is a DOMException AbortError).
const cancelledUnsent = { code: Code.CANCELLED, message: 'cancelled: This operation was aborted', unprocessed: true };
const timedOut = { code: Code.DEADLINE_EXCEEDED, message: 'deadline exceeded waiting for <address>', unprocessed: false };
const cancelled = { ...cancelledUnsent, unprocessed: false };

for (const [name, start] of Object.entries(transports)) {
  describe(`the client call path over ${name}://`, () => {
    test('a deadline already passed fails DEADLINE_EXCEEDED, unprocessed, before and after the connection is up; the server runs nothing', async (t) => {
      const { calc, log, shownAs } = await start(t);
      assert.deepEqual(await outcome(calc.add.with({ deadline: Date.now() - 1 })(1, 2), shownAs), notSent, 'on a channel not yet connected');
      assert.equal(await calc.add(1, 1), 2);
      assert.deepEqual(await outcome(calc.add.with({ deadline: Date.now() - 1 })(1, 2), shownAs), notSent, 'on a connected channel');
      assert.equal(await calc.add(2, 2), 4);
      assert.deepEqual(log.calls.map((call) => call.args), [[1, 1], [2, 2]]);
    });

    test('a signal already aborted fails CANCELLED, unprocessed, before and after the connection is up; the server runs nothing', async (t) => {
      const { calc, log, shownAs } = await start(t);
      assert.deepEqual(await outcome(calc.add.with({ signal: AbortSignal.abort() })(1, 2), shownAs), cancelledUnsent, 'on a channel not yet connected');
      assert.equal(await calc.add(1, 1), 2);
      assert.deepEqual(await outcome(calc.add.with({ signal: AbortSignal.abort() })(1, 2), shownAs), cancelledUnsent, 'on a connected channel');
      const reason = new RpcError(Code.CANCELLED, 'user pressed stop', { details: { button: 'stop' } });
      const own = await calc.add.with({ signal: AbortSignal.abort(reason) })(1, 2).catch((error: unknown) => error);
      assert.ok(own instanceof RpcError);
      assert.deepEqual([own.code, own.message, own.details, own.unprocessed, own.cause], [Code.CANCELLED, 'user pressed stop', { button: 'stop' }, true, reason], 'an RpcError reason keeps its code, message and details');
      assert.equal(await calc.add(2, 2), 4);
      assert.deepEqual(log.calls.map((call) => call.args), [[1, 1], [2, 2]]);
    });

    test('a deadline that passes while the call is in flight fails DEADLINE_EXCEEDED naming the provider, not unprocessed', async (t) => {
      const { calc, log, shownAs } = await start(t);
      assert.equal(await calc.add(1, 1), 2, 'connected, so the request leaves at once');
      const seen = await outcome(calc.slow.with({ timeoutMs: 200 })(10_000), shownAs);
      // The server runs the same deadline from the budget it was sent, and its timer can fire an
      // event-loop turn before the client's: then its own DEADLINE_EXCEEDED answer arrives first.
      // Either way the code is the deadline's and the call counts as sent.
      if (seen.message === 'deadline exceeded') assert.deepEqual(seen, { ...timedOut, message: 'deadline exceeded' });
      else assert.deepEqual(seen, timedOut);
      await waitUntil(() => log.slow[0]?.aborted === true, 5000);
    });

    test('aborting the signal while the call is in flight fails CANCELLED, not unprocessed, and stops the handler', async (t) => {
      const { calc, log, shownAs } = await start(t);
      const controller = new AbortController();
      const pending = outcome(calc.slow.with({ signal: controller.signal })(10_000), shownAs);
      await waitUntil(() => log.slow.length === 1, 5000);
      controller.abort();
      assert.deepEqual(await pending, cancelled);
      await waitUntil(() => log.slow[0]?.aborted === true, 5000);
    });

    test('iterating a unary result throws a TypeError naming the method, and the call\'s failure escapes nowhere', async (t) => {
      const escaped = recordEscapes(t);
      const { calc, log } = await start(t);
      const iterate = async (result: unknown) => {
        for await (const item of result as AsyncIterable<unknown>) assert.fail(`yielded ${String(item)}`);
      };
      // Rejected at once (its signal is aborted), and rejected by the server later (QuotaError).
      await assert.rejects(iterate(calc.add.with({ signal: AbortSignal.abort() })(1, 2)), { name: 'TypeError', message: /^add is not a streaming method/ });
      await assert.rejects(iterate(calc.fail()), { name: 'TypeError', message: /^fail is not a streaming method/ });
      await waitUntil(() => log.calls.some((call) => call.method === 'fail'), 5000);
      assert.equal(await calc.add(1, 1), 2, 'a later call answered: the failed call\'s answer has come back too');
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(escaped, []);
    });
  });
}

test('a proxy method gives an AsyncIterable only for a method typed to return one', async (t) => {
  type Same<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
  const checks: [
    Same<ProxyResult<AsyncIterable<number>>, AsyncIterable<number>>,
    Same<ProxyResult<AsyncGenerator<string>>, AsyncIterable<string>>,
    Same<ProxyResult<Promise<number>>, Promise<number>>,
    Same<ProxyResult<number>, Promise<number>>,
    Same<ProxyResult<Promise<number> | AsyncIterable<number>>, Promise<number | AsyncIterable<number>>>,
    Same<ProxyResult<unknown>, Promise<unknown>>,
    Same<ProxyResult<void>, Promise<void>>,
  ] = [true, true, true, true, true, true, true];
  assert.ok(checks.every(Boolean));
  const { calc } = await startOver(t, 'tcp');
  const result = calc.add(1, 2);
  // @ts-expect-error a unary method's result is a promise: the compiler refuses to iterate it
  await assert.rejects(async () => { for await (const item of result) assert.fail(String(item)); }, TypeError);
  assert.equal(await result, 3, 'and the promise still gives the result');
});

test('a call given up while it waits for a connection fails as not sent, and the connection attempt goes on', async () => {
  const call = (deadline: number | undefined, signal: AbortSignal | undefined) => new ClientCall(CalculatorService, 'add', [1, 2], undefined, deadline, signal, false, undefined);
  let connect!: (value: string) => void;
  const connecting = new Promise<string>((resolve) => (connect = resolve));
  assert.deepEqual(await outcome(beforeSending(connecting, call(Date.now() + 50, undefined)), /^$/), notSent);
  const controller = new AbortController();
  const waiting = outcome(beforeSending(connecting, call(undefined, controller.signal)), /^$/);
  controller.abort();
  assert.deepEqual(await waiting, cancelledUnsent);
  const patient = beforeSending(connecting, call(Date.now() + 60_000, new AbortController().signal));
  connect('connected');
  assert.equal(await patient, 'connected', 'a call whose deadline and signal allow it gets the connection');
});
