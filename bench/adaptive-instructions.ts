/**
 * `npx tsx bench/adaptive-instructions.ts`: what retry budgets, adaptive limits and outlier
 * ejection cost per call, counted in instructions (client and server together, one process, under
 * `valgrind --tool=callgrind`, node `--single-threaded`), the way `governance-instructions.ts`
 * counts the interceptors: the difference between runs of `--from` and `--to` calls, divided by the
 * difference of calls. Counts vary by up to about ±1.5% between repeat runs of one setup.
 *
 * Options: --only a,b (these setups and the baseline), --from N (default 12000), --to N (default 42000).
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundle } from './bundle.js';
import { setups } from './adaptive-setups.js';
import { perCall as countPerCall } from './instructions.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, from: { type: 'string', default: '12000' }, to: { type: 'string', default: '42000' } } });
  const [from, to] = [Number(values.from), Number(values.to)];
  if (!(from >= 1000) || !(to > from)) throw new Error('--from takes a number of at least 1000 and --to a larger one');
  const all = Object.keys(setups).filter((name) => name !== 'none-again');
  const chosen = values.only === undefined ? all : ['none', ...values.only.split(',').map((name) => name.trim()).filter((name) => name !== 'none')];
  for (const name of chosen) if (!(name in setups)) throw new Error(`unknown setup ${JSON.stringify(name)}; setups: ${all.join(', ')}`);
  const script = await bundle(fileURLToPath(new URL('./adaptive-calls.ts', import.meta.url)));
  const perCall = new Map<string, number>();
  for (const name of chosen) {
    process.stderr.write(`${name} ... `);
    perCall.set(name, await countPerCall(script, (calls) => [name, String(calls)], from, to));
    process.stderr.write(`${Math.round(perCall.get(name)!)} instructions per call\n`);
  }
  const base = perCall.get('none')!;
  console.log(`\nadd(a, 7), 128 in flight, client and server in one process; instructions per call from ${from} to ${to} calls; node ${process.version} --single-threaded\n`);
  console.log(['setup', 'instructions/call', 'vs none', 'what'].join('\t'));
  for (const name of chosen) {
    const count = perCall.get(name)!;
    console.log([name, Math.round(count), `${((count / base) * 100).toFixed(1)}%`, setups[name]!.describe].join('\t'));
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
