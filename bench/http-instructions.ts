/**
 * `npm run bench:http:instructions`: what Switchyard's HTTP client and server cost per call against
 * a plain undici + `node:http` program, counted in instructions (bench/instructions.ts), so that a
 * small change to the HTTP path can be judged: the timed `switchyard-http` vs `undici-http` rows of
 * `npm run bench` move by more than such a change from one round to the next. The setups are those of
 * `http-calls.ts`; `server` less `plain` is the server's extra cost, `client` less `plain` the client's.
 * Steady only when nothing else runs: with other processes busy, single setups have counted 20 % to
 * 70 % more instructions per call, the plain program's too (bench/README.md).
 *
 * Options: --from N (default 4000), --to N (default 14000), --ballast N (default 0), --only a,b.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundle } from './bundle.js';
import { perCall } from './instructions.js';

const SETUPS = ['plain', 'switchyard', 'server', 'client'];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, from: { type: 'string', default: '4000' }, to: { type: 'string', default: '14000' }, ballast: { type: 'string', default: '0' } } });
  const [from, to] = [Number(values.from), Number(values.to)];
  if (!(from >= 1000) || !(to > from)) throw new Error('--from takes a number of at least 1000 and --to a larger one');
  const chosen = values.only === undefined ? SETUPS : ['plain', ...values.only.split(',').map((name) => name.trim()).filter((name) => name !== 'plain')];
  for (const name of chosen) if (!SETUPS.includes(name)) throw new Error(`unknown setup ${JSON.stringify(name)}; setups: ${SETUPS.join(', ')}`);
  const script = await bundle(fileURLToPath(new URL('./http-calls.ts', import.meta.url)));
  const counts = new Map<string, number>();
  for (const name of chosen) {
    process.stderr.write(`${name} ... `);
    counts.set(name, await perCall(script, (calls) => [name, String(calls), values.ballast], from, to));
    process.stderr.write(`${Math.round(counts.get(name)!)} instructions per call\n`);
  }
  const base = counts.get('plain')!;
  console.log(`\nadd(seq, 7) over HTTP/1.1 + JSON, 128 in flight, client and server in one process; instructions per call from ${from} to ${to} calls; ${values.ballast} ballast objects; node ${process.version} --single-threaded\n`);
  console.log(['setup', 'instructions/call', 'vs plain'].join('\t'));
  for (const [name, count] of counts) console.log([name, Math.round(count), `${((count / base) * 100).toFixed(1)}%`].join('\t'));
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
