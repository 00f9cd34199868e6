import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomBalancer } from '../../../src/cluster/balancers/random.js';
import { mulberry32 } from '../../support/random.js';
import { assertDistribution, call, candidate, tally } from './fixtures.js';

describe('random balancer', () => {
  it('picks providers in proportion to their weights', () => {
    const candidates = [candidate(1, { weight: 100 }), candidate(2, { weight: 200 }), candidate(3, { weight: 300 }), candidate(4, { weight: 400 })];
    const balancer = randomBalancer({ random: mulberry32(1) });
    const counts = tally(candidates, 100_000, () => balancer.select(candidates, call('k')));
    assertDistribution(counts, [1, 2, 3, 4]);
  });

  it('picks uniformly when all weights are equal', () => {
    const candidates = [1, 2, 3, 4, 5].map((host) => candidate(host, { weight: 50 }));
    const balancer = randomBalancer({ random: mulberry32(2) });
    const counts = tally(candidates, 50_000, () => balancer.select(candidates, call('k')));
    assertDistribution(counts, [1, 1, 1, 1, 1]);
  });

  it('never picks a zero-weight provider while another has weight', () => {
    const candidates = [candidate(1, { weight: 0 }), candidate(2, { weight: 100 }), candidate(3, { weight: 0 }), candidate(4, { weight: 300 })];
    const balancer = randomBalancer({ random: mulberry32(3) });
    const counts = tally(candidates, 40_000, () => balancer.select(candidates, call('k')));
    assertDistribution(counts, [0, 1, 0, 3]);
  });

  it('picks uniformly among zero-weight providers when all weights are zero', () => {
    const candidates = [1, 2, 3].map((host) => candidate(host, { weight: 0 }));
    const balancer = randomBalancer({ random: mulberry32(4) });
    const counts = tally(candidates, 30_000, () => balancer.select(candidates, call('k')));
    assertDistribution(counts, [1, 1, 1]);
  });

  it('returns the only candidate, and copes with random() values at the ends of [0, 1)', () => {
    const only = [candidate(1)];
    assert.equal(randomBalancer().select(only, call()), only[0]);
    const candidates = [candidate(1, { weight: 1 }), candidate(2, { weight: 3 }), candidate(3, { weight: 0 })];
    assert.equal(randomBalancer({ random: () => 0 }).select(candidates, call()), candidates[0]);
    assert.equal(randomBalancer({ random: () => 1 - Number.EPSILON / 2 }).select(candidates, call()), candidates[1]);
  });
});
