import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Candidate } from '../../../src/cluster/balancers/balancer.js';
import { consistentHashBalancer } from '../../../src/cluster/balancers/consistent-hash.js';
import { stableKey } from '../../../src/core/stable-key.js';
import { call, candidate, idOf } from './fixtures.js';

const keys = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);

/** The id of the provider each key maps to. */
function assign(candidates: readonly Candidate[], balancer = consistentHashBalancer()): string[] {
  return keys.map((key) => idOf(balancer.select(candidates, call(key))));
}

describe('consistent-hash balancer', () => {
  it('sends the same key to the same provider, whatever the candidate order or objects', () => {
    const balancer = consistentHashBalancer();
    const first = [1, 2, 3, 4, 5].map((host) => candidate(host));
    for (const key of ['alice', 'bob', 42, { id: 7 }]) {
      const picked = idOf(balancer.select(first, call(key)));
      for (let round = 0; round < 5; round++) {
        const fresh = [1, 2, 3, 4, 5].map((host) => candidate(host, { active: round }));
        assert.equal(idOf(balancer.select(round % 2 === 0 ? fresh : fresh.reverse(), call(key))), picked);
      }
      assert.equal(idOf(consistentHashBalancer().select(first, call(key))), picked, 'a new balancer agrees');
    }
  });

  it('spreads 10k keys over 4 providers within ±25% of a fair share', () => {
    const candidates = [1, 2, 3, 4].map((host) => candidate(host));
    const counts = new Map<string, number>();
    for (const id of assign(candidates)) counts.set(id, (counts.get(id) ?? 0) + 1);
    assert.equal(counts.size, 4);
    for (const [id, count] of counts) assert.ok(count > 1875 && count < 3125, `${id} got ${count} of 10000 keys`);
  });

  it('moves only the keys of a provider that leaves', () => {
    const candidates = [1, 2, 3, 4].map((host) => candidate(host));
    const balancer = consistentHashBalancer();
    const before = assign(candidates, balancer);
    const gone = idOf(candidates[2]!);
    const after = assign(candidates.filter((c) => idOf(c) !== gone), balancer);
    let moved = 0;
    for (let i = 0; i < keys.length; i++) {
      if (before[i] === gone) {
        assert.notEqual(after[i], gone);
        moved++;
      } else {
        assert.equal(after[i], before[i], `key ${keys[i]} moved from ${before[i]} to ${after[i]}`);
      }
    }
    assert.ok(moved > 0);
  });

  it('moves only about 1/(n+1) of the keys, all to the newcomer, when a provider joins', () => {
    const candidates = [1, 2, 3, 4].map((host) => candidate(host));
    const balancer = consistentHashBalancer();
    const before = assign(candidates, balancer);
    const newcomer = candidate(5);
    const after = assign([...candidates, newcomer], balancer);
    let moved = 0;
    for (let i = 0; i < keys.length; i++) {
      if (after[i] !== before[i]) {
        assert.equal(after[i], idOf(newcomer), `key ${keys[i]} moved between old providers`);
        moved++;
      }
    }
    // Fair share is 2000 of 10000.
    assert.ok(moved > 1500 && moved < 2500, `${moved} keys moved`);
  });

  it('builds the key from the arguments at hashArguments', () => {
    const candidates = [1, 2, 3, 4, 5, 6].map((host) => candidate(host));
    const byFirst = consistentHashBalancer();
    const bySecond = consistentHashBalancer({ hashArguments: [1] });
    const differs = { first: 0, second: 0 };
    for (let i = 0; i < 200; i++) {
      const base = bySecond.select(candidates, call('fixed', `k${i}`));
      assert.equal(bySecond.select(candidates, call(`other${i}`, `k${i}`)), base, 'the first argument is ignored');
      if (idOf(byFirst.select(candidates, call('fixed', `k${i}`))) !== idOf(byFirst.select(candidates, call('fixed', 'k0')))) differs.first++;
      if (idOf(base) !== idOf(bySecond.select(candidates, call('fixed', 'k0')))) differs.second++;
    }
    assert.equal(differs.first, 0, 'with the default [0], the second argument is ignored');
    assert.ok(differs.second > 100, 'the second argument spreads the keys');
  });

  it('maps objects with the same content to the same provider regardless of key order', () => {
    const candidates = [1, 2, 3, 4, 5, 6, 7, 8].map((host) => candidate(host));
    const balancer = consistentHashBalancer({ hashArguments: [0, 1] });
    for (let i = 0; i < 50; i++) {
      const a = balancer.select(candidates, call({ tenant: `t${i}`, user: { id: i, tags: ['x', 'y'] } }, 1));
      const b = balancer.select(candidates, call({ user: { tags: ['x', 'y'], id: i }, tenant: `t${i}` }, 1));
      assert.equal(a, b);
    }
    assert.equal(stableKey([{ b: 1, a: [1, '1', null] }]), stableKey([{ a: [1, '1', null], b: 1 }]));
    assert.notEqual(stableKey([1]), stableKey(['1']));
    assert.notEqual(stableKey([[1, 2]]), stableKey([[2, 1]]));
  });

  it('uses virtualNodes points per provider: with few points the spread is poor, with many it is fair', () => {
    const candidates = [1, 2, 3, 4].map((host) => candidate(host));
    const spread = (virtualNodes: number) => {
      const counts = new Map<string, number>();
      for (const id of assign(candidates, consistentHashBalancer({ virtualNodes }))) counts.set(id, (counts.get(id) ?? 0) + 1);
      const values = [...counts.values()];
      return values.length < 4 ? Infinity : Math.max(...values) / Math.min(...values);
    };
    assert.ok(spread(1000) < 1.2, `max/min ${spread(1000)} with 1000 points`);
    assert.ok(spread(1) > spread(1000), 'one point per provider spreads worse than 1000');
  });

  it('gives no keys to a zero-weight provider', () => {
    const candidates = [candidate(1), candidate(2, { weight: 0 }), candidate(3)];
    const ids = new Set(assign(candidates));
    assert.deepEqual([...ids].sort(), [idOf(candidates[0]!), idOf(candidates[2]!)].sort());
  });
});
