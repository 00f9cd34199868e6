import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shortestResponseBalancer } from '../../../src/cluster/balancers/shortest-response.js';
import { mulberry32 } from '../../support/random.js';
import { assertDistribution, call, candidate, tally } from './fixtures.js';

const at = (now: number) => () => now;

describe('shortest-response balancer', () => {
  it('always picks the provider expected to answer soonest: latency × (calls in flight + 1)', () => {
    // 1 ms × 6 = 6 against 4 ms × 1 = 4 and 50 ms × 1.
    const candidates = [
      candidate(1, { latencyEwmaMs: 1, sampledAt: 0, active: 5, pendingStartsMs: 5 * 999.5 }),
      candidate(2, { latencyEwmaMs: 4, sampledAt: 0 }),
      candidate(3, { latencyEwmaMs: 50, sampledAt: 0 }),
    ];
    const balancer = shortestResponseBalancer({ random: mulberry32(51), monotonicNow: at(1_000) });
    assert.deepEqual(tally(candidates, 1000, () => balancer.select(candidates, call())), [0, 1000, 0]);
  });

  it('passes over a provider whose calls in flight have aged past the others\' latency, before any has ended', () => {
    // All answered in 1 ms until now; the third has had 4 calls out for 20 ms.
    const candidates = [
      candidate(1, { latencyEwmaMs: 1, sampledAt: 990, active: 4, pendingStartsMs: 4 * 999.5 }),
      candidate(2, { latencyEwmaMs: 1, sampledAt: 990, active: 4, pendingStartsMs: 4 * 999.5 }),
      candidate(3, { latencyEwmaMs: 1, sampledAt: 980, active: 4, pendingStartsMs: 4 * 980 }),
    ];
    const balancer = shortestResponseBalancer({ random: mulberry32(52), monotonicNow: at(1_000) });
    const counts = tally(candidates, 10_000, () => balancer.select(candidates, call()));
    assert.equal(counts[2], 0);
    assertDistribution(counts, [1, 1, 0]);
  });

  it('tries a provider found slow again once its estimate has decayed below the others\' cost', () => {
    const slow = candidate(3, { latencyEwmaMs: 200, sampledAt: 0 });
    // Each of the others answers in 2 ms and has 4 calls in flight, sent 1 ms ago.
    const busy = (now: number) => [1, 2].map((host) => candidate(host, { latencyEwmaMs: 2, sampledAt: now, active: 4, pendingStartsMs: 4 * (now - 1) }));
    // 200 ms × e^-1 ≈ 74 ms × 1, against 2 ms × 5.
    assert.notEqual(shortestResponseBalancer({ monotonicNow: at(10_000) }).select([...busy(10_000), slow], call()), slow);
    // 200 ms × e^-5 ≈ 1.3 ms × 1.
    assert.equal(shortestResponseBalancer({ monotonicNow: at(50_000) }).select([...busy(50_000), slow], call()), slow);
  });

  it('breaks ties by weighted random: providers not tried yet share the first calls by weight', () => {
    const candidates = [candidate(1, { weight: 100 }), candidate(2, { weight: 300 }), candidate(3, { weight: 100, latencyEwmaMs: 1, sampledAt: 0 })];
    const balancer = shortestResponseBalancer({ random: mulberry32(53), monotonicNow: at(0) });
    assertDistribution(tally(candidates, 40_000, () => balancer.select(candidates, call())), [1, 3, 0]);
  });

  it('sends a provider never heard from one call at a time', () => {
    const candidates = [candidate(1, { active: 1, pendingStartsMs: 0 }), candidate(2, { latencyEwmaMs: 30, sampledAt: 0, active: 20, pendingStartsMs: 0 })];
    assert.equal(shortestResponseBalancer({ monotonicNow: at(1) }).select(candidates, call()), candidates[1]);
  });

  it('never picks a zero-weight provider unless every provider has weight 0, and returns the only candidate', () => {
    const candidates = [candidate(1, { weight: 0 }), candidate(2, { latencyEwmaMs: 99, sampledAt: 0 })];
    assert.equal(shortestResponseBalancer().select(candidates, call()), candidates[1]);
    const zero = [candidate(1, { weight: 0, latencyEwmaMs: 9, sampledAt: 0 }), candidate(2, { weight: 0 })];
    assert.equal(shortestResponseBalancer({ monotonicNow: at(0) }).select(zero, call()), zero[1]);
    const one = [candidate(1, { latencyEwmaMs: 99 })];
    assert.equal(shortestResponseBalancer().select(one, call()), one[0]);
  });
});
