// A retry budget, after Finagle's RetryBudget: retries may add at most `ratio` of the calls made over
// the last `ttlMs`, plus a floor of `minPerSecond` so that a client making few calls can still retry.
// No npm package offers one (the retry helpers retry each call on its own, with no shared budget).
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';

/** How many retries a budget allows; every field has a default. */
export interface RetryBudgetOptions {
  /** Retries allowed per call made over the last `ttlMs`: 0.2 lets retries add a fifth to the load. Default 0.2. */
  ratio?: number;
  /** Retries allowed per second whatever the number of calls, over the same window. Default 10. */
  minPerSecond?: number;
  /** How long a call made, or a retry spent, counts. Default 10000 ms. */
  ttlMs?: number;
  /** Milliseconds on a monotonic clock; `performance.now()` unless a test brings its own. */
  now?: () => number;
}

export interface RetryBudgetStats {
  /** Calls made (deposits) since the budget was made. */
  calls: number;
  /** Retries the budget allowed. */
  retries: number;
  /** Retries it refused: those calls failed with the error of their last attempt. */
  refused: number;
  /** Retries it would allow now. */
  available: number;
}

const BUCKETS = 10;
// Calls are counted in a plain counter and put in their time bucket every this many calls, or when
// a retry asks: a call costs an increment and a comparison, and the clock is read once per batch.
// Calls of a batch that waited long count as recent, which errs by at most this many calls.
const SETTLE_EVERY = 32;

/**
 * One budget shared by the calls it is given to: a reference makes one for itself unless its
 * options give it one, so several clients or services may share one by passing the same object.
 *
 * ```ts
 * const budget = new RetryBudget({ ratio: 0.1, minPerSecond: 5 });
 * createClient({ registry, retryBudget: budget });
 * ```
 */
export class RetryBudget {
  private readonly ratio: number;
  /** Retries the floor allows over one window. */
  private readonly reserve: number;
  private readonly bucketMs: number;
  private readonly now: () => number;
  private pending = 0;
  private readonly deposits = new Array<number>(BUCKETS).fill(0);
  private readonly withdrawals = new Array<number>(BUCKETS).fill(0);
  private depositTotal = 0;
  private withdrawalTotal = 0;
  private bucket = 0;
  private bucketStart = Number.NaN;
  private counts = { calls: 0, retries: 0, refused: 0 };

  constructor(options: RetryBudgetOptions = {}) {
    this.ratio = atLeastZero(options.ratio ?? 0.2, 'ratio');
    const ttlMs = atLeastZero(options.ttlMs ?? 10_000, 'ttlMs');
    if (ttlMs === 0) throw new RpcError(Code.INVALID_ARGUMENT, 'retryBudget ttlMs must be above 0');
    this.reserve = (atLeastZero(options.minPerSecond ?? 10, 'minPerSecond') * ttlMs) / 1000;
    this.bucketMs = ttlMs / BUCKETS;
    this.now = options.now ?? (() => performance.now());
  }

  /** Counts a call made. On every call's path: keep it this small. */
  deposit(): void {
    if (++this.pending === SETTLE_EVERY) this.settle(this.now());
  }

  /** Spends one retry if the budget has one; false means the call must not be tried again. */
  tryWithdraw(): boolean {
    this.settle(this.now());
    if (this.balance() < 1) {
      this.counts.refused++;
      return false;
    }
    this.withdrawals[this.bucket]!++;
    this.withdrawalTotal++;
    this.counts.retries++;
    return true;
  }

  stats(): RetryBudgetStats {
    this.settle(this.now());
    return { ...this.counts, available: Math.max(0, Math.floor(this.balance())) };
  }

  private balance(): number {
    return this.reserve + this.ratio * this.depositTotal - this.withdrawalTotal;
  }

  /** Moves the window on to `now` and puts the calls counted since the last time in its bucket. */
  private settle(now: number): void {
    if (Number.isNaN(this.bucketStart)) this.bucketStart = now;
    const steps = Math.floor((now - this.bucketStart) / this.bucketMs);
    if (steps > 0) {
      for (let i = 1; i <= Math.min(steps, BUCKETS); i++) {
        const index = (this.bucket + i) % BUCKETS;
        this.depositTotal -= this.deposits[index]!;
        this.withdrawalTotal -= this.withdrawals[index]!;
        this.deposits[index] = 0;
        this.withdrawals[index] = 0;
      }
      this.bucket = (this.bucket + steps) % BUCKETS;
      this.bucketStart += steps * this.bucketMs;
    }
    const pending = this.pending;
    if (pending === 0) return;
    this.pending = 0;
    this.deposits[this.bucket]! += pending;
    this.depositTotal += pending;
    this.counts.calls += pending;
  }
}

/** The budget `retryBudget` options ask for: none for `false`, the object itself, or a new one. */
export function retryBudgetOf(spec: RetryBudgetOptions | RetryBudget | false | undefined): RetryBudget | undefined {
  if (spec === false) return undefined;
  if (spec instanceof RetryBudget) return spec;
  if (spec !== undefined && (spec === null || typeof spec !== 'object')) {
    throw new RpcError(Code.INVALID_ARGUMENT, 'retryBudget must be an object of options, a RetryBudget, or false');
  }
  return new RetryBudget(spec);
}

function atLeastZero(value: number, name: string): number {
  if (!(typeof value === 'number' && value >= 0 && Number.isFinite(value))) {
    throw new RpcError(Code.INVALID_ARGUMENT, `retryBudget ${name} must be a number of at least 0, not ${String(value)}`);
  }
  return value;
}
