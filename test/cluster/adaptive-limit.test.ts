import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdaptiveLimit, adaptiveLimitOptions, type AdaptiveLimitOptions } from '../../src/cluster/adaptive-limit.js';
import { Code, RpcError } from '../../src/index.js';

/**
 * A limit driven by made-up times: `window(rtt, inflight)` feeds one whole window of samples (the
 * window's length and sample count are the options'), half a millisecond apart, then one more once
 * the window has lasted long enough, which closes it.
 */
function limiter(options: AdaptiveLimitOptions = {}) {
  const changes: number[] = [];
  const resolved = adaptiveLimitOptions({ windowMs: 10, windowSamples: 10, ...options }, 'client');
  const limit = new AdaptiveLimit(resolved, (value) => changes.push(value));
  let now = 5_000;
  const window = (rttMs: number | number[], inflight: number) => {
    const rtts = Array.isArray(rttMs) ? rttMs : Array<number>(10).fill(rttMs);
    for (const rtt of rtts) limit.onSample(rtt, inflight, (now += 0.5));
    // The sample that closes the window comes once it has lasted long enough; it opens the next one.
    limit.onSample(rtts[rtts.length - 1]!, inflight, (now += 10));
  };
  return { limit, changes, window, drop: (inflight: number) => limit.onDrop(inflight, (now += 10)) };
}

describe('adaptive limit (Gradient2 variant)', () => {
  it('starts at initialLimit, within minLimit and maxLimit', () => {
    assert.equal(limiter({ initialLimit: 30 }).limit.limit, 30);
    assert.equal(limiter({ initialLimit: 30, maxLimit: 20 }).limit.limit, 20);
    assert.equal(limiter({ initialLimit: 3, minLimit: 8 }).limit.limit, 8);
    assert.equal(new AdaptiveLimit(adaptiveLimitOptions({}, 'server')).limit, 100);
  });

  it('grows by the smoothed queue allowance while latency holds and calls come near the limit', () => {
    const { limit, window } = limiter({ initialLimit: 20, queueSize: 5, smoothing: 0.2 });
    window(10, 20); // the first window only sets the long-term RTT... and grows: latency equals itself
    assert.equal(limit.limit, 21);
    for (let i = 0; i < 9; i++) window(10, limit.limit);
    // 20 + 10 × 0.2 × 5
    assert.equal(limit.limit, 30);
  });

  it('does not grow when fewer than half the limit were in flight (the limit was not what held calls back)', () => {
    const { limit, window, changes } = limiter({ initialLimit: 20 });
    for (let i = 0; i < 10; i++) window(10, 9);
    assert.equal(limit.limit, 20);
    assert.deepEqual(changes, []);
  });

  it('keeps the limit while the short-term RTT stays within the tolerance of the long-term one', () => {
    const { limit, window } = limiter({ initialLimit: 20, tolerance: 1.5 });
    window(10, 5);
    for (let i = 0; i < 5; i++) window(14, 5);
    assert.equal(limit.limit, 20);
  });

  it('cuts at once to half the calls in flight when latency passes three times the long-term (tolerance ÷ 0.5)', () => {
    const { limit, window } = limiter({ initialLimit: 100 });
    window(10, 40);
    assert.equal(limit.limit, 100);
    window(40, 80);
    assert.equal(limit.limit, 40);
    // Even when fewer calls were in flight than the limit allows.
    window(40, 10);
    assert.equal(limit.limit, 5);
  });

  it('a window with one fast call in it is no crawl: noise gets the gentle step, not the cut', () => {
    const { limit, window } = limiter({ initialLimit: 40, queueSize: 0 });
    window(10, 40);
    window([200, 200, 200, 200, 200, 200, 200, 200, 200, 10], 40);
    assert.ok(limit.limit >= 32, `limit ${limit.limit}: one step of at most a tenth`);
    window(200, 40);
    assert.ok(limit.limit <= 20, `limit ${limit.limit}: a window of slow calls only is cut to half the calls in flight`);
  });

  it('takes a milder rise gently: a small smoothed step, none while the limit was not needed', () => {
    const { limit, window } = limiter({ initialLimit: 40, queueSize: 0 });
    window(10, 40);
    assert.equal(limit.limit, 40);
    window(20, 10); // twice the long-term RTT, but a quarter of the limit in flight
    assert.equal(limit.limit, 40);
    window(20, 40);
    assert.ok(limit.limit < 40 && limit.limit >= 36, `limit ${limit.limit}: smoothed, a gradient of about 0.75 moves it by a fifth of a quarter`);
  });

  it('a provider that slows to a crawl is brought down to minLimit within a few windows', () => {
    const { limit, window } = limiter({ initialLimit: 100, minLimit: 1 });
    window(2, 16);
    let windows = 0;
    while (limit.limit > 1) {
      window(200, Math.min(16, limit.limit));
      windows++;
    }
    assert.ok(windows <= 6, `${windows} windows to reach 1`);
  });

  it('judges a window by its median: one long pause among fast calls moves nothing', () => {
    const { limit, window } = limiter({ initialLimit: 50 });
    window(5, 40);
    const before = limit.limit;
    window([5, 5, 5, 5, 900, 5, 5, 5, 5, 5], 40);
    assert.ok(limit.limit >= before, `${limit.limit} < ${before}`);
  });

  it('halves on a window with a drop (a refusal for overload or a deadline passed)', () => {
    const { limit, window, drop } = limiter({ initialLimit: 64 });
    window(5, 40);
    const before = limit.limit;
    drop(40);
    assert.equal(limit.limit, Math.floor(Math.min(before, 40) * 0.5));
  });

  it('never leaves minLimit..maxLimit', () => {
    const { limit, window, drop } = limiter({ initialLimit: 10, minLimit: 4, maxLimit: 12, queueSize: 10 });
    window(10, 10);
    for (let i = 0; i < 20; i++) window(10, limit.limit);
    assert.equal(limit.limit, 12);
    for (let i = 0; i < 20; i++) drop(limit.limit);
    assert.equal(limit.limit, 4);
  });

  it('waits for windowMs and windowSamples before judging, unless a drop came', () => {
    const resolved = adaptiveLimitOptions({ initialLimit: 40, windowMs: 100, windowSamples: 10 }, 'client');
    const limit = new AdaptiveLimit(resolved);
    limit.onSample(5, 40, 0);
    for (let t = 1; t < 99; t++) limit.onSample(5, 40, t); // many samples, too little time
    assert.equal(limit.state().windows, 0);
    limit.onSample(500, 40, 150); // time enough now: the window closes with this sample in it
    assert.equal(limit.state().windows, 1);
    for (let i = 0; i < 5; i++) limit.onSample(500, 40, 300 + i); // time enough, too few samples
    assert.equal(limit.state().windows, 1);
    limit.onDrop(40, 306);
    assert.equal(limit.state().windows, 2);
  });

  it('recovers after a spell of high latency: the long-term RTT comes back down and the limit grows again', () => {
    const { limit, window } = limiter({ initialLimit: 20, minLimit: 1 });
    window(2, 20);
    for (let i = 0; i < 20; i++) window(200, Math.min(20, limit.limit));
    assert.equal(limit.limit, 1);
    const inflated = limit.state().longRttMs;
    assert.ok(inflated > 4, `long-term RTT ${inflated} after the slow spell`);
    for (let i = 0; i < 40; i++) window(2, limit.limit);
    assert.ok(limit.state().longRttMs < inflated / 2, `long-term RTT ${limit.state().longRttMs} after recovery, ${inflated} before`);
    assert.ok(limit.limit > 5, `limit ${limit.limit} after 40 fast windows`);
  });

  it('follows a lasting change of normal latency: once the long-term RTT has caught up, the limit grows back', () => {
    const { limit, window } = limiter({ initialLimit: 40, minLimit: 1, longWindows: 10 });
    window(2, 40);
    window(20, 40);
    const lowest = limit.limit;
    assert.ok(lowest < 40);
    for (let i = 0; i < 60; i++) window(20, limit.limit);
    assert.ok(limit.limit > lowest + 10, `limit ${limit.limit}, lowest ${lowest}`);
  });

  it('refuses options that make no sense with INVALID_ARGUMENT', () => {
    for (const options of [{ minLimit: 0 }, { maxLimit: 0 }, { initialLimit: 1.5 }, { tolerance: 0.5 }, { smoothing: 0 }, { smoothing: 2 }, { windowSamples: 0 }, { queueSize: -1 }]) {
      assert.throws(() => adaptiveLimitOptions(options, 'server'), (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT, JSON.stringify(options));
    }
  });
});
