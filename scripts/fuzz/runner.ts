/**
 * Runs a fuzz target in this process: `inputs` seeded inputs through its `check`, then its
 * fast-check properties. A check that throws is a crash; one that takes longer than `HANG_MS` is a
 * hang. Both are reported with the run seed and input index that make the input again.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { inputSeed, makeInput, Rng, type Corpus } from './mutator.js';

/** An input slower than this is a hang (it returned, but a peer could send it again and again). */
export const HANG_MS = 1000;
/** An input slower than this is run again, and the faster of the two times counts. */
const RECHECK_MS = 20;

/** A fast-check property of a target, run with a number of runs and a seed. */
export interface FuzzProperty {
  readonly name: string;
  run(numRuns: number, seed: number): void | Promise<void>;
}

export interface FuzzTarget extends Corpus {
  readonly name: string;
  /** Feeds one input to the code under test and checks the property; throws when it does not hold. */
  check(input: Buffer, rng: Rng): void | Promise<void>;
  readonly properties: readonly FuzzProperty[];
}

/** A property of a target as fast-check states it. */
export function property<Ts>(name: string, prop: fc.IRawProperty<Ts>): FuzzProperty {
  return { name, run: (numRuns, seed) => fc.assert(prop, { numRuns, seed }) };
}

/** The property does not hold: the code threw what it must not, or returned what it must not. */
export class Crash extends Error {}

/**
 * Runs `fn`. Returning, or throwing an error `allowed` accepts (the documented failure), is fine;
 * any other throw is a crash. Returns what `fn` returned, or undefined when it threw.
 */
export function expectOnly<T>(what: string, fn: () => T, allowed: (error: unknown) => boolean): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (allowed(error)) return undefined;
    throw new Crash(`${what} threw ${describe(error)}`, { cause: error });
  }
}

/** The async form of `expectOnly`. */
export async function expectOnlyAsync<T>(what: string, fn: () => Promise<T>, allowed: (error: unknown) => boolean): Promise<T | undefined> {
  try {
    return await fn();
  } catch (error) {
    if (allowed(error)) return undefined;
    throw new Crash(`${what} rejected with ${describe(error)}`, { cause: error });
  }
}

export function ensure(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Crash(message);
}

export function describe(error: unknown): string {
  if (error instanceof Error) return `${error.constructor.name}${'code' in error ? ` (code ${String(error.code)})` : ''}: ${error.message.slice(0, 200)}`;
  return `a non-Error ${typeof error}: ${String(error).slice(0, 200)}`;
}

export interface Failure {
  /** The input's index in the run, and its own seed. */
  index: number;
  inputSeed: number;
  kind: 'crash' | 'hang';
  message: string;
  /** The input, hex, at most 512 bytes of it. */
  input: string;
  stack?: string;
}

export interface RunStats {
  target: string;
  inputs: number;
  crashes: number;
  hangs: number;
  failures: Failure[];
  slowestMs: number;
  slowestIndex: number;
  propertyRuns: number;
  propertyFailures: string[];
  rssBefore: number;
  rssAfter: number;
  rssPeak: number;
  ms: number;
}

export interface RunOptions {
  inputs: number;
  seed: number;
  /** fast-check runs per property. */
  propertyRuns: number;
  /** Told the index of each input before it runs (a watchdog reads it). */
  onInput?: (index: number) => void;
  /** Only this input (replaying a report). */
  only?: number;
}

const KEPT_FAILURES = 20;

// A collection before each RSS reading, so that before and after compare live memory, not garbage.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Fuzzes one target in this process. */
export async function runTarget(target: FuzzTarget, options: RunOptions): Promise<RunStats> {
  gc();
  const stats: RunStats = {
    target: target.name, inputs: 0, crashes: 0, hangs: 0, failures: [], slowestMs: 0, slowestIndex: -1,
    propertyRuns: 0, propertyFailures: [], rssBefore: process.memoryUsage.rss(), rssAfter: 0, rssPeak: 0, ms: 0,
  };
  stats.rssPeak = stats.rssBefore;
  const started = performance.now();
  const first = options.only ?? 0;
  const end = options.only === undefined ? options.inputs : options.only + 1;
  for (let index = first; index < end; index++) {
    options.onInput?.(index);
    const seed = inputSeed(options.seed, index);
    const first = await runOne(target, seed);
    if (first.error !== undefined) {
      stats.crashes++;
      record(stats, { index, inputSeed: seed, kind: 'crash', message: describe(first.error), input: hex(first.input), stack: stackOf(first.error) });
    }
    // A slow input runs again: a collection or another process may have taken the time, not the input.
    const ms = first.ms > RECHECK_MS ? Math.min(first.ms, (await runOne(target, seed)).ms) : first.ms;
    if (ms > stats.slowestMs) {
      stats.slowestMs = ms;
      stats.slowestIndex = index;
    }
    if (ms > HANG_MS) {
      stats.hangs++;
      record(stats, { index, inputSeed: seed, kind: 'hang', message: `took ${ms.toFixed(0)} ms`, input: hex(first.input) });
    }
    stats.inputs++;
    if ((index & 1023) === 0) stats.rssPeak = Math.max(stats.rssPeak, process.memoryUsage.rss());
  }
  if (options.only === undefined && options.propertyRuns > 0) {
    for (const prop of target.properties) {
      try {
        await prop.run(options.propertyRuns, options.seed);
      } catch (error) {
        stats.propertyFailures.push(`${prop.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
      stats.propertyRuns += options.propertyRuns;
    }
  }
  stats.rssPeak = Math.max(stats.rssPeak, process.memoryUsage.rss());
  gc();
  stats.rssAfter = process.memoryUsage.rss();
  stats.rssPeak = Math.max(stats.rssPeak, stats.rssAfter);
  stats.ms = performance.now() - started;
  return stats;
}

/** Makes input `seed` and runs it: how long the check took, and what it threw. */
async function runOne(target: FuzzTarget, seed: number): Promise<{ input: Buffer; ms: number; error?: unknown }> {
  const rng = new Rng(seed);
  const input = makeInput(target, rng);
  const t0 = performance.now();
  try {
    const pending = target.check(input, rng);
    if (pending !== undefined) await pending;
    return { input, ms: performance.now() - t0 };
  } catch (error) {
    return { input, ms: performance.now() - t0, error };
  }
}

function record(stats: RunStats, failure: Failure): void {
  if (stats.failures.length < KEPT_FAILURES) stats.failures.push(failure);
}

/** An input as a report shows it: hex, the first 512 bytes. */
export function hex(input: Buffer): string {
  return input.subarray(0, 512).toString('hex') + (input.length > 512 ? `… (${input.length} bytes)` : '');
}

function stackOf(error: unknown): string | undefined {
  const cause = error instanceof Crash && error.cause instanceof Error ? error.cause : error;
  return cause instanceof Error ? cause.stack?.split('\n').slice(0, 8).join('\n') : undefined;
}
