import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RetryBudget, retryBudgetOf, type RetryBudgetOptions } from '../../src/cluster/retry-budget.js';
import { Code, RpcError } from '../../src/index.js';

function budget(options: RetryBudgetOptions = {}) {
  let now = 1_000;
  const made = new RetryBudget({ ...options, now: () => now });
  const withdrawAll = (limit = 100_000) => {
    let allowed = 0;
    while (allowed < limit && made.tryWithdraw()) allowed++;
    return allowed;
  };
  return { budget: made, advance: (ms: number) => (now += ms), withdrawAll, deposit: (n: number) => { for (let i = 0; i < n; i++) made.deposit(); } };
}

describe('retry budget', () => {
  it('allows minPerSecond × ttl retries with no calls at all, then refuses', () => {
    const { withdrawAll, budget: b } = budget({ ratio: 0.2, minPerSecond: 10, ttlMs: 10_000 });
    assert.equal(withdrawAll(), 100);
    assert.equal(b.tryWithdraw(), false);
    // withdrawAll stopped at the first refusal; the second is the one above.
    assert.deepEqual(b.stats(), { calls: 0, retries: 100, refused: 2, available: 0 });
  });

  it('allows ratio × the calls made on top of the floor', () => {
    const { withdrawAll, deposit } = budget({ ratio: 0.2, minPerSecond: 1, ttlMs: 5_000 });
    deposit(1000);
    assert.equal(withdrawAll(), 200 + 5);
  });

  it('counts calls deposited since the last batch (the batch of 32 is not yet full)', () => {
    const { withdrawAll, deposit } = budget({ ratio: 1, minPerSecond: 0, ttlMs: 1_000 });
    deposit(5);
    assert.equal(withdrawAll(), 5);
  });

  it('forgets calls and retries after ttlMs, so the budget follows the recent load', () => {
    const { withdrawAll, deposit, advance, budget: b } = budget({ ratio: 0.5, minPerSecond: 0, ttlMs: 10_000 });
    deposit(100);
    assert.equal(withdrawAll(), 50);
    advance(5_000);
    assert.equal(b.tryWithdraw(), false, 'calls and retries of 5 s ago still count');
    deposit(20);
    assert.equal(withdrawAll(), 10);
    advance(5_500);
    // The first 100 calls and their 50 retries have gone; the 20 calls and 10 retries remain.
    assert.equal(withdrawAll(), 0);
    advance(5_000);
    deposit(40);
    assert.equal(withdrawAll(), 20);
  });

  it('a storm cannot spend more than the ratio: one retry per failed call, ratio 0.2, gives one retry in five', () => {
    const { budget: b, deposit } = budget({ ratio: 0.2, minPerSecond: 0, ttlMs: 10_000 });
    let retries = 0;
    for (let call = 0; call < 1000; call++) {
      deposit(1);
      if (b.tryWithdraw()) retries++;
    }
    assert.equal(retries, 200);
    assert.equal(b.stats().refused, 800);
  });

  it('ratio 0 and minPerSecond 0 allow no retry', () => {
    const { withdrawAll, deposit } = budget({ ratio: 0, minPerSecond: 0 });
    deposit(100);
    assert.equal(withdrawAll(), 0);
  });

  it('retryBudgetOf: false for none, a budget object as it is, options for a new one, nonsense refused', () => {
    assert.equal(retryBudgetOf(false), undefined);
    const shared = new RetryBudget();
    assert.equal(retryBudgetOf(shared), shared);
    assert.ok(retryBudgetOf({ ratio: 0.1 }) instanceof RetryBudget);
    for (const bad of [{ ratio: -1 }, { minPerSecond: Number.NaN }, { ttlMs: 0 }]) {
      assert.throws(() => retryBudgetOf(bad), (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT, JSON.stringify(bad));
    }
    assert.throws(() => retryBudgetOf(3 as never), (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT);
  });
});
