// The consumer process of the demo: finds the providers through the registry (it is given no
// address), makes typed calls, and keeps calling while the demo stops one of the providers.
import { setTimeout as sleep } from 'node:timers/promises';
import { Code, RpcError, codeName, createClient, type Interceptor } from '../../src/index.js';
import { CalculatorService } from '../calculator.js';

const registry = process.argv[2];
if (registry === undefined) throw new Error('usage: consumer.ts <registry url>');
const say = (line: string) => console.log(`[consumer ${process.pid}] ${line}`);

/** Messages from the demo: which provider it is stopping, and when that provider has exited. */
type DemoMessage = { event: 'stopping' | 'stopped'; name: string };

// Counts calls per provider, by the label each provider puts on its responses.
const everyProvider = new Set<string>();
let tally = new Map<string, number>();
const countServedBy: Interceptor = (next) => async (call) => {
  try {
    return await next(call);
  } finally {
    const by = call.responseMetadata.get('x-served-by');
    if (typeof by === 'string') {
      everyProvider.add(by);
      tally.set(by, (tally.get(by) ?? 0) + 1);
    }
  }
};
/** How the calls since the last tally were spread, e.g. `A 334, B 333, C 333`; then counts afresh. */
function takeTally(): { total: number; spread: string } {
  const names = [...everyProvider].sort();
  const total = names.reduce((sum, name) => sum + (tally.get(name) ?? 0), 0);
  const spread = names.map((name) => `${name} ${String(tally.get(name) ?? 0).padStart(3)}`).join(', ');
  tally = new Map();
  return { total, spread };
}

const client = createClient({ registry, interceptors: [countServedBy] });
// Round-robin makes the spread easy to read; the default, weighted random, evens out over more calls.
const calc = client.proxy(CalculatorService, { loadBalance: 'roundrobin' });

say(`looking up ${CalculatorService.id} in ${registry}; no address given`);
say(`calc.add(1, 2) = ${await calc.add(1, 2)}`);
say(`calc.divide(10, 4) = ${await calc.divide(10, 4)}`);

try {
  await calc.divide(1, 0);
} catch (error) {
  const e = error as RpcError;
  say(`calc.divide(1, 0) failed as expected: ${codeName(e.code)} "${e.message}" details=${JSON.stringify(e.details)}`);
}

const started = Date.now();
try {
  await calc.slowSquare.with({ timeoutMs: 200 })(7, 1000);
} catch (error) {
  const e = error as RpcError;
  if (e.code !== Code.DEADLINE_EXCEEDED) throw error;
  say(`calc.slowSquare(7) with a 200 ms deadline: ${codeName(e.code)} after ${Date.now() - started} ms`);
}

say(`calc.slowSquare(7) with time to spare = ${await calc.slowSquare(7, 50)}`);
takeTally();
const sums = await Promise.all(Array.from({ length: 1000 }, (_, i) => calc.add(i, i)));
say(`1000 concurrent calls, all correct: ${sums.every((sum, i) => sum === 2 * i)}; served by ${takeTally().spread}`);

// Now call without pause, in waves of 10 concurrent calls, while the demo stops one provider.
let failed = 0;
let wrong = 0;
async function wave(): Promise<void> {
  await Promise.all(Array.from({ length: 10 }, async (_, i) => {
    try {
      if ((await calc.add(i, 1)) !== i + 1) wrong++;
    } catch (error) {
      failed++;
      say(`call failed: ${(error as Error).message}`);
    }
  }));
  await sleep(2);
}
async function callUntil(done: () => boolean): Promise<void> {
  while (!done()) await wave();
}
async function callFor(ms: number): Promise<void> {
  const until = Date.now() + ms;
  await callUntil(() => Date.now() >= until);
}

const events: DemoMessage[] = [];
process.on('message', (message: DemoMessage) => events.push(message));
process.once('disconnect', () => {
  say('the demo went away; exiting');
  process.exit(1);
});
const seen = (event: DemoMessage['event']) => events.find((message) => message.event === event);

say('calling without pause; asking the demo to stop a provider ...');
await callFor(500);
// Three slow calls are in flight when the SIGTERM arrives, one on each provider (round-robin):
// B lets its own finish before it exits.
const slow = Promise.allSettled([1, 2, 3].map((x) => calc.slowSquare(x, 300)));
process.send?.({ event: 'stop-one' });
await callUntil(() => seen('stopping') !== undefined);
const before = takeTally();
await callUntil(() => seen('stopped') !== undefined);
const during = takeTally();
const name = seen('stopped')!.name;
await callFor(500);
const after = takeTally();
const slowFailed = (await slow).filter((result) => result.status === 'rejected').length;
failed += slowFailed;

const row = (label: string, { total, spread }: { total: number; spread: string }) => say(`  ${label.padEnd(32)} ${String(total).padStart(4)} calls: ${spread}`);
row('with all three providers', before);
row(`while ${name} shut down gracefully`, during);
row(`after ${name} exited`, after);
say(`slow calls in flight at the SIGTERM: ${3 - slowFailed} of 3 finished`);
say(failed === 0 && wrong === 0 ? 'no call failed, no answer was wrong' : `${failed} calls failed, ${wrong} answers were wrong`);

process.removeAllListeners('message');
process.removeAllListeners('disconnect');
await client.close();
process.exitCode = failed === 0 && wrong === 0 ? 0 : 1;
