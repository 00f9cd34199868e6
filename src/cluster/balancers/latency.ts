// How long a provider's next call is expected to take, for the balancers that weigh latency (`p2c`,
// `shortestresponse`) and for the choice among providers that are all at their limits.
//
// The estimate is a provider's `latencyEwmaMs`, which the client keeps (src/cluster/invoker.ts) as a
// peak EWMA, the average Finagle's and Linkerd's balancers keep: a call slower than the estimate
// raises it to that call's latency at once, a faster one lowers it a fifth of the way, and while no
// call ends it decays toward zero (time constant DECAY_MS), so a provider avoided for being slow is
// tried again after a while and found well if it has recovered. Two changes to their form:
// - A faster call lowers it by a share per call, not by the time since the last one. Finagle weighs
//   the old estimate by e^(−elapsed / 10 s), so a busy provider keeps the worst latency of its last
//   seconds; on a shared machine that is a pause of the calling process, which every provider
//   suffers in turn, and a provider 200 ms slower than the others no longer looks worse than one
//   that saw a 100 ms pause.
// - Calls in flight count: the estimate is at least their mean age. Without that a provider that
//   stops answering looks as fast as before until its first slow call ends, and by then every
//   caller with 16 calls in flight was waiting on it.
// A provider never heard from but with calls in flight is the costliest of all (Finagle's penalty),
// so a new one gets a single call until it answers, not a flood.
//
// Failed calls only raise the estimate: a timeout says the provider is slow, while a quick refusal
// says nothing of how fast it serves (and would draw calls to a provider that fails fast).

import type { Candidate } from './balancer.js';

/** Time constant of the decay of an idle provider's estimate: ~37% after 10 s, ~5% after 30 s. */
export const DECAY_MS = 10_000;
/** Share of the way a faster call moves the estimate: about the last ten calls count. */
export const PEAK_ALPHA = 0.2;
/** Below this gap between calls the decay (under 1 %) is left out, so a busy provider's calls compute no exponential. */
export const PEAK_IDLE_MS = 100;
// Above any real cost: a provider without any latency known and with calls in flight.
const PENALTY = 2 ** 40;

/**
 * The estimate after a call that took `ms` and ended at `now`, from `peak`, the estimate when the
 * previous one ended at `at` (both on `performance.now()`'s clock). A failed call only raises it.
 */
export function nextPeakMs(peak: number, at: number, ms: number, now: number, failed: boolean): number {
  const decayed = now - at > PEAK_IDLE_MS ? peak * Math.exp((at - now) / DECAY_MS) : peak;
  if (ms >= decayed) return ms;
  return failed ? decayed : decayed + PEAK_ALPHA * (ms - decayed);
}

/**
 * How long a call sent to `candidate` at `now` is expected to take, in ms (0 when nothing is known):
 * its peak-EWMA latency, decayed since its last call ended, and at least the mean age of its calls
 * in flight (for candidates that have `sampledAt` and `pendingStartsMs`, as clients' providers do).
 */
export function expectedLatencyMs(candidate: Candidate, now: number): number {
  let latency = candidate.latencyEwmaMs;
  const at = candidate.sampledAt;
  if (at !== undefined && latency > 0 && now - at > PEAK_IDLE_MS) latency *= Math.exp((at - now) / DECAY_MS);
  const { active, pendingStartsMs } = candidate;
  if (active > 0 && pendingStartsMs !== undefined) {
    const age = now - pendingStartsMs / active;
    if (age > latency) return age;
  }
  return latency;
}

/**
 * What sending one more call to `candidate` costs: the expected latency × (calls in flight + 1), the
 * cost of Finagle's and Linkerd's peak-EWMA balancers. 0 for a provider never tried and idle;
 * above any other cost for one never heard from with calls in flight.
 *
 * ```ts
 * // 2 ms expected, 3 calls in flight:
 * expectedCost(candidate, performance.now()); // 8
 * ```
 */
export function expectedCost(candidate: Candidate, now: number): number {
  if (candidate.latencyEwmaMs === 0 && candidate.active > 0) return PENALTY + candidate.active;
  return expectedLatencyMs(candidate, now) * (candidate.active + 1);
}
