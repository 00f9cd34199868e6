import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { roundRobinBalancer } from '../../../src/cluster/balancers/round-robin.js';
import type { Candidate } from '../../../src/cluster/balancers/balancer.js';
import { Metadata } from '../../../src/core/metadata.js';
import { defineService } from '../../../src/core/service.js';
import { call, candidate, idOf } from './fixtures.js';

/** Names the picks a, b, c, ... by host number 1, 2, 3, ... */
function letter(picked: Candidate): string {
  return String.fromCharCode(96 + picked.provider.host.split('.').map(Number)[3]!);
}

describe('smooth weighted round-robin balancer', () => {
  it('gives nginx\'s sequence a a b a c a a for weights 5, 1, 1, cycle after cycle', () => {
    const candidates = [candidate(1, { weight: 5 }), candidate(2, { weight: 1 }), candidate(3, { weight: 1 })];
    const balancer = roundRobinBalancer();
    const picks = Array.from({ length: 21 }, () => letter(balancer.select(candidates, call())));
    assert.equal(picks.join(' '), 'a a b a c a a a a b a c a a a a b a c a a');
  });

  it('gives each provider exactly its weight\'s share in every cycle', () => {
    const weights = [7, 3, 0, 5, 1];
    const candidates = weights.map((weight, i) => candidate(i + 1, { weight }));
    const balancer = roundRobinBalancer();
    for (let cycle = 0; cycle < 5; cycle++) {
      const counts = weights.map(() => 0);
      for (let i = 0; i < 16; i++) counts[candidates.indexOf(balancer.select(candidates, call()))]!++;
      assert.deepEqual(counts, weights, `cycle ${cycle}`);
    }
  });

  it('keeps state per provider id, whatever the order and objects of the candidate list', () => {
    const weights = [5, 3, 2];
    const balancer = roundRobinBalancer();
    const counts = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      // Fresh candidate objects each call, in a rotating order.
      const candidates = weights.map((weight, host) => candidate(host + 1, { weight, active: i }));
      const rotated = [...candidates.slice(i % 3), ...candidates.slice(0, i % 3)];
      const picked = idOf(balancer.select(rotated, call()));
      counts.set(picked, (counts.get(picked) ?? 0) + 1);
      if ((i + 1) % 10 === 0) {
        assert.deepEqual(weights.map((_, host) => counts.get(idOf(candidates[host]!)) ?? 0), weights.map((w) => (w * (i + 1)) / 10));
      }
    }
  });

  it('carries the scores of the remaining providers across a change of the candidate list', () => {
    const [a, b, c] = [candidate(1, { weight: 4 }), candidate(2, { weight: 2 }), candidate(3, { weight: 1 })];
    const balancer = roundRobinBalancer();
    // Scores a:-2 b:2 after the first pick; a list rebuilt from zero would pick a again second.
    const picks = [[a!, b!], [a!, b!, c!], [a!, b!, c!], [a!, b!]].map((list) => letter(balancer.select(list, call())));
    assert.deepEqual(picks, ['a', 'b', 'a', 'a']);
  });

  it('forgets a provider that leaves, so it starts from zero when it comes back', () => {
    const [a, b, c] = [candidate(1, { weight: 3 }), candidate(2, { weight: 4 }), candidate(3, { weight: 3 })];
    const balancer = roundRobinBalancer();
    // After [b, c] b's score is -3; were it remembered, the last pick would be c (c:3 vs b:1).
    const picks = [[b!, c!], [a!, c!], [b!, c!]].map((list) => letter(balancer.select(list, call())));
    assert.deepEqual(picks, ['b', 'c', 'b']);
  });

  it('keeps separate scores for separate services', () => {
    const other = defineService<{ get(): Promise<void> }>('demo.Other', { methods: { get: {} } });
    const otherCall = { ...call(), service: other, metadata: new Metadata(), responseMetadata: new Metadata() };
    const candidates = [candidate(1, { weight: 5 }), candidate(2, { weight: 1 }), candidate(3, { weight: 1 })];
    const balancer = roundRobinBalancer();
    const picks: string[] = [];
    for (let i = 0; i < 7; i++) {
      picks.push(letter(balancer.select(candidates, call())));
      balancer.select(candidates, otherCall);
    }
    assert.equal(picks.join(' '), 'a a b a c a a');
  });

  it('takes turns evenly when every weight is zero', () => {
    const candidates = [1, 2, 3].map((host) => candidate(host, { weight: 0 }));
    const balancer = roundRobinBalancer();
    const picks = Array.from({ length: 6 }, () => letter(balancer.select(candidates, call())));
    assert.equal(picks.join(' '), 'a b c a b c');
  });
});
