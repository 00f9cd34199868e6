/**
 * `npx tsx bench/balancer-instructions.ts`: what each load balancer costs per call, counted in
 * instructions (client and three providers in one process, 128 in flight, under
 * `valgrind --tool=callgrind`, node `--single-threaded`, as `adaptive-instructions.ts` counts): the
 * difference between runs of `--from` and `--to` calls, divided by the difference of calls.
 *
 * Options: --only a,b (these balancers; random, the default, is always counted), --from N (default
 * 12000), --to N (default 42000).
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundle } from './bundle.js';
import { perCall as countPerCall } from './instructions.js';

const all = ['random', 'roundrobin', 'leastactive', 'p2c', 'shortestresponse'];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, from: { type: 'string', default: '12000' }, to: { type: 'string', default: '42000' } } });
  const [from, to] = [Number(values.from), Number(values.to)];
  if (!(from >= 1000) || !(to > from)) throw new Error('--from takes a number of at least 1000 and --to a larger one');
  const chosen = values.only === undefined ? all : ['random', ...values.only.split(',').map((name) => name.trim()).filter((name) => name !== 'random')];
  const script = await bundle(fileURLToPath(new URL('./balancer-calls.ts', import.meta.url)));
  const perCall = new Map<string, number>();
  for (const name of chosen) {
    process.stderr.write(`${name} ... `);
    perCall.set(name, await countPerCall(script, (calls) => [name, String(calls)], from, to));
    process.stderr.write(`${Math.round(perCall.get(name)!)} instructions per call\n`);
  }
  const base = perCall.get('random')!;
  console.log(`\nadd(a, 7) over three providers, 128 in flight, client and servers in one process; instructions per call from ${from} to ${to} calls; node ${process.version} --single-threaded\n`);
  console.log(['loadBalance', 'instructions/call', 'vs random'].join('\t'));
  for (const name of chosen) console.log([name, Math.round(perCall.get(name)!), `${((perCall.get(name)! / base) * 100).toFixed(1)}%`].join('\t'));
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
