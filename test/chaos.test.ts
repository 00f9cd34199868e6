import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { RpcError, codeName } from '../src/index.js';
import { onCleanup } from './support/calculator.js';
import { ProbeService, freshRegistry, startClient, waitForLabels } from './support/cluster.js';

const fixture = fileURLToPath(new URL('./support/fixtures/cluster-provider.ts', import.meta.url));

interface ChildProvider {
  label: string;
  child: ChildProcess;
  address: string;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
}

/** Starts a provider process registering in `dir`; resolves once it is registered. Killed when the test ends. */
async function startChild(t: TestContext, dir: string, label: string): Promise<ChildProvider> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir, label, '0'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  onCleanup(t, async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await Promise.race([once(lines, 'line'), exited.then(() => ['exited early'])])) as string[];
  lines.close();
  const match = /^ready (\S+)$/.exec(line ?? '');
  assert.ok(match, `provider ${label} should start, said ${JSON.stringify(line)}`);
  return { label, child, address: match[1]!, exited };
}

const LOOPS = 32;
const RUN_MS = 5000;

test('chaos: under steady load, a SIGKILLed provider, a SIGTERMed one and a newcomer cost no failed call', { timeout: 30_000 }, async (t) => {
  const { registry, dir } = freshRegistry();
  const [p1, p2] = await Promise.all(['p1', 'p2', 'p3'].map((label) => startChild(t, dir, label))) as ChildProvider[];
  const client = startClient(t, { registry });
  const probe = client.proxy(ProbeService, { cluster: 'failover', timeoutMs: 2000 });
  await waitForLabels(() => probe.read(), ['p1', 'p2', 'p3'], 10_000);

  const counts: Record<string, number> = {};
  const errors: RpcError[] = [];
  let calls = 0;
  const started = Date.now();
  const until = started + RUN_MS;
  const at = (ms: number) => sleep(Math.max(0, started + ms - Date.now()));

  // The load lasts RUN_MS, and on until the newcomer served a call: on a busy machine it may take
  // seconds to start (capped, so that a newcomer that never gets traffic fails the test).
  let newcomerStarted = false;
  const keepGoing = () => Date.now() < until || ((!newcomerStarted || (counts.p4 ?? 0) === 0) && Date.now() < until + 10_000);
  const loops = Array.from({ length: LOOPS }, async () => {
    while (keepGoing()) {
      calls++;
      try {
        const label = await probe.read(calls);
        counts[label] = (counts[label] ?? 0) + 1;
      } catch (error) {
        errors.push(RpcError.from(error));
      }
    }
  });

  const events: string[] = [];
  const chaos = (async () => {
    await at(1000);
    p1!.child.kill('SIGKILL');
    events.push(`${Date.now() - started} ms: SIGKILL p1`);
    await at(2000);
    p2!.child.kill('SIGTERM');
    events.push(`${Date.now() - started} ms: SIGTERM p2`);
    await at(2500);
    events.push(`${Date.now() - started} ms: starting p4`);
    const p4 = await startChild(t, dir, 'p4');
    events.push(`${Date.now() - started} ms: p4 ready at ${p4.address}`);
    newcomerStarted = true;
  })();

  await Promise.all([...loops, chaos]);
  const [p2Code, p2Signal] = await p2!.exited;

  const byCode: Record<string, number> = {};
  for (const error of errors) byCode[codeName(error.code)] = (byCode[codeName(error.code)] ?? 0) + 1;
  const summary = `chaos: ${calls} calls, ${errors.length} failed; by provider: ${JSON.stringify(counts)}`;
  t.diagnostic(summary);
  t.diagnostic(`timeline: ${events.join('; ')}`);
  if (errors.length > 0) t.diagnostic(`failures by code: ${JSON.stringify(byCode)}; first: ${errors.slice(0, 3).map(String).join(' | ')}`);
  console.log(summary);

  assert.deepEqual(errors.map(String).slice(0, 5), [], `${errors.length} calls failed`);
  assert.ok((counts.p4 ?? 0) > 0, 'the provider that joined got traffic');
  assert.ok((counts.p1 ?? 0) > 0 && (counts.p2 ?? 0) > 0 && (counts.p3 ?? 0) > 0, 'every original provider served before it went');
  assert.equal(p2Code, 0, `p2 closed gracefully on SIGTERM and exited 0 (signal ${p2Signal})`);
});
