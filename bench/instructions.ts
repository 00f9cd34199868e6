/**
 * Instructions that node executes, counted by valgrind's callgrind: far steadier than time on a
 * shared machine (not perfectly: how many calls one socket read carries depends on timing, and so
 * does the work per call). Node runs `--single-threaded`, so no background compiler or collector
 * threads add a varying share of the work, with fixed hash and random seeds (so that hash tables
 * and object identity hashes lay out alike in every run) and a fixed garbage collection schedule
 * (heap growth otherwise follows the wall clock, which valgrind and the machine's load stretch).
 * Measured on the rules benchmark: two runs of the same 25,000 calls differed by up to 1.6 % of
 * their instructions with neither, by under 0.001 % with both. The old generation starts at 1 GiB,
 * so that no full collection runs in either of the two runs compared: whether one falls between
 * them moved the HTTP benchmark's figure by up to 30,000 instructions a call, more than the
 * difference being measured. What a call allocates is still counted, in the scavenges it causes.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Instructions that `node --single-threaded <fixed seeds and GC schedule> script ...args` executes. Needs valgrind. */
export async function instructions(script: string, args: readonly string[]): Promise<number> {
  const { stderr } = await run('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', '--smc-check=all-non-file', process.execPath, '--single-threaded', '--hash-seed=1', '--random-seed=1', '--predictable-gc-schedule', '--initial-old-space-size=1024', script, ...args], { maxBuffer: 64 * 1024 * 1024 });
  const collected = /Collected : (\d+)/.exec(stderr);
  if (collected === null) throw new Error(`no instruction count from valgrind for ${args.join(' ')}:\n${stderr.slice(-2000)}`);
  return Number(collected[1]);
}

/** The cost of one call: instructions of `to` calls less those of `from`, per call, without start-up and most of the warm-up. */
export async function perCall(script: string, args: (calls: number) => string[], from: number, to: number): Promise<number> {
  const [few, many] = await Promise.all([instructions(script, args(from)), instructions(script, args(to))]);
  return (many - few) / (to - from);
}
