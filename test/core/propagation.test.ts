// A handler's own calls take the deadline of the call it serves and are cancelled with it, on each
// of the four transports: A calls B, B's handler calls C, and C's handler sees what A set.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { Code, createClient, createServer, currentCall, defineService, RpcError, type ServiceProxy } from '../../src/index.js';
import { recordEscapes, rejection } from '../support/assertions.js';
import { onCleanup } from '../support/calculator.js';
import { BrokerScope, ensureRabbitMQ } from '../support/rabbitmq.js';

interface Far {
  /** Waits until its signal fires; tells `started` first. */
  wait(): Promise<string>;
}
interface Near {
  /** Calls Far.wait after an await (or at once, with `sync`), with its own options. */
  relay(sync: boolean, propagate: boolean, ownTimeoutMs: number): Promise<string>;
}
const FarService = defineService<Far>('test.propagation.Far', { methods: { wait: {} } });
const NearService = defineService<Near>('test.propagation.Near', { methods: { relay: {} } });

/** What the far handler saw of each call. */
interface FarCall {
  deadline: number | undefined;
  ended: Promise<RpcError>;
}

interface Chain {
  near: ServiceProxy<Near>;
  farCalls: FarCall[];
  /** Resolves when the far handler has started the next call. */
  nextFarCall(): Promise<FarCall>;
}

async function listenOn(t: TestContext, transport: string, name: string): Promise<{ listen: string; url?: string }> {
  if (transport !== 'amqp') return { listen: `${transport}://127.0.0.1:0` };
  await ensureRabbitMQ();
  const scope = new BrokerScope().uses(FarService.id, NearService.id);
  onCleanup(t, () => scope.cleanup());
  return { listen: scope.url({ server: name }), url: scope.url() };
}

/** A (the test) → B (Near) → C (Far), every hop over `transport`. */
async function chain(t: TestContext, transport: string, asyncContext: boolean): Promise<Chain> {
  const farCalls: FarCall[] = [];
  const waiting: Array<(call: FarCall) => void> = [];
  const farSpec = await listenOn(t, transport, 'far');
  const far = createServer({ registry: false, listen: [farSpec.listen] });
  far.provide(FarService, {
    wait: () => {
      const { deadline, signal } = currentCall();
      const ended = new Promise<RpcError>((resolve) => signal!.addEventListener('abort', () => resolve(signal!.reason as RpcError), { once: true }));
      const seen = { deadline, ended };
      farCalls.push(seen);
      waiting.shift()?.(seen);
      return ended.then((reason) => Promise.reject(reason));
    },
  });
  onCleanup(t, () => far.close({ timeoutMs: 2000 }));
  const [farBound] = await far.listen();
  const toFar = createClient({ url: transport === 'amqp' ? farSpec.url! : farBound!, cluster: 'failfast', circuitBreaker: false });
  onCleanup(t, () => toFar.close({ timeoutMs: 2000 }));
  const farProxy = toFar.proxy(FarService);

  const nearSpec = await listenOn(t, transport, 'near');
  const near = createServer({ registry: false, listen: [nearSpec.listen], asyncContext });
  near.provide(NearService, {
    relay: async (sync, propagate, ownTimeoutMs) => {
      const options = { propagate, ...(ownTimeoutMs > 0 ? { timeoutMs: ownTimeoutMs } : {}) };
      if (sync) return farProxy.wait.with(options)();
      await nextTurn();
      return farProxy.wait.with(options)();
    },
  });
  onCleanup(t, () => near.close({ timeoutMs: 2000 }));
  const [nearBound] = await near.listen();
  const toNear = createClient({ url: transport === 'amqp' ? nearSpec.url! : nearBound!, cluster: 'failfast', circuitBreaker: false });
  onCleanup(t, () => toNear.close({ timeoutMs: 2000 }));
  return { near: toNear.proxy(NearService), farCalls, nextFarCall: () => new Promise((resolve) => waiting.push(resolve)) };
}

describe('calls made by handlers inherit the deadline and cancellation of the call they serve', () => {
  // First, while nothing has turned tracking on in this process (the far handler's currentCall() does).
  it('without asyncContext, a call made in the handler\'s synchronous part inherits', async (t) => {
    const escaped = recordEscapes(t);
    const { near, nextFarCall } = await chain(t, 'tcp', false);
    const sync = nextFarCall();
    const syncCall = rejection(near.relay.with({ timeoutMs: 400 })(true, true, 0));
    assert.notEqual((await sync).deadline, undefined);
    assert.equal((await syncCall).code, Code.DEADLINE_EXCEEDED);
    assert.deepEqual(escaped, []);
  });

  for (const transport of ['tcp', 'http', 'grpc', 'amqp']) {
    it(`over ${transport}: the far handler gets the caller's deadline, and is cancelled when the caller cancels`, async (t) => {
      const escaped = recordEscapes(t);
      const { near, nextFarCall } = await chain(t, transport, true);

      // Deadline: A gives 600 ms; C's handler sees a deadline no later than A's, and gives up at it.
      const before = Date.now();
      const started = nextFarCall();
      const timedOut = rejection(near.relay.with({ timeoutMs: 600 })(false, true, 0));
      const farCall = await started;
      const after = Date.now();
      assert.notEqual(farCall.deadline, undefined, 'the far call has a deadline');
      assert.ok(farCall.deadline! <= after + 600 + 5, `far deadline ${farCall.deadline! - before} ms after the call, A's is 600`);
      assert.ok(farCall.deadline! >= before + 600 - 100, `far deadline ${farCall.deadline! - before} ms after the call is not far short of A's`);
      // The far server's own timer, or the near client giving up at the same instant (which over
      // http closes the connection first), ends it: either way its handler hears of it.
      assert.ok(([Code.DEADLINE_EXCEEDED, Code.CANCELLED] as Code[]).includes((await farCall.ended).code));
      assert.equal((await timedOut).code, Code.DEADLINE_EXCEEDED);

      // Cancellation: A aborts; B's call to C is cancelled, and C's handler hears it.
      const controller = new AbortController();
      const started2 = nextFarCall();
      const cancelled = rejection(near.relay.with({ signal: controller.signal })(false, true, 0));
      const farCall2 = await started2;
      assert.equal(farCall2.deadline, undefined, 'no deadline anywhere: none inherited');
      controller.abort();
      assert.equal((await farCall2.ended).code, Code.CANCELLED);
      assert.equal((await cancelled).code, Code.CANCELLED);
      assert.deepEqual(escaped, []);
    });
  }

  it('a handler\'s own earlier deadline wins; propagate: false lets a call outlive the one it serves', async (t) => {
    const escaped = recordEscapes(t);
    const { near, nextFarCall } = await chain(t, 'tcp', true);
    const before = Date.now();
    const started = nextFarCall();
    const own = rejection(near.relay.with({ timeoutMs: 5000 })(false, true, 300));
    const farCall = await started;
    assert.ok(farCall.deadline! < before + 1000, 'the handler\'s 300 ms, not the caller\'s 5 s');
    assert.equal((await own).code, Code.DEADLINE_EXCEEDED);

    const controller = new AbortController();
    const started2 = nextFarCall();
    const detached = rejection(near.relay.with({ signal: controller.signal, timeoutMs: 5000 })(false, false, 0));
    const farCall2 = await started2;
    assert.equal(farCall2.deadline, undefined, 'propagate: false takes no deadline');
    controller.abort();
    assert.equal((await detached).code, Code.CANCELLED);
    const stillRunning = await Promise.race([farCall2.ended.then(() => 'ended'), sleep(200, 'running')]);
    assert.equal(stillRunning, 'running', 'the far call was not cancelled with the near one');
    assert.deepEqual(escaped, []);
  });

});
