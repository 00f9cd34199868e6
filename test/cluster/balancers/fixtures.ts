import assert from 'node:assert/strict';
import type { Candidate } from '../../../src/cluster/balancers/balancer.js';
import type { Invocation } from '../../../src/core/invocation.js';
import { Metadata } from '../../../src/core/metadata.js';
import { defineService } from '../../../src/core/service.js';
import { parseProviderUrl, providerId } from '../../../src/registry/provider.js';

export const Service = defineService<{ get(key: unknown, extra?: unknown): Promise<unknown> }>('demo.Store', {
  version: '1.0.0',
  methods: { get: {} },
});

export interface CandidateInit {
  weight?: number;
  active?: number;
  latencyEwmaMs?: number;
  /** When its last call ended, and the sum of its calls' start times, on the balancer's monotonic clock. */
  sampledAt?: number;
  pendingStartsMs?: number;
  /** Start time (epoch ms) and warm-up length, for warm-up tests. */
  timestamp?: number;
  warmupMs?: number;
}

/** A candidate for the provider of `Service` at 10.0.0.`host`:20880, built from its registry URL. */
export function candidate(host: number, init: CandidateInit = {}): Candidate {
  const query = new URLSearchParams({ version: '1.0.0', methods: 'get', weight: String(init.weight ?? 100) });
  query.set('timestamp', String(init.timestamp ?? 0));
  if (init.warmupMs !== undefined) query.set('warmup', String(init.warmupMs));
  const provider = parseProviderUrl(`tcp://10.0.0.${host}:20880/demo.Store?${query.toString()}`);
  const { sampledAt, pendingStartsMs } = init;
  return { provider, active: init.active ?? 0, latencyEwmaMs: init.latencyEwmaMs ?? 0, ...defined({ sampledAt, pendingStartsMs }) };
}

function defined<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** A call of `Service.get` with the given arguments. */
export function call(...args: unknown[]): Invocation {
  return {
    service: Service,
    method: 'get',
    args,
    metadata: new Metadata(),
    responseMetadata: new Metadata(),
    deadline: undefined,
    signal: undefined,
    oneWay: false,
  };
}

export function idOf(c: Candidate): string {
  return providerId(c.provider);
}

/** How often each candidate is picked in `n` selections. */
export function tally(candidates: readonly Candidate[], n: number, pick: () => Candidate): number[] {
  const counts = candidates.map(() => 0);
  for (let i = 0; i < n; i++) {
    const index = candidates.indexOf(pick());
    assert.ok(index >= 0, 'the balancer returned something that is not one of the candidates');
    counts[index]!++;
  }
  return counts;
}

// Upper quantiles of the chi-square distribution at p = 1e-6, by degrees of freedom (1..7).
const chiSquareCritical = [23.928, 27.631, 30.665, 33.377, 35.888, 38.258, 40.522];

/**
 * Asserts that `counts` fit the expected `shares` (any positive scale): a chi-square goodness-of-fit
 * test that a correct balancer fails with probability below 1e-6. Zero shares must have zero counts.
 */
export function assertDistribution(counts: readonly number[], shares: readonly number[]): void {
  const n = counts.reduce((a, b) => a + b, 0);
  const sum = shares.reduce((a, b) => a + b, 0);
  let statistic = 0;
  let categories = 0;
  for (let i = 0; i < counts.length; i++) {
    const expected = (n * shares[i]!) / sum;
    if (expected === 0) {
      assert.equal(counts[i], 0, `candidate ${i} has share 0 but was picked ${counts[i]} times`);
      continue;
    }
    categories++;
    statistic += (counts[i]! - expected) ** 2 / expected;
  }
  const critical = chiSquareCritical[categories - 2];
  assert.ok(critical !== undefined, `no critical value for ${categories} categories`);
  assert.ok(
    statistic < critical,
    `counts ${JSON.stringify(counts)} do not fit shares ${JSON.stringify(shares)} (chi-square ${statistic.toFixed(2)} ≥ ${critical})`,
  );
}
