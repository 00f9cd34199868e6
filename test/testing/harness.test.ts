import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Code, defineService } from '../../src/index.js';
import { inprocFaults, service, startClient, startServer, withServer, type TestServer } from '../../src/testing/index.js';
import { hasCode, recordEscapes } from '../support/assertions.js';
import { CalculatorService, calculatorImpl, newLog, waitUntil } from '../support/calculator.js';

interface Named {
  name(): Promise<string>;
}

const NamedService = defineService<Named>('testing.HarnessNamed', { methods: { name: {} } });
const named = (label: string): Named => ({ name: async () => label });

describe('the test harness', () => {
  test('startServer listens on free addresses given by scheme, in the order given', async (t) => {
    const escaped = recordEscapes(t);
    await using server = await startServer({ listen: ['tcp', 'inproc', 'http'], services: [service(CalculatorService, calculatorImpl(newLog()))] });
    const [tcp, inproc, http] = server.addresses;
    assert.match(tcp!, /^tcp:\/\/127\.0\.0\.1:[1-9]\d*$/);
    assert.match(inproc!, /^inproc:\/\/testing:\d+$/);
    assert.match(http!, /^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
    assert.equal(server.address, tcp);
    for (const address of server.addresses) {
      await using client = startClient(address);
      assert.equal(await client.proxy(CalculatorService).add(2, 2), 4, address);
    }
    assert.equal(server.faults, inprocFaults(inproc!), 'the faults are those of its inproc:// listener');
    assert.deepEqual(escaped, []);
  });

  test('a server with no inproc:// listener has no faults to hand out, and refuses a faults option', async () => {
    await using server = await startServer({ listen: ['tcp'] });
    assert.throws(() => server.faults, hasCode(Code.FAILED_PRECONDITION, /faultProxy/));
    await assert.rejects(startServer({ listen: ['tcp'], faults: { latencyMs: 5 } }), hasCode(Code.INVALID_ARGUMENT, /inproc/));
    await assert.rejects(startServer({ listen: ['inproc://refused:7'], faults: { latencyMs: -5 } }), hasCode(Code.INVALID_ARGUMENT, /latencyMs/));
    assert.throws(() => inprocFaults('inproc://refused:7'), hasCode(Code.NOT_FOUND), 'a server refused its options is not left listening');
  });

  test('the seed option seeds the faults, so a run can be replayed', async () => {
    await using server = await startServer({ seed: 1234 });
    assert.equal(server.faults.seed, 1234);
  });

  test('await using closes the server and the client; close() may be called again', async () => {
    let address: string;
    let kept: TestServer;
    {
      await using server = await startServer({ services: [service(NamedService, named('only'))] });
      await using client = startClient(server);
      assert.equal(await client.proxy(NamedService).name(), 'only');
      address = server.address;
      kept = server;
    }
    await kept.close();
    assert.throws(() => inprocFaults(address), hasCode(Code.NOT_FOUND), 'nothing listens there any more');
    await using late = startClient(address);
    await assert.rejects(late.proxy(NamedService).name(), hasCode(Code.UNAVAILABLE));
  });

  test('close lifts the faults first: a frozen call is answered instead of cut off', { timeout: 20_000 }, async () => {
    const served: string[] = [];
    const arrived: string[] = [];
    const server = await startServer({
      services: [service(NamedService, { name: async () => (served.push('ran'), 'thawed') })],
      observers: [{ serverCall: (_entry, call) => void arrived.push(call.method) }],
      closeTimeoutMs: 60_000,
    });
    await using client = startClient(server);
    server.faults.update({ frozen: true });
    const waiting = client.proxy(NamedService).name();
    await waitUntil(() => arrived.length === 1);
    await server.close();
    assert.equal(await waiting, 'thawed');
    assert.deepEqual(served, ['ran']);
  });

  test('startClient takes several servers and spreads calls over them', async () => {
    await using first = await startServer({ services: [service(NamedService, named('first'))] });
    await using second = await startServer({ services: [service(NamedService, named('second'))] });
    await using client = startClient([first, second], { loadBalance: 'roundrobin' });
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add(await client.proxy(NamedService).name());
    assert.deepEqual(seen, new Set(['first', 'second']));
  });

  test('withServer hands over a server and a client, and closes both however the function ends', async () => {
    let address = '';
    const sum = await withServer({ services: [service(CalculatorService, calculatorImpl(newLog()))] }, async ({ server, client }) => {
      address = server.address;
      return client.proxy(CalculatorService).add(20, 22);
    });
    assert.equal(sum, 42);
    assert.throws(() => inprocFaults(address), hasCode(Code.NOT_FOUND));

    const failure = new Error('the test failed');
    await assert.rejects(withServer({}, ({ server }) => {
      address = server.address;
      throw failure;
    }), (error) => error === failure);
    assert.throws(() => inprocFaults(address), hasCode(Code.NOT_FOUND), 'closed after a throw too');
  });

  test('importing the kit again registers nothing twice', async () => {
    await import(`../../src/testing/index.js?again=${Date.now()}`);
    await using server = await startServer({ registry: 'memory://again', services: [service(NamedService, named('again'))] });
    await using client = startClient({ registry: 'memory://again' });
    assert.equal(await client.proxy(NamedService).name(), 'again');
    assert.match(server.address, /^inproc:/);
  });
});
