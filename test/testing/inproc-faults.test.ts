import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Code, currentCall, defineService } from '../../src/index.js';
import { MemoryRegistry, inprocFaults, service, startClient, startServer } from '../../src/testing/index.js';
import { hasCode, recordEscapes, rejection } from '../support/assertions.js';
import { CalculatorService, calculatorImpl, newLog, waitUntil } from '../support/calculator.js';

interface Named {
  name(): Promise<string>;
  /** Resolves after `ms`, or rejects once the call is aborted. */
  hold(ms: number): Promise<string>;
}

const NamedService = defineService<Named>('testing.Named', { methods: { name: {}, hold: {} } });

function named(label: string, served: string[]): Named {
  return {
    async name() {
      served.push(label);
      return label;
    },
    async hold(ms) {
      served.push(label);
      await sleep(ms, undefined, { signal: currentCall().signal });
      return label;
    },
  };
}

const MiB = 1024 * 1024;

describe('faults on inproc:// addresses, met through real proxies', () => {
  test('latency delays every round trip by twice its value, and calls still succeed', async (t) => {
    const escaped = recordEscapes(t);
    await using server = await startServer({ services: [service(CalculatorService, calculatorImpl(newLog()))] });
    await using client = startClient(server);
    const calc = client.proxy(CalculatorService);
    await calc.add(0, 0); // connected before the fault, so the measure is one call's round trip
    server.faults.update({ latencyMs: 40, jitterMs: 10 });
    const started = Date.now();
    assert.equal(await calc.add(1, 2), 3);
    // A lower bound only, which the link guarantees: the request and the answer each wait 40 ms at least.
    assert.ok(Date.now() - started >= 80, `took ${Date.now() - started} ms`);
    assert.deepEqual(escaped, []);
  });

  test('an error fault answers the matching calls with its code; their implementation never runs', async (t) => {
    const escaped = recordEscapes(t);
    const log = newLog();
    await using server = await startServer({
      services: [service(CalculatorService, calculatorImpl(log))],
      faults: { errors: [{ code: Code.INTERNAL, method: 'divide', message: 'disk on fire' }] },
    });
    await using client = startClient(server);
    const calc = client.proxy(CalculatorService);
    const failed = await rejection(calc.divide(6, 3));
    assert.equal(failed.code, Code.INTERNAL);
    assert.equal(failed.message, 'disk on fire');
    assert.equal(failed.unprocessed, false, 'the provider answered: the call may have run, as far as the caller knows');
    assert.equal(await calc.add(1, 1), 2);
    assert.deepEqual(log.calls.map((call) => call.method), ['add']);
    server.faults.clear();
    assert.equal(await calc.divide(6, 3), 2);
    assert.deepEqual(escaped, []);
  });

  test('an error share fails the same calls under the same seed', async (t) => {
    const escaped = recordEscapes(t);
    const outcomes = async (seed: number): Promise<string> => {
      await using server = await startServer({
        services: [service(CalculatorService, calculatorImpl(newLog()))],
        faults: { errors: [{ code: Code.UNAVAILABLE, share: 0.5 }] },
        seed,
      });
      await using client = startClient(server, { cluster: 'failfast' });
      const calc = client.proxy(CalculatorService);
      let pattern = '';
      for (let i = 0; i < 30; i++) pattern += await calc.add(i, 1).then(() => '.', (error: unknown) => (hasCode(Code.UNAVAILABLE)(error) ? 'x' : '?'));
      return pattern;
    };
    const first = await outcomes(2024);
    assert.equal(await outcomes(2024), first);
    assert.match(first, /x/);
    assert.match(first, /\./);
    assert.deepEqual(escaped, []);
  });

  test('a frozen provider takes calls and answers none: the deadline fires, and a thaw runs what still waits', async (t) => {
    const escaped = recordEscapes(t);
    const served: string[] = [];
    const arrived: string[] = [];
    await using server = await startServer({
      services: [service(NamedService, named('frozen', served))],
      // The server's observers see a call once it is decoded and admitted: before the freeze holds it.
      observers: [{ serverCall: (_entry, call) => void arrived.push(call.method) }],
    });
    await using client = startClient(server);
    const remote = client.proxy(NamedService);
    assert.equal(await remote.name(), 'frozen');
    server.faults.update({ frozen: true });
    await assert.rejects(remote.name.with({ timeoutMs: 100 })(), hasCode(Code.DEADLINE_EXCEEDED));
    const waiting = remote.name();
    await waitUntil(() => arrived.length === 3);
    assert.deepEqual(served, ['frozen'], 'the frozen provider took both calls and ran neither');
    server.faults.update({ frozen: false });
    assert.equal(await waiting, 'frozen');
    assert.deepEqual(served, ['frozen', 'frozen'], 'the call that timed out never ran; the one that waited ran once');
    assert.deepEqual(escaped, []);
  });

  test('with two providers in a memory registry, calls fail over away from a dead one', async (t) => {
    const escaped = recordEscapes(t);
    const namespace = `failover-${process.pid}`;
    t.after(() => MemoryRegistry.clear(namespace));
    const served: string[] = [];
    await using alive = await startServer({ services: [service(NamedService, named('alive', served))], registry: `memory://${namespace}` });
    await using doomed = await startServer({ services: [service(NamedService, named('doomed', served))], registry: `memory://${namespace}` });
    await using client = startClient({ registry: `memory://${namespace}`, loadBalance: 'roundrobin', circuitBreaker: false });
    const remote = client.proxy(NamedService);
    for (let i = 0; i < 10; i++) await remote.name();
    assert.deepEqual(new Set(served), new Set(['alive', 'doomed']), 'both providers served before');

    // A call in flight on the provider as it dies fails: it may have run, so it is not sent again.
    await using direct = startClient(doomed);
    const inFlight = rejection(direct.proxy(NamedService).hold(10_000));
    await waitUntil(() => served.length === 11);
    inprocFaults(doomed.address).update({ dead: true });
    const lost = await inFlight;
    assert.equal(lost.code, Code.UNAVAILABLE);
    assert.equal(lost.unprocessed, false);

    served.length = 0;
    for (let i = 0; i < 20; i++) assert.equal(await remote.name(), 'alive');
    assert.deepEqual(new Set(served), new Set(['alive']), 'the dead provider took no call');
    assert.equal(alive.faults.current.dead, undefined, 'only the doomed provider was made dead');

    // Revived, it is let in again once the client's backoff allows a new connection.
    doomed.faults.update({ dead: false });
    for (const until = Date.now() + 5000; !served.includes('doomed'); await sleep(20)) {
      assert.ok(Date.now() < until, 'the revived provider served again within 5 s');
      await remote.name();
    }
    assert.deepEqual(escaped, []);
  });

  test('a blackholed address passes no byte: deadlines fire; lifted, the same connection carries calls again', async (t) => {
    const escaped = recordEscapes(t);
    const log = newLog();
    await using server = await startServer({ services: [service(CalculatorService, calculatorImpl(log))] });
    await using client = startClient(server);
    const calc = client.proxy(CalculatorService);
    assert.equal(await calc.add(1, 1), 2);
    server.faults.update({ blackhole: true });
    const failed = await rejection(calc.add.with({ timeoutMs: 100 })(2, 2));
    assert.equal(failed.code, Code.DEADLINE_EXCEEDED);
    assert.deepEqual(log.calls.map((call) => call.args), [[1, 1]], 'the blackholed request never arrived');
    await using newcomer = startClient(server);
    const stuck = await rejection(newcomer.proxy(CalculatorService).add.with({ timeoutMs: 100 })(5, 5));
    assert.equal(stuck.code, Code.DEADLINE_EXCEEDED);
    assert.equal(stuck.unprocessed, true, 'a new connection never got past its setup, so nothing was sent');
    server.faults.update({ blackhole: false });
    assert.equal(await calc.add(3, 3), 6);
    assert.deepEqual(escaped, []);
  });

  test('a slow link makes a 1 MiB echo wait for its bytes, which all arrive intact', async (t) => {
    const escaped = recordEscapes(t);
    await using server = await startServer({ services: [service(CalculatorService, calculatorImpl(newLog()))] });
    await using client = startClient(server);
    const calc = client.proxy(CalculatorService);
    const payload = new Uint8Array(MiB).map((_, i) => (i * 31) & 0xff);

    let started = Date.now();
    assert.ok(sameBytes(await calc.echo(payload), payload));
    const unlimitedMs = Date.now() - started;

    const bytesPerSecond = 8 * MiB;
    server.faults.update({ bytesPerSecond });
    started = Date.now();
    assert.ok(sameBytes(await calc.echo(payload), payload));
    const limitedMs = Date.now() - started;
    // A MiB each way at 8 MiB/s: no less than 250 ms, which the link guarantees however fast the machine.
    assert.ok(limitedMs >= 240, `the limited echo took ${limitedMs} ms (unlimited: ${unlimitedMs} ms)`);
    assert.deepEqual(escaped, []);
  });
});

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
