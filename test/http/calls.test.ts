import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, RpcError, createClient, currentCall, defineService, type Metadata } from '../../src/index.js';
import { CalculatorService, onCleanup, waitUntil } from '../support/calculator.js';
import { startHttpClient, startHttpServer } from '../support/http.js';
import { rejection } from '../support/assertions.js';


interface Counter {
  count(n: number): AsyncIterable<number>;
  countThenFail(n: number): AsyncIterable<number>;
  forever(): AsyncIterable<number>;
}
const CounterService = defineService<Counter>('demo.Counter', { methods: { count: { stream: 'server' }, countThenFail: { stream: 'server' }, forever: { stream: 'server' } } });

describe('HTTP transport: calls through createClient and createServer', () => {
  it('returns results, including binary values and methods that return nothing', async (t) => {
    const { address } = await startHttpServer(t);
    const { calc } = startHttpClient(t, address);
    assert.equal(await calc.add(1, 2), 3);
    assert.equal(await calc.divide(9, 3), 3);
    const echoed = await calc.echo(new Uint8Array([0, 1, 254, 255]));
    assert.deepEqual([...echoed], [0, 1, 254, 255]);
    assert.equal(await calc.notify.with({ oneWay: false })(1), undefined);
  });

  it('carries an error with its code, name, message and details', async (t) => {
    const { address } = await startHttpServer(t);
    const { calc } = startHttpClient(t, address);
    const divide = await rejection(calc.divide(1, 0));
    assert.equal(divide.code, Code.INVALID_ARGUMENT);
    assert.equal(divide.message, 'cannot divide by zero');
    assert.deepEqual(divide.details, { field: 'b', value: 0 });
    const fail = await rejection(calc.fail());
    assert.equal(fail.code, Code.UNKNOWN);
    assert.equal(fail.name, 'QuotaError');
    assert.equal(fail.message, 'quota of 10 calls exceeded');
  });

  it('sends text and binary metadata both ways', async (t) => {
    const { address } = await startHttpServer(t, {
      setup: (server) => server.provide(defineService<{ who(): Promise<string> }>('demo.Who', { methods: { who: {} } }), {
        async who() {
          const call = currentCall();
          call.responseMetadata.set('x-served-by', 'node-a');
          call.responseMetadata.set('trace', new Uint8Array([9, 8, 7]));
          const tenant = call.metadata.get('x-tenant');
          const blob = call.metadata.get('blob');
          const scoped = call.metadata.get('scope/key');
          return `${String(tenant)} ${blob instanceof Uint8Array ? [...blob].join(',') : 'none'} ${String(scoped)}`;
        },
      }),
    });
    const client = createClient({ url: address });
    onCleanup(t, () => client.close());
    const who = client.proxy(defineService<{ who(): Promise<string> }>('demo.Who', { methods: { who: {} } }));
    let received: Metadata | undefined;
    const answer = await who.who.with({
      metadata: { 'x-tenant': 'acme', blob: new Uint8Array([1, 2, 3]), 'scope/key': 'v' },
      onResponseMetadata: (md) => (received = md),
    })();
    assert.equal(answer, 'acme 1,2,3 v');
    assert.equal(received?.get('x-served-by'), 'node-a');
    assert.deepEqual([...(received?.get('trace') as Uint8Array)], [9, 8, 7]);
  });

  it('refuses metadata that no header can carry, before sending', async (t) => {
    const { address, log } = await startHttpServer(t);
    const { calc } = startHttpClient(t, address);
    const error = await rejection(calc.add.with({ metadata: { 'x-note': 'line\nbreak' } })(1, 2));
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.match(error.message, /x-note/);
    assert.equal(log.calls.length, 0);
  });

  it('sends the deadline: the server aborts the handler and the caller gets DEADLINE_EXCEEDED', async (t) => {
    const { address, log } = await startHttpServer(t);
    const { calc } = startHttpClient(t, address);
    const started = Date.now();
    const error = await rejection(calc.slow.with({ timeoutMs: 150 })(5000));
    assert.equal(error.code, Code.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - started < 3000);
    await waitUntil(() => log.slow[0]?.aborted === true);
    assert.ok(log.slow[0]!.deadline !== undefined);
    // The server's own deadline or the client closing the request at its deadline, whichever is first.
    const code = (log.slow[0]!.abortReason as RpcError).code;
    assert.ok(code === Code.DEADLINE_EXCEEDED || code === Code.CANCELLED, `aborted with ${code}`);
  });

  it('the deadline alone aborts the handler on the server (one-way: no client is waiting)', async (t) => {
    const { address, log } = await startHttpServer(t);
    const { calc } = startHttpClient(t, address);
    await calc.slow.with({ oneWay: true, timeoutMs: 200 })(10_000);
    await waitUntil(() => log.slow[0]?.aborted === true, 3000);
    const run = log.slow[0]!;
    assert.equal((run.abortReason as RpcError).code, Code.DEADLINE_EXCEEDED);
    assert.ok(run.abortedAt! >= run.deadline! - 5 && run.abortedAt! < run.deadline! + 2000);
  });

  it('cancels: aborting the caller closes the request and the handler signal fires with CANCELLED', async (t) => {
    const { address, log } = await startHttpServer(t);
    const { calc } = startHttpClient(t, address);
    const controller = new AbortController();
    const pending = calc.slow.with({ signal: controller.signal })(5000);
    await waitUntil(() => log.slow.length === 1);
    controller.abort();
    const error = await rejection(pending);
    assert.equal(error.code, Code.CANCELLED);
    await waitUntil(() => log.slow[0]!.aborted);
    assert.equal((log.slow[0]!.abortReason as RpcError).code, Code.CANCELLED);
    assert.equal(log.slow[0]!.finished, false);
  });

  it('one-way calls resolve once accepted, and the server runs them', async (t) => {
    const { address, log } = await startHttpServer(t);
    const { calc } = startHttpClient(t, address);
    assert.equal(await calc.notify(7), undefined);
    await waitUntil(() => log.notified.includes(7));
  });

  it('streams a server-streaming method item by item, with an error at the end if it fails', async (t) => {
    const { address } = await startHttpServer(t, {
      setup: (server) => server.provide(CounterService, {
        async *count(n) {
          for (let i = 0; i < n; i++) yield i;
        },
        async *countThenFail(n) {
          for (let i = 0; i < n; i++) yield i;
          throw new RpcError(Code.FAILED_PRECONDITION, 'ran out', { details: { after: n } });
        },
        async *forever() {
          const { signal } = currentCall();
          for (let i = 0; !signal?.aborted; i++) {
            yield i;
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        },
      }),
    });
    const client = createClient({ url: address });
    onCleanup(t, () => client.close());
    const counter = client.proxy(CounterService);
    const items: number[] = [];
    for await (const item of counter.count(5)) items.push(item);
    assert.deepEqual(items, [0, 1, 2, 3, 4]);

    const partial: number[] = [];
    await assert.rejects(async () => {
      for await (const item of counter.countThenFail(2)) partial.push(item);
    }, (error: RpcError) => error.code === Code.FAILED_PRECONDITION && error.details.after === 2);
    assert.deepEqual(partial, [0, 1]);

    let seen = 0;
    for await (const item of counter.forever()) {
      seen = item;
      if (item >= 3) break; // the client stops reading: the request is closed
    }
    assert.equal(seen, 3);
  });

  it('answers unknown services and undeclared methods with typed errors', async (t) => {
    const { address } = await startHttpServer(t);
    const client = createClient({ url: address });
    onCleanup(t, () => client.close());
    const other = defineService<{ add(a: number, b: number): Promise<number> }>('demo.Nothing', { methods: { add: {} } });
    assert.equal((await rejection(client.proxy(other).add(1, 2))).code, Code.NOT_FOUND);
    const wider = defineService<{ add(): Promise<number>; secret(): Promise<number> }>('demo.Calculator', { version: '1.0.0', methods: { add: {}, secret: {} } });
    const missing = await rejection(client.proxy(wider).secret());
    assert.equal(missing.code, Code.UNIMPLEMENTED);
    assert.match(missing.message, /secret/);
  });

  it('fails with UNAVAILABLE, marked never sent, when nothing listens', async (t) => {
    const { address, server } = await startHttpServer(t);
    await server.close();
    const client = createClient({ url: address, retries: 0 });
    onCleanup(t, () => client.close());
    const error = await rejection(client.proxy(CalculatorService).add(1, 2));
    assert.equal(error.code, Code.UNAVAILABLE);
    assert.equal(error.unprocessed, true);
  });

  it('serves the same services over tcp:// and http:// from one server', async (t) => {
    const { addresses } = await startHttpServer(t, { alsoListen: ['tcp://127.0.0.1:0'] });
    assert.match(addresses[0]!, /^http:\/\//);
    assert.match(addresses[1]!, /^tcp:\/\//);
    const overHttp = startHttpClient(t, addresses[0]!).calc;
    const overTcp = startHttpClient(t, addresses[1]!).calc;
    assert.deepEqual(await Promise.all([overHttp.add(2, 3), overTcp.add(2, 3)]), [5, 5]);
  });

  it('drains on close: a call in flight finishes, then the server stops', async (t) => {
    const { address, server } = await startHttpServer(t);
    const { calc } = startHttpClient(t, address);
    assert.equal(await calc.add(1, 1), 2); // leaves an idle keep-alive connection behind
    const inFlight = calc.slow(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closing = server.close({ timeoutMs: 3000 });
    assert.equal(await inFlight, 200);
    await closing;
    assert.equal((await rejection(calc.add(1, 1))).code, Code.UNAVAILABLE);
  });
});
