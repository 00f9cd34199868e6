/**
 * A small seeded generator (mulberry32): the same seed gives the same sequence in [0, 1), so a
 * test that injects faults at random can be run again exactly, from the seed it printed.
 *
 * ```ts
 * const random = mulberry32(42);
 * random(); // 0.6011037519201636, on every run
 * ```
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed for a run that names none: random, and shown on the fault control so it can be replayed. */
export function freshSeed(): number {
  return Math.floor(Math.random() * 0x100000000);
}
