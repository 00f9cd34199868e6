/**
 * `npm run fuzz [-- --inputs 1000000 --seed 1 --live-seconds 30]`: first every in-process target
 * of scripts/fuzz/ (TCP frames, MessagePack, JSON, Protobuf, HTTP requests, gRPC messages and
 * headers), each in a worker thread for `--inputs` seeded inputs and its fast-check properties for
 * `--property-runs` runs each; then the live attack on a server of this process (scripts/fuzz/live.ts)
 * for `--live-seconds` (0 to skip). Prints a table of inputs, crashes, hangs, slowest input and RSS
 * per target, and exits 1 on any crash, hang, failed property, memory growth past
 * `--max-rss-growth-mb`, or a failed live attack.
 *
 * A reported input is made again with `--target <name> --seed <seed> --only <index>`, which runs
 * it in this process and prints the error in full.
 */
import { parseArgs } from 'node:util';
import { liveAttack } from './fuzz/live.js';
import { runTarget, type RunStats } from './fuzz/runner.js';
import { targets } from './fuzz/targets.js';
import { runInWorker } from './fuzz/watch.js';

const { values } = parseArgs({
  options: {
    inputs: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '1' },
    'property-runs': { type: 'string', default: '10000' },
    'live-seconds': { type: 'string', default: '30' },
    target: { type: 'string', multiple: true },
    only: { type: 'string' },
    'max-rss-growth-mb': { type: 'string', default: '512' },
    // The former option of the live attack alone.
    seconds: { type: 'string' },
  },
});
const inputs = Number(values.inputs.replaceAll('_', ''));
const seed = Number(values.seed);
const propertyRuns = Number(values['property-runs'].replaceAll('_', ''));
const liveSeconds = Number(values.seconds ?? values['live-seconds']);
const maxGrowth = Number(values['max-rss-growth-mb']) * 2 ** 20;
const chosen = values.target ?? [...targets.keys()];
for (const name of chosen) if (!targets.has(name)) throw new Error(`no fuzz target ${name}; there are ${[...targets.keys()].join(', ')}`);

const mib = (bytes: number) => (Number.isNaN(bytes) ? '-' : (bytes / 2 ** 20).toFixed(0));

async function replay(name: string, index: number): Promise<void> {
  const stats = await runTarget(targets.get(name)!, { inputs: index + 1, seed, propertyRuns: 0, only: index });
  for (const failure of stats.failures) console.log(`${failure.kind}: ${failure.message}\ninput (hex): ${failure.input}\n${failure.stack ?? ''}`);
  console.log(stats.failures.length === 0 ? `input ${index} of ${name} (seed ${seed}) passes` : '');
  process.exitCode = stats.failures.length === 0 ? 0 : 1;
}

function table(rows: RunStats[]): string {
  const head = ['target', 'inputs', 'crashes', 'hangs', 'slowest ms', 'slowest input', 'property runs', 'failed props', 'RSS before MiB', 'RSS after MiB', 'RSS peak MiB', 'time s'];
  const body = rows.map((s) => [s.target, s.inputs.toLocaleString('en'), s.crashes, s.hangs, s.slowestMs.toFixed(1), `#${s.slowestIndex}`, s.propertyRuns.toLocaleString('en'),
    s.propertyFailures.length, mib(s.rssBefore), mib(s.rssAfter), mib(s.rssPeak), (s.ms / 1000).toFixed(1)].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? ':' : '-') + '-'.repeat(w) + (i === 0 ? '-' : ':')).join('|')}|`, ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  if (values.only !== undefined) return replay(chosen[0]!, Number(values.only));
  const started = Date.now();
  const rssStart = process.memoryUsage.rss();
  console.log(`fuzzing ${chosen.join(', ')}: ${inputs.toLocaleString('en')} inputs each, seed ${seed}, ${propertyRuns.toLocaleString('en')} runs per property`);
  const rows: RunStats[] = [];
  for (const name of chosen) {
    const stats = await runInWorker({ target: name, inputs, seed, propertyRuns }, { stuckMs: 10_000, propertiesMs: 600_000, heapMb: 1024 });
    console.log(`  ${name}: ${stats.inputs.toLocaleString('en')} inputs, ${stats.crashes} crashes, ${stats.hangs} hangs in ${(stats.ms / 1000).toFixed(1)} s`);
    rows.push(stats);
  }
  let ok = true;
  for (const stats of rows) {
    for (const failure of stats.failures) {
      ok = false;
      console.error(`\n${stats.target} ${failure.kind} at input ${failure.index} (seed ${seed}, input seed ${failure.inputSeed}): ${failure.message}\n  input (hex): ${failure.input}\n  replay: npm run fuzz -- --target ${stats.target} --seed ${seed} --only ${failure.index}${failure.stack === undefined ? '' : `\n${failure.stack}`}`);
    }
    for (const failure of stats.propertyFailures) {
      ok = false;
      console.error(`\n${stats.target} property failed: ${failure}`);
    }
    if (stats.crashes + stats.hangs > 0) ok = false;
    if (stats.rssPeak - stats.rssBefore > maxGrowth) {
      ok = false;
      console.error(`\n${stats.target}: RSS grew by ${mib(stats.rssPeak - stats.rssBefore)} MiB, more than ${mib(maxGrowth)}`);
    }
  }
  let live = 'live attack skipped';
  if (liveSeconds > 0) {
    const result = await liveAttack(liveSeconds, seed).catch((error: unknown) => ({ attacks: 0, honest: 0, failures: [error], escaped: [], alive: NaN }));
    live = `live attack, ${liveSeconds} s: ${result.attacks} attacks, ${result.honest} honest calls answered, ${result.failures.length} failed, ${result.escaped.length} escaped; server answered ${result.alive}`;
    if (result.failures.length > 0 || result.escaped.length > 0 || result.alive !== 5) {
      ok = false;
      console.error(result.failures.slice(0, 5), result.escaped.slice(0, 5));
    }
  }
  console.log(`\n${table(rows)}\n\n${live}`);
  console.log(`total: ${rows.reduce((sum, s) => sum + s.inputs, 0).toLocaleString('en')} inputs, ${rows.reduce((sum, s) => sum + s.crashes, 0)} crashes, ${rows.reduce((sum, s) => sum + s.hangs, 0)} hangs; main RSS ${mib(rssStart)} MiB before, ${mib(process.memoryUsage.rss())} MiB after; ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (!ok) process.exit(1);
}

await main();
