import assert from 'node:assert/strict';
import test from 'node:test';
import { Code } from '../../../src/index.js';
import { msgpackSerializer } from '../../../src/serialization/msgpack.js';
import { Flags, FrameType } from '../../../src/transport/tcp/frame.js';
import { hasCode } from '../../support/assertions.js';
import { CalculatorService, onCleanup, startClient, startServer } from '../../support/calculator.js';
import { RawPeer, requestFrame } from '../../support/raw-socket.js';

// A test whose fix is missing fails here instead of waiting forever for an answer.
const LIMIT_MS = 30_000;

const DAY = 24 * 60 * 60 * 1000;
// setTimeout holds at most 2^31 - 1 ms; beyond it, a plain timer fires after 1 ms.
const OVERFLOW = 2 ** 31;

test('a call with timeoutMs of 30 days against a 100 ms handler succeeds', { timeout: LIMIT_MS }, async (t) => {
  const { address, log } = await startServer(t);
  const { calc } = startClient(t, address);
  assert.equal(await calc.slow.with({ timeoutMs: 30 * DAY })(100), 100);
  assert.equal(log.slow[0]?.aborted, false, 'the handler signal did not fire');
  const left = log.calls[0]!.deadline! - log.calls[0]!.receivedAt;
  assert.ok(left > 29 * DAY, `the server had ${left} ms`);
});

test('a deadline exactly at the setTimeout limit does not fire early', { timeout: LIMIT_MS }, async (t) => {
  const { address } = await startServer(t);
  const { calc } = startClient(t, address);
  assert.equal(await calc.slow.with({ timeoutMs: OVERFLOW })(100), 100);
  assert.equal(await calc.slow.with({ deadline: Date.now() + OVERFLOW + 1000 })(50), 50);
});

test('a call with timeoutMs Infinity succeeds and carries no deadline', { timeout: LIMIT_MS }, async (t) => {
  const { address, log } = await startServer(t);
  const { calc } = startClient(t, address);
  assert.equal(await calc.slow.with({ timeoutMs: Infinity })(100), 100);
  assert.equal(log.calls[0]?.deadline, undefined);
});

test("a deadline too far off for :timeout's 12 digits travels as none, and the call succeeds", { timeout: LIMIT_MS }, async (t) => {
  const { address, log } = await startServer(t);
  const { calc } = startClient(t, address);
  assert.equal(await calc.add.with({ deadline: Date.now() + 2e12 })(1, 2), 3);
  assert.equal(log.calls[0]?.deadline, undefined, 'the server got no deadline');
});

test('the server keeps a 30-day :timeout: a request that carries one is answered with its result', { timeout: LIMIT_MS }, async (t) => {
  const { address, log } = await startServer(t);
  const peer = await RawPeer.connect(address);
  onCleanup(t, () => peer.destroy());
  const msgpack = msgpackSerializer();
  peer.write(requestFrame({
    service: CalculatorService.id, method: 'slow', requestId: 1, serializer: msgpack.id, body: msgpack.encode([100]),
    extra: [[':timeout', String(30 * DAY)]],
  }));
  const response = await peer.waitFor((frame) => frame.type === FrameType.RESPONSE && frame.requestId === 1, 5000);
  assert.equal(response.flags & Flags.ERROR, 0, 'not an error');
  assert.equal(msgpack.decode(response.body), 100);
  assert.equal(log.slow[0]?.aborted, false);
});

test('a short deadline still fires on time', { timeout: LIMIT_MS }, async (t) => {
  const { address } = await startServer(t);
  const { calc } = startClient(t, address);
  const started = Date.now();
  await assert.rejects(calc.slow.with({ timeoutMs: 100 })(10_000), hasCode(Code.DEADLINE_EXCEEDED));
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 90 && elapsed < 3000, `failed after ${elapsed} ms`);
});
