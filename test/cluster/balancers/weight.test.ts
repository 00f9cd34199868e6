import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomBalancer } from '../../../src/cluster/balancers/random.js';
import { roundRobinBalancer } from '../../../src/cluster/balancers/round-robin.js';
import { effectiveWeight } from '../../../src/cluster/balancers/weight.js';
import { mulberry32 } from '../../support/random.js';
import { assertDistribution, call, candidate, tally } from './fixtures.js';

const start = 1_700_000_000_000;

describe('effectiveWeight (warm-up)', () => {
  it('is the weight when there is no warm-up or it is over', () => {
    assert.equal(effectiveWeight(candidate(1, { weight: 80 }).provider, start), 80);
    const warming = candidate(1, { weight: 80, timestamp: start, warmupMs: 60_000 }).provider;
    assert.equal(effectiveWeight(warming, start + 60_000), 80);
    assert.equal(effectiveWeight(warming, start + 600_000), 80);
  });

  it('ramps linearly during warm-up and is at least 1', () => {
    const warming = candidate(1, { weight: 200, timestamp: start, warmupMs: 10_000 }).provider;
    assert.equal(effectiveWeight(warming, start + 1_000), 20);
    assert.equal(effectiveWeight(warming, start + 5_000), 100);
    assert.equal(effectiveWeight(warming, start + 9_000), 180);
    assert.equal(effectiveWeight(warming, start), 1);
    assert.equal(effectiveWeight(warming, start + 10), 1);
    assert.equal(effectiveWeight(warming, start - 5_000), 1, 'a start time in the future counts as just started');
  });

  it('keeps weight 0 at 0, warming or not', () => {
    assert.equal(effectiveWeight(candidate(1, { weight: 0 }).provider, start), 0);
    assert.equal(effectiveWeight(candidate(1, { weight: 0, timestamp: start, warmupMs: 1000 }).provider, start + 1), 0);
  });

  it('gives a provider 10% into its warm-up about 10% of its weight\'s share (random)', () => {
    const now = start + 6_000;
    const candidates = [candidate(1, { weight: 100, timestamp: start, warmupMs: 60_000 }), candidate(2, { weight: 100 })];
    const balancer = randomBalancer({ random: mulberry32(31), now: () => now });
    const counts = tally(candidates, 50_000, () => balancer.select(candidates, call()));
    assertDistribution(counts, [10, 100]);
  });

  it('gives a warming provider its reduced share exactly over a round-robin cycle, and its full share later', () => {
    let now = start + 6_000;
    const candidates = [candidate(1, { weight: 100, timestamp: start, warmupMs: 60_000 }), candidate(2, { weight: 100 })];
    const balancer = roundRobinBalancer({ now: () => now });
    let counts = tally(candidates, 110 * 3, () => balancer.select(candidates, call()));
    assert.deepEqual(counts, [30, 300]);
    now = start + 60_000;
    counts = tally(candidates, 200, () => balancer.select(candidates, call()));
    assert.ok(Math.abs(counts[0]! - 100) <= 1, `after warm-up: ${JSON.stringify(counts)}`);
  });
});
