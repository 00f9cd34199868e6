import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, RpcError, defineService } from '../src/index.js';
import { waitUntil, startClient, startServer, type Calculator, type CallRecord } from './support/calculator.js';
import { hasCode } from './support/assertions.js';


/** How long the call was given on the server: its deadline less when the handler started. */
function budget(record: CallRecord | undefined): number {
  assert.ok(record !== undefined, 'the server saw the call');
  assert.ok(record.deadline !== undefined, `the ${record.method} call carries a deadline`);
  return record.deadline - record.receivedAt;
}

function reasonCode(reason: unknown): number | undefined {
  return reason instanceof RpcError ? reason.code : undefined;
}

async function timed<T>(run: () => Promise<T>): Promise<number> {
  const start = Date.now();
  await run();
  return Date.now() - start;
}

test('a method timeoutMs gives its calls a deadline the server sees; other methods get none', async (t) => {
  const { address, log } = await startServer(t);
  const { calc } = startClient(t, address);
  await calc.divide(1, 1);
  await calc.add(1, 1);
  const left = budget(log.calls[0]);
  assert.ok(left > 250 && left <= 500, `divide declares 500 ms; the server had ${left} ms`);
  assert.equal(log.calls[1]?.deadline, undefined, 'add declares no timeout');
});

test('a method timeoutMs fails a call that runs too long with DEADLINE_EXCEEDED', async (t) => {
  const { address, log } = await startServer(t);
  const { client } = startClient(t, address);
  const Impatient = defineService<Calculator>('demo.Calculator', {
    version: '1.0.0',
    methods: { add: {}, divide: {}, slow: { timeoutMs: 150 }, echo: {}, notify: {}, fail: {} },
  });
  const elapsed = await timed(() => assert.rejects(client.proxy(Impatient).slow(10_000), hasCode(Code.DEADLINE_EXCEEDED)));
  assert.ok(elapsed >= 140 && elapsed < 3000, `failed after ${elapsed} ms`);
  await waitUntil(() => log.slow[0]?.aborted === true);
});

test('a per-call timeoutMs overrides the method timeout', async (t) => {
  const { address, log } = await startServer(t);
  const { calc } = startClient(t, address);
  await calc.divide.with({ timeoutMs: 5000 })(4, 2);
  const left = budget(log.calls[0]);
  assert.ok(left > 500 && left <= 5000, `the call asked for 5000 ms; the server had ${left} ms`);
  const elapsed = await timed(() => assert.rejects(calc.slow.with({ timeoutMs: 100 })(10_000), hasCode(Code.DEADLINE_EXCEEDED)));
  assert.ok(elapsed >= 90 && elapsed < 3000, `failed after ${elapsed} ms`);
});

test('the client timeoutMs applies to methods without their own, and a method timeout wins over it', async (t) => {
  const { address, log } = await startServer(t);
  const { calc } = startClient(t, address, { timeoutMs: 150 });
  const elapsed = await timed(() => assert.rejects(calc.slow(10_000), hasCode(Code.DEADLINE_EXCEEDED)));
  assert.ok(elapsed >= 140 && elapsed < 3000, `failed after ${elapsed} ms`);
  await calc.divide(1, 1);
  const divide = log.calls.find((c) => c.method === 'divide');
  assert.ok(budget(divide) > 250, 'divide keeps its own 500 ms');
});

test('the remaining budget travels: the server handler signal fires at its deadline', async (t) => {
  const { address, log } = await startServer(t);
  const { calc } = startClient(t, address);
  // One-way, so no CANCEL from the client can be what aborts the handler: only the server's own deadline.
  await calc.slow.with({ oneWay: true, timeoutMs: 200 })(10_000);
  await waitUntil(() => log.slow[0]?.aborted === true, 3000);
  const run = log.slow[0]!;
  assert.ok(run.deadline !== undefined && run.abortedAt !== undefined);
  assert.equal(reasonCode(run.abortReason), Code.DEADLINE_EXCEEDED);
  assert.ok(run.abortedAt >= run.deadline - 5, `aborted ${run.deadline - run.abortedAt} ms before the deadline`);
  assert.ok(run.abortedAt < run.deadline + 2000, 'aborted near the deadline');
  assert.equal(run.finished, false);
});

test('a call that times out on the client also aborts the handler on the server', async (t) => {
  const { address, log } = await startServer(t);
  const { calc } = startClient(t, address);
  await assert.rejects(calc.slow.with({ timeoutMs: 200 })(10_000), hasCode(Code.DEADLINE_EXCEEDED));
  await waitUntil(() => log.slow[0]?.aborted === true);
  // Either the server's own deadline or the client's CANCEL gets there first.
  const code = reasonCode(log.slow[0]!.abortReason);
  assert.ok(code === Code.DEADLINE_EXCEEDED || code === Code.CANCELLED, `aborted with code ${code}`);
});

test('aborting the caller signal rejects with CANCELLED and fires the server handler signal', async (t) => {
  const { address, log } = await startServer(t);
  const { calc } = startClient(t, address);
  const controller = new AbortController();
  const pending = calc.slow.with({ signal: controller.signal })(10_000);
  await waitUntil(() => log.slow.length === 1);
  controller.abort();
  const elapsed = await timed(() => assert.rejects(pending, hasCode(Code.CANCELLED)));
  assert.ok(elapsed < 2000, `rejected after ${elapsed} ms`);
  await waitUntil(() => log.slow[0]?.aborted === true);
  assert.equal(reasonCode(log.slow[0]!.abortReason), Code.CANCELLED);
  assert.equal(log.slow[0]!.deadline, undefined, 'the call had no deadline, so only the CANCEL frame can have aborted it');
});

test('an abort reason that is an RpcError reaches the caller as it is', async (t) => {
  const { address } = await startServer(t);
  const { calc } = startClient(t, address);
  const controller = new AbortController();
  const pending = calc.slow.with({ signal: controller.signal })(10_000);
  controller.abort(new RpcError(Code.CANCELLED, 'user pressed stop'));
  await assert.rejects(pending, { code: Code.CANCELLED, message: 'user pressed stop' });
});

test('an already aborted signal rejects at once and the server never runs the call', async (t) => {
  const { address, log } = await startServer(t);
  const { calc } = startClient(t, address);
  assert.equal(await calc.add(1, 1), 2, 'the connection is up');
  const elapsed = await timed(() => assert.rejects(calc.slow.with({ signal: AbortSignal.abort() })(10_000), hasCode(Code.CANCELLED)));
  assert.ok(elapsed < 1000, `rejected after ${elapsed} ms`);
  await assert.rejects(calc.add.with({ signal: AbortSignal.abort() })(1, 2), hasCode(Code.CANCELLED));
  assert.equal(await calc.add(2, 2), 4);
  assert.deepEqual(log.calls.map((c) => c.method), ['add', 'add']);
});

test('a deadline already passed rejects with DEADLINE_EXCEEDED without reaching the server', async (t) => {
  const { address, log } = await startServer(t);
  const { calc } = startClient(t, address);
  await assert.rejects(calc.add.with({ deadline: Date.now() - 1 })(1, 2), hasCode(Code.DEADLINE_EXCEEDED));
  assert.equal(log.calls.length, 0);
});
