/**
 * The short form of `npm run fuzz` for `npm test`: a target's fast-check properties with a few
 * runs each, and its mutation fuzzer over a few thousand seeded inputs. Timing is not asserted (a
 * slow input is the full run's business); a crash fails the test with the input and how to replay it.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { runTarget, type FuzzTarget } from '../../scripts/fuzz/runner.js';

const SEED = Number(process.env.FUZZ_SEED ?? 1);

export function shortRun(target: FuzzTarget, counts: { inputs: number; propertyRuns: number }): void {
  for (const prop of target.properties) {
    test(`${target.name}: ${prop.name}`, async () => {
      await prop.run(counts.propertyRuns, SEED);
    });
  }
  test(`${target.name}: ${counts.inputs} mutated and random inputs, no crash`, async () => {
    const stats = await runTarget(target, { inputs: counts.inputs, seed: SEED, propertyRuns: 0 });
    const crashes = stats.failures.filter((failure) => failure.kind === 'crash')
      .map((failure) => ({ ...failure, replay: `npm run fuzz -- --target ${target.name} --seed ${SEED} --only ${failure.index}` }));
    assert.deepEqual(crashes, []);
    assert.equal(stats.inputs, counts.inputs);
  });
}
