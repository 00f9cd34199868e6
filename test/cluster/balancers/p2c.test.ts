import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { p2cBalancer } from '../../../src/cluster/balancers/p2c.js';
import { mulberry32 } from '../../support/random.js';
import { assertDistribution, call, candidate, tally } from './fixtures.js';

describe('power-of-two-choices balancer', () => {
  it('sends most calls to the 1 ms provider rather than the 50 ms one', () => {
    const candidates = [candidate(1, { latencyEwmaMs: 50 }), candidate(2, { latencyEwmaMs: 1 })];
    const balancer = p2cBalancer({ random: mulberry32(21) });
    const counts = tally(candidates, 10_000, () => balancer.select(candidates, call()));
    assert.ok(counts[1]! > 8000, `fast provider got ${counts[1]} of 10000`);
  });

  it('prefers fast providers among many: a fast one is taken whenever it is drawn', () => {
    // One fast provider among four: it is in the drawn pair with probability 1/2.
    const candidates = [candidate(1, { latencyEwmaMs: 1 }), ...[2, 3, 4].map((host) => candidate(host, { latencyEwmaMs: 50 }))];
    const balancer = p2cBalancer({ random: mulberry32(22) });
    const counts = tally(candidates, 40_000, () => balancer.select(candidates, call()));
    assertDistribution(counts, [3, 1, 1, 1]);
  });

  it('weighs latency by calls in flight', () => {
    // 10 ms × 6 = 60 is costlier than 50 ms × 1.
    const candidates = [candidate(1, { latencyEwmaMs: 10, active: 5 }), candidate(2, { latencyEwmaMs: 50, active: 0 })];
    assert.equal(p2cBalancer({ random: mulberry32(23) }).select(candidates, call()), candidates[1]);
  });

  it('treats a provider with no latency data yet as the best while it has no call in flight, the worst while it has', () => {
    const idle = [candidate(1, { latencyEwmaMs: 1 }), candidate(2, { latencyEwmaMs: 0, active: 0 })];
    const balancer = p2cBalancer({ random: mulberry32(24) });
    assert.deepEqual(tally(idle, 1000, () => balancer.select(idle, call())), [0, 1000]);
    const waiting = [candidate(1, { latencyEwmaMs: 50, active: 9 }), candidate(2, { latencyEwmaMs: 0, active: 1 })];
    assert.deepEqual(tally(waiting, 1000, () => balancer.select(waiting, call())), [1000, 0]);
  });

  it('weighs by the peak-EWMA estimate: a provider whose calls in flight have aged is passed over', () => {
    // Both answered in 1 ms so far; the second's 3 calls in flight have been out for 30 ms.
    const candidates = [
      candidate(1, { latencyEwmaMs: 1, sampledAt: 999, active: 3, pendingStartsMs: 3 * 999 }),
      candidate(2, { latencyEwmaMs: 1, sampledAt: 990, active: 3, pendingStartsMs: 3 * 970 }),
    ];
    const balancer = p2cBalancer({ random: mulberry32(27), monotonicNow: () => 1_000 });
    assert.deepEqual(tally(candidates, 1000, () => balancer.select(candidates, call())), [1000, 0]);
  });

  it('spreads evenly when latencies and loads are equal', () => {
    const candidates = [1, 2, 3, 4].map((host) => candidate(host, { latencyEwmaMs: 5, active: 1 }));
    const balancer = p2cBalancer({ random: mulberry32(25) });
    const counts = tally(candidates, 40_000, () => balancer.select(candidates, call()));
    assertDistribution(counts, [1, 1, 1, 1]);
  });

  it('spreads by weight when costs are equal, and never picks a zero-weight provider', () => {
    const candidates = [candidate(1, { weight: 100 }), candidate(2, { weight: 300 }), candidate(3, { weight: 0 })];
    const balancer = p2cBalancer({ random: mulberry32(26) });
    const counts = tally(candidates, 40_000, () => balancer.select(candidates, call()));
    assertDistribution(counts, [1, 3, 0]);
  });

  it('returns the only candidate, or the only one with weight', () => {
    const one = [candidate(1, { latencyEwmaMs: 99 })];
    assert.equal(p2cBalancer().select(one, call()), one[0]);
    const two = [candidate(1, { weight: 0 }), candidate(2, { latencyEwmaMs: 99 })];
    assert.equal(p2cBalancer().select(two, call()), two[1]);
  });
});
