import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { balancerNames, createBalancer, type BalancerName } from '../../../src/cluster/balancers/index.js';
import { Code } from '../../../src/core/code.js';
import { RpcError } from '../../../src/core/rpc-error.js';
import { mulberry32 } from '../../support/random.js';
import { call, candidate } from './fixtures.js';

describe('createBalancer', () => {
  it('knows random, roundrobin, leastactive, consistenthash, p2c and shortestresponse', () => {
    assert.deepEqual([...balancerNames].sort(), ['consistenthash', 'leastactive', 'p2c', 'random', 'roundrobin', 'shortestresponse']);
  });

  for (const name of ['random', 'roundrobin', 'leastactive', 'consistenthash', 'p2c', 'shortestresponse'] as const) {
    it(`creates a working ${name} balancer that only returns candidates`, () => {
      const balancer = createBalancer(name, { random: mulberry32(41), now: () => 0 });
      const candidates = [candidate(1), candidate(2), candidate(3)];
      for (let i = 0; i < 50; i++) assert.ok(candidates.includes(balancer.select(candidates, call(`k${i}`))));
    });
  }

  it('creates independent balancers: round-robin state is not shared between them', () => {
    const candidates = [candidate(1), candidate(2)];
    const first = createBalancer('roundrobin');
    first.select(candidates, call());
    assert.equal(createBalancer('roundrobin').select(candidates, call()), candidates[0]);
  });

  for (const name of ['RoundRobin', 'weighted', '', 'toString', '__proto__']) {
    it(`rejects the unknown name ${JSON.stringify(name)} with INVALID_ARGUMENT listing the known ones`, () => {
      assert.throws(
        () => createBalancer(name as BalancerName),
        (error: unknown) => {
          assert.ok(error instanceof RpcError);
          assert.equal(error.code, Code.INVALID_ARGUMENT);
          assert.match(error.message, /random, roundrobin, leastactive, consistenthash, p2c, shortestresponse/);
          assert.ok(error.message.includes(JSON.stringify(name)));
          return true;
        },
      );
    });
  }
});
