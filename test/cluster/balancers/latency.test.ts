import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DECAY_MS, expectedCost, expectedLatencyMs, nextPeakMs } from '../../../src/cluster/balancers/latency.js';
import { candidate } from './fixtures.js';

describe('peak-EWMA latency estimate', () => {
  it('rises at once to a slower call and eases a fifth of the way toward a faster one', () => {
    assert.equal(nextPeakMs(0, 0, 3, 1_000, false), 3);
    assert.equal(nextPeakMs(2, 1_000, 200, 1_001, false), 200);
    assert.equal(nextPeakMs(200, 1_000, 0, 1_001, false), 160);
  });

  it('lets a failed call raise it but never lower it', () => {
    assert.equal(nextPeakMs(10, 1_000, 150, 1_001, true), 150);
    assert.equal(nextPeakMs(10, 1_000, 1, 1_001, true), 10);
  });

  it('decays while the provider is idle, before a call that ends after a long gap counts', () => {
    // 200 ms, then a 2 ms call 30 s later: the estimate had fallen to 200 × e^-3 ≈ 10 ms by then.
    const after = nextPeakMs(200, 0, 2, 3 * DECAY_MS, false);
    assert.ok(Math.abs(after - (200 * Math.exp(-3) * 0.8 + 0.4)) < 1e-9, String(after));
  });

  it('reads an idle provider\'s estimate decayed, and a busy one\'s as it is', () => {
    const idle = candidate(1, { latencyEwmaMs: 200, sampledAt: 0 });
    assert.ok(Math.abs(expectedLatencyMs(idle, DECAY_MS) - 200 / Math.E) < 1e-9);
    assert.equal(expectedLatencyMs(candidate(2, { latencyEwmaMs: 5, sampledAt: 1_000 }), 1_050), 5);
  });

  it('is at least the mean age of the calls in flight, before any of them ends', () => {
    // Two calls in flight since 1000 and 1010: at 1105 their mean age is 100 ms.
    const stuck = candidate(1, { latencyEwmaMs: 1, sampledAt: 1_000, active: 2, pendingStartsMs: 2_010 });
    assert.equal(expectedLatencyMs(stuck, 1_105), 100);
    assert.equal(expectedCost(stuck, 1_105), 300);
  });

  it('costs latency × (calls in flight + 1); nothing for an idle provider never tried, the most for a busy one never heard from', () => {
    assert.equal(expectedCost(candidate(1, { latencyEwmaMs: 2, sampledAt: 0, active: 3, pendingStartsMs: 0 }), 1), 8);
    assert.equal(expectedCost(candidate(2), 1), 0);
    const untried = expectedCost(candidate(3, { active: 1, pendingStartsMs: 0 }), 1);
    assert.ok(untried > expectedCost(candidate(4, { latencyEwmaMs: 60_000, sampledAt: 0, active: 999, pendingStartsMs: 0 }), 1));
  });

  it('takes the latency as it is from candidates without a time or calls in flight', () => {
    assert.equal(expectedCost(candidate(1, { latencyEwmaMs: 4, active: 1 }), 1e9), 8);
  });
});
