import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { leastActiveBalancer } from '../../../src/cluster/balancers/least-active.js';
import { mulberry32 } from '../../support/random.js';
import { assertDistribution, call, candidate, tally } from './fixtures.js';

describe('least-active balancer', () => {
  it('always picks the idle provider over busy ones', () => {
    const candidates = [candidate(1, { active: 3 }), candidate(2, { active: 0 }), candidate(3, { active: 5 })];
    const balancer = leastActiveBalancer({ random: mulberry32(11) });
    const counts = tally(candidates, 1000, () => balancer.select(candidates, call()));
    assert.deepEqual(counts, [0, 1000, 0]);
  });

  it('picks the provider with the fewest calls in flight even when it has the lowest weight', () => {
    const candidates = [candidate(1, { active: 2, weight: 500 }), candidate(2, { active: 1, weight: 1 })];
    assert.equal(leastActiveBalancer().select(candidates, call()), candidates[1]);
  });

  it('breaks ties by weighted random among the tied providers only', () => {
    const candidates = [
      candidate(1, { active: 1, weight: 100 }),
      candidate(2, { active: 1, weight: 300 }),
      candidate(3, { active: 4, weight: 1000 }),
    ];
    const balancer = leastActiveBalancer({ random: mulberry32(12) });
    const counts = tally(candidates, 40_000, () => balancer.select(candidates, call()));
    assertDistribution(counts, [1, 3, 0]);
  });

  it('spreads evenly over tied providers of equal weight', () => {
    const candidates = [1, 2, 3, 4].map((host) => candidate(host, { active: 2 }));
    const balancer = leastActiveBalancer({ random: mulberry32(13) });
    const counts = tally(candidates, 40_000, () => balancer.select(candidates, call()));
    assertDistribution(counts, [1, 1, 1, 1]);
  });

  it('does not send calls to an idle zero-weight provider', () => {
    const candidates = [candidate(1, { active: 0, weight: 0 }), candidate(2, { active: 7 }), candidate(3, { active: 9 })];
    const balancer = leastActiveBalancer({ random: mulberry32(14) });
    const counts = tally(candidates, 100, () => balancer.select(candidates, call()));
    assert.deepEqual(counts, [0, 100, 0]);
  });
});
