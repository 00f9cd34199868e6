import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { Code, defineService } from '../../src/index.js';
import { faultProxy, service, startClient, startServer, type LinkFaults } from '../../src/testing/index.js';
import { hasCode, recordEscapes, rejection } from '../support/assertions.js';
import { CalculatorService, calculatorImpl, newLog, waitUntil } from '../support/calculator.js';

interface Named {
  name(): Promise<string>;
}

const NamedService = defineService<Named>('testing.ProxiedNamed', { methods: { name: {} } });

/** A real tcp:// server of the Calculator, recording in `log`. */
function calculatorServer(log = newLog()) {
  return startServer({ listen: ['tcp'], services: [service(CalculatorService, calculatorImpl(log))] });
}

/** A Calculator server, a fault proxy in front of it and a client of the proxy; closed together. */
async function proxied(faults?: LinkFaults) {
  const log = newLog();
  const server = await calculatorServer(log);
  const proxy = await faultProxy({ target: server.address, faults });
  const client = startClient(proxy.address);
  return {
    log,
    server,
    proxy,
    calc: client.proxy(CalculatorService),
    async [Symbol.asyncDispose]() {
      await client.close();
      await proxy.close();
      await server.close();
    },
  };
}

const MiB = 1024 * 1024;

describe('a TCP fault proxy in front of a real server', () => {
  test('passes calls through unchanged, one upstream connection per client connection', async (t) => {
    const escaped = recordEscapes(t);
    await using server = await calculatorServer();
    await using proxy = await faultProxy({ target: server.address });
    assert.match(proxy.address, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(proxy.address, server.address);
    await using client = startClient(proxy.address);
    const calc = client.proxy(CalculatorService);
    assert.equal(await calc.add(40, 2), 42);
    assert.deepEqual(await rejection(calc.divide(1, 0)).then((error) => error.details), { field: 'b', value: 0 });
    assert.equal(proxy.connections, 1);
    assert.deepEqual(escaped, []);
  });

  test('latency delays each round trip by at least twice its value', async (t) => {
    const escaped = recordEscapes(t);
    await using setup = await proxied();
    const { calc, proxy } = setup;
    await calc.add(0, 0);
    proxy.faults.update({ latencyMs: 30, jitterMs: 20 });
    const started = Date.now();
    assert.equal(await calc.add(1, 2), 3);
    assert.ok(Date.now() - started >= 60, `took ${Date.now() - started} ms`);
    assert.deepEqual(escaped, []);
  });

  test('a slow link makes a 1 MiB echo wait for its bytes, which all arrive intact', async (t) => {
    const escaped = recordEscapes(t);
    await using setup = await proxied({ bytesPerSecond: 8 * MiB });
    const payload = new Uint8Array(MiB).map((_, i) => (i * 7) & 0xff);
    const started = Date.now();
    const echoed = await setup.calc.echo(payload);
    const tookMs = Date.now() - started;
    assert.ok(Buffer.from(echoed.buffer, echoed.byteOffset, echoed.byteLength).equals(payload));
    // A MiB each way at 8 MiB/s cannot take less than 250 ms: a lower bound the proxy guarantees.
    assert.ok(tookMs >= 240, `took ${tookMs} ms`);
    assert.deepEqual(escaped, []);
  });

  test('a blackhole keeps the connection open and passes nothing: deadlines fire; lifted, calls flow again', async (t) => {
    const escaped = recordEscapes(t);
    await using setup = await proxied();
    const { calc, proxy, log } = setup;
    assert.equal(await calc.add(1, 1), 2);
    proxy.faults.update({ blackhole: true });
    await assert.rejects(calc.add.with({ timeoutMs: 100 })(2, 2), hasCode(Code.DEADLINE_EXCEEDED));
    assert.equal(proxy.connections, 1, 'the connection stayed open');
    assert.deepEqual(log.calls.map((call) => call.args), [[1, 1]], 'the blackholed request never reached the server');
    proxy.faults.update({ blackhole: false });
    assert.equal(await calc.add(3, 3), 6);
    assert.equal(proxy.connections, 1, 'over the same connection');
    assert.deepEqual(escaped, []);
  });

  test('reset drops the open connections: a call in flight fails UNAVAILABLE, the next one reconnects', async (t) => {
    const escaped = recordEscapes(t);
    await using setup = await proxied();
    const { calc, proxy, log } = setup;
    const inFlight = rejection(calc.slow(10_000));
    await waitUntil(() => log.slow.length === 1);
    proxy.reset();
    const lost = await inFlight;
    assert.equal(lost.code, Code.UNAVAILABLE);
    assert.equal(lost.unprocessed, false, 'the request had been sent: it may have run');
    await waitUntil(() => log.slow[0]!.aborted, 2000);
    assert.equal(await calc.add(2, 2), 4);
    assert.deepEqual(escaped, []);
  });

  test('a dead proxy resets every connection it is offered: calls fail over to the live provider', async (t) => {
    const escaped = recordEscapes(t);
    const served: string[] = [];
    const impl = (label: string): Named => ({
      async name() {
        served.push(label);
        return label;
      },
    });
    await using behind = await startServer({ listen: ['tcp'], services: [service(NamedService, impl('behind'))] });
    await using live = await startServer({ listen: ['tcp'], services: [service(NamedService, impl('live'))] });
    await using proxy = await faultProxy({ target: behind.address, faults: { dead: true } });
    await using client = startClient([proxy.address, live.address], { loadBalance: 'roundrobin', circuitBreaker: false });
    const remote = client.proxy(NamedService);
    for (let i = 0; i < 10; i++) assert.equal(await remote.name(), 'live');
    assert.deepEqual(new Set(served), new Set(['live']));
    assert.equal(proxy.connections, 0);
    assert.deepEqual(escaped, []);
  });

  test('close resets what is open and frees the port', async (t) => {
    const escaped = recordEscapes(t);
    await using server = await calculatorServer();
    const proxy = await faultProxy({ target: server.address });
    await using client = startClient(proxy.address);
    assert.equal(await client.proxy(CalculatorService).add(1, 1), 2);
    await proxy.close();
    await proxy.close();
    assert.equal(proxy.connections, 0);
    const { port } = new URL(proxy.address);
    const probe = connect({ host: '127.0.0.1', port: Number(port) });
    const [error] = (await once(probe, 'error')) as [NodeJS.ErrnoException];
    assert.equal(error.code, 'ECONNREFUSED');
    assert.deepEqual(escaped, []);
  });
});
