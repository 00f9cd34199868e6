import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code } from '../../src/core/code.js';
import { ServerCall } from '../../src/core/server-call.js';
import { defineService } from '../../src/core/service.js';
import { LongTimer, MAX_TIMER_MS, callDeadline, startTimer, stopTimer } from '../../src/core/timer.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('timers for deadlines of any length', () => {
  it('arms nothing for an infinite or NaN delay', () => {
    assert.equal(startTimer(Infinity, () => assert.fail('fired'), undefined), undefined);
    assert.equal(startTimer(NaN, () => assert.fail('fired'), undefined), undefined);
  });

  it('does not fire a delay past setTimeout\'s range early, where setTimeout itself would', async () => {
    let plainFired = false;
    const plain = setTimeout(() => (plainFired = true), 2 ** 31);
    const timer = startTimer(30 * 24 * 3600_000, () => assert.fail('a 30-day timer fired'), undefined);
    assert.ok(timer instanceof LongTimer);
    await sleep(30);
    clearTimeout(plain);
    assert.ok(plainFired, 'setTimeout overflows (the reason for LongTimer)');
    stopTimer(timer);
  });

  it('reaches its due time in hops, re-reading the clock each time', async () => {
    const started = Date.now();
    const fired = await new Promise<number>((resolve) => new LongTimer(started + 120, (at: number) => resolve(at), 7, 25));
    assert.equal(fired, 7);
    assert.ok(Date.now() - started >= 115, `fired after ${Date.now() - started} ms`);
  });

  it('stops between hops', async () => {
    const timer = new LongTimer(Date.now() + 60, () => assert.fail('fired after stop'), undefined, 10);
    await sleep(25);
    timer.stop();
    await sleep(60);
  });

  it('keeps plain timeouts for delays within range', () => {
    const timer = startTimer(MAX_TIMER_MS, () => undefined, undefined);
    assert.ok(!(timer instanceof LongTimer));
    stopTimer(timer);
  });
});

describe('callDeadline', () => {
  it('treats an infinite timeout or deadline as none, and refuses NaN', () => {
    assert.equal(callDeadline(Infinity, undefined), undefined);
    assert.equal(callDeadline(undefined, Infinity), undefined);
    assert.equal(callDeadline(undefined, 5), 5);
    assert.ok(callDeadline(1000, undefined)! > Date.now());
    assert.throws(() => callDeadline(NaN, undefined), { code: Code.INVALID_ARGUMENT });
  });
});

describe('a server call with a far deadline', () => {
  it('keeps its signal unaborted', async () => {
    const service = defineService<{ m(): Promise<void> }>('test.Far', { methods: { m: {} } });
    const call = new ServerCall(service, 'm', [], undefined, Date.now() + 30 * 24 * 3600_000, false);
    const { signal } = call;
    await sleep(30);
    assert.equal(signal.aborted, false);
    call.finish();
  });
});
