/**
 * `npm run bench:governance:instructions`: what the governance interceptors cost per call, counted
 * in instructions, which depend far less than time on what else the machine is doing (not at all
 * would be too strong: how many calls one socket read carries depends on timing, and so does the
 * work per call; repeat runs of a setup differ by up to about 1.5%).
 *
 * For each setup of `governance-setups.ts`, `governance-calls.ts` makes N calls with client and
 * server in one process under `valgrind --tool=callgrind`, node started with `--single-threaded`
 * (no background compiler or collector threads, whose share of the work would vary from run to
 * run). Two runs per setup, of `--from` and `--to` calls; the difference of their instruction
 * totals divided by the difference of their calls is the cost of one call, client and server
 * together, without start-up and with most of the warm-up. The table gives each setup's count and
 * its ratio to `none`. Runs go two at a time.
 *
 * Options: --only a,b (these setups and the baseline), --from N (default 12000), --to N (default 42000),
 * --ballast N (objects kept alive, default 0: see governance-calls.ts; 5000 gives an application's heap).
 * Needs valgrind (Debian package `valgrind`); a run of all setups takes about five minutes.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundle } from './bundle.js';
import { setups } from './governance-setups.js';
import { perCall as countPerCall } from './instructions.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, from: { type: 'string', default: '12000' }, to: { type: 'string', default: '42000' }, ballast: { type: 'string', default: '0' } } });
  const [from, to] = [Number(values.from), Number(values.to)];
  if (!(from >= 1000) || !(to > from)) throw new Error('--from takes a number of at least 1000 and --to a larger one');
  // none-again would only repeat none: counts have no noise to show.
  const all = Object.keys(setups).filter((name) => name !== 'none-again');
  const chosen = values.only === undefined ? all : ['none', ...values.only.split(',').map((name) => name.trim()).filter((name) => name !== 'none')];
  for (const name of chosen) if (!(name in setups)) throw new Error(`unknown setup ${JSON.stringify(name)}; setups: ${all.join(', ')}`);
  const script = await bundle(fileURLToPath(new URL('./governance-calls.ts', import.meta.url)));
  const perCall = new Map<string, number>();
  for (const name of chosen) {
    process.stderr.write(`${name} ... `);
    const ballast = Number(values.ballast);
    perCall.set(name, await countPerCall(script, (calls) => [name, String(calls), String(ballast)], from, to));
    process.stderr.write(`${Math.round(perCall.get(name)!)} instructions per call\n`);
  }
  const base = perCall.get('none')!;
  console.log(`\nadd(seq, 7), 128 in flight, client and server in one process; instructions per call from ${from} to ${to} calls; ${values.ballast} ballast objects; node ${process.version} --single-threaded\n`);
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
