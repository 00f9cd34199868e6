/**
 * Timers for deadlines of any length. `setTimeout` holds at most 2^31-1 ms (24.8 days): a longer
 * delay overflows and fires after 1 ms, so a deadline of 30 days would fail a call at once. A long
 * timer here waits in hops of at most that length; an infinite or NaN delay arms nothing.
 */
import { Code } from './code.js';
import { RpcError } from './rpc-error.js';

/** The longest delay `setTimeout` honours. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A running timer: a plain Node timeout for delays within range, a hopping one beyond. */
export type Timer = NodeJS.Timeout | LongTimer;

/**
 * Calls `fn(arg)` after `ms` milliseconds, like `setTimeout(fn, ms, arg)`, but right for any delay.
 * Returns undefined, arming nothing, when `ms` is `Infinity` or NaN: such a deadline never passes.
 */
export function startTimer<A>(ms: number, fn: (arg: A) => void, arg: A): Timer | undefined {
  if (ms <= MAX_TIMER_MS) return setTimeout(fn, ms > 0 ? ms : 0, arg);
  if (ms === Infinity || Number.isNaN(ms)) return undefined;
  return new LongTimer(Date.now() + ms, fn, arg);
}

/** Calls `fn(arg)` at the absolute time `at` (epoch ms); see `startTimer`. */
export function startTimerAt<A>(at: number, fn: (arg: A) => void, arg: A): Timer | undefined {
  return startTimer(at - Date.now(), fn, arg);
}

/** Stops a timer made by `startTimer`; does nothing for undefined. */
export function stopTimer(timer: Timer | undefined): void {
  if (timer === undefined) return;
  if (timer instanceof LongTimer) timer.stop();
  else clearTimeout(timer);
}

/**
 * A deadline far beyond `setTimeout`'s range. Each hop re-reads the clock, so the timer fires at
 * its due time however many hops it took. Exported for its tests only.
 */
export class LongTimer {
  private current: NodeJS.Timeout | undefined;
  private unreferenced = false;

  constructor(
    private readonly due: number,
    private readonly fn: (arg: never) => void,
    private readonly arg: unknown,
    private readonly hopMs = MAX_TIMER_MS,
  ) {
    this.arm();
  }

  /** Like a Node timeout's `unref()`: the timer does not keep the process alive. */
  unref(): this {
    this.unreferenced = true;
    this.current?.unref();
    return this;
  }

  stop(): void {
    clearTimeout(this.current);
    this.current = undefined;
  }

  private arm(): void {
    const left = this.due - Date.now();
    if (left <= 0) {
      this.current = undefined;
      (this.fn as (arg: unknown) => void)(this.arg);
      return;
    }
    this.current = setTimeout(() => this.arm(), Math.min(left, this.hopMs));
    if (this.unreferenced) this.current.unref();
  }
}

/**
 * A call's absolute deadline from its options: `deadline` (epoch ms) wins over `timeoutMs`. An
 * infinite one means none, so no transport ever sends or arms it; NaN is a mistake worth an error.
 */
export function callDeadline(timeoutMs: number | undefined, deadline: number | undefined): number | undefined {
  const at = deadline ?? (timeoutMs === undefined ? undefined : Date.now() + timeoutMs);
  if (at === undefined || at === Infinity) return undefined;
  if (typeof at !== 'number' || Number.isNaN(at)) {
    throw new RpcError(Code.INVALID_ARGUMENT, `invalid deadline: timeoutMs ${String(timeoutMs)}, deadline ${String(deadline)}`, { unprocessed: true });
  }
  return at;
}
