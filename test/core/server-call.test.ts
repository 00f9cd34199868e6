import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, RpcError } from '../../src/index.js';
import { ServerCall } from '../../src/core/server-call.js';
import { CalculatorService } from '../support/calculator.js';

const newCall = () => new ServerCall(CalculatorService, 'add', [1, 2], undefined, undefined, false);

test('finish tells each listener once, in order; a listener added after it runs at once', () => {
  const call = newCall();
  const heard: string[] = [];
  for (const name of ['a', 'b', 'c']) call.whenFinished(() => heard.push(name));
  assert.equal(heard.length, 0);
  call.finish();
  call.finish();
  assert.deepEqual(heard, ['a', 'b', 'c']);
  call.whenFinished(() => heard.push('late'));
  assert.deepEqual(heard, ['a', 'b', 'c', 'late']);
});

test('aborting a call fires its signal but does not finish it: its handler may still be running', () => {
  const call = newCall();
  let finished = false;
  call.whenFinished(() => (finished = true));
  const signal = call.signal;
  call.abort(new RpcError(Code.CANCELLED, 'cancelled by the caller'));
  assert.equal(signal.aborted, true);
  assert.equal(finished, false);
  call.finish();
  assert.equal(finished, true);
});

test('a finish listener that throws is reported as a warning, and the other listeners still run', async () => {
  const call = newCall();
  const ran: string[] = [];
  const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
  call.whenFinished(() => {
    ran.push('first');
    throw new Error('broken listener');
  });
  call.whenFinished(() => ran.push('second'));
  call.finish();
  assert.deepEqual(ran, ['first', 'second']);
  assert.match((await warned).message, /listener threw: broken listener/);
});
