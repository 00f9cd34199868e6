/**
 * `npx tsx bench/rules-instructions.ts` (suggested script: `npm run bench:rules:instructions`): what
 * obeying traffic rules costs the small call, counted in instructions, which a busy machine changes
 * far less than it changes time (`rules-calls.ts` times the same setups in two processes).
 *
 * For each setup (`none`, `cached`, `all`: see `rules-inproc-calls.ts`), `rules-inproc-calls.ts`
 * makes N calls of `add(a, 7)`, 128 in flight, over tcp://, client and server in one process on an
 * embedded registry in a temp folder, under `valgrind --tool=callgrind`, node `--single-threaded`
 * with V8's seeds and collection schedule fixed (see `instructions` below). Two runs per setup, of `--from` and `--to` calls;
 * the difference of their instruction totals over the difference of their calls is the cost of one
 * call, client and server together, without start-up (the registry, the rules, their check). Rounds
 * go through the setups in turn; the table gives each setup's median and its ratio to `none`'s.
 * Target: each setup within 3 % of `none`.
 *
 * Options: --only a,b (these setups and the baseline), --from N (default 5000), --to N (default
 * 25000), --rounds N (default 3), --ballast N (objects kept alive, default 0). Needs valgrind
 * (Debian package `valgrind`); the defaults take about ten minutes on a busy 2-core machine.
 * Figures: docs/rules.md, "Cost".
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundle } from './bundle.js';
import { perCall as countPerCall } from './instructions.js';

const SETUPS: Record<string, string> = {
  none: 'no rule (baseline)',
  cached: 'configurator + condition router on the method: routed once per method',
  all: 'cached + a tag router: each call\'s tag read (these carry none)',
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, from: { type: 'string', default: '5000' }, to: { type: 'string', default: '25000' }, ballast: { type: 'string', default: '0' }, rounds: { type: 'string', default: '3' } } });
  const [from, to, rounds] = [Number(values.from), Number(values.to), Number(values.rounds)];
  if (!(from >= 1000) || !(to > from)) throw new Error('--from takes a number of at least 1000 and --to a larger one');
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a whole number of at least 1');
  const all = Object.keys(SETUPS);
  const chosen = values.only === undefined ? all : ['none', ...values.only.split(',').map((name) => name.trim()).filter((name) => name !== 'none')];
  for (const name of chosen) if (!(name in SETUPS)) throw new Error(`unknown setup ${JSON.stringify(name)}; setups: ${all.join(', ')}`);
  const script = await bundle(fileURLToPath(new URL('./rules-inproc-calls.ts', import.meta.url)));
  const counts = new Map<string, number[]>(chosen.map((name) => [name, []]));
  // Rounds go through every setup in turn, so that a slow drift of the machine touches them alike.
  for (let round = 1; round <= rounds; round++) {
    for (const name of chosen) {
      process.stderr.write(`round ${round}: ${name} ... `);
      const count = await countPerCall(script, (calls) => [name, String(calls), values.ballast], from, to);
      counts.get(name)!.push(count);
      process.stderr.write(`${Math.round(count)} instructions per call\n`);
    }
  }
  const perCall = new Map([...counts].map(([name, list]) => [name, median(list)]));
  const base = perCall.get('none')!;
  console.log(`\nadd(seq, 7) over tcp, 128 in flight, client and server in one process on an embedded registry; instructions per call from ${from} to ${to} calls, median of ${rounds} round(s); ${values.ballast} ballast objects; node ${process.version} --single-threaded --hash-seed=1 --random-seed=1 --predictable-gc-schedule\n`);
  console.log(['setup', 'instructions/call', 'vs none', 'rounds', 'what'].join('\t'));
  for (const name of chosen) {
    const count = perCall.get(name)!;
    console.log([name, Math.round(count), `${((count / base) * 100).toFixed(1)}%`, counts.get(name)!.map(Math.round).join(' '), SETUPS[name]].join('\t'));
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
