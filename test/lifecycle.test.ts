import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { createClient } from '../src/index.js';
import { ProbeService } from './support/cluster.js';
import { startFixtureProcess } from './support/fixture-process.js';

const fixture = fileURLToPath(new URL('./support/fixtures/lifecycle-provider.ts', import.meta.url));

function startProvider(dir: string, label: string): Promise<ChildProcess> {
  return startFixtureProcess(fixture, [dir, label], `provider ${label}`);
}

test('a rolling restart of three providers under load, one by one with SIGTERM, fails no call', { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-rolling-'));
  const children = new Set<ChildProcess>();
  t.after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  for (const label of ['a1', 'b1', 'c1']) children.add(await startProvider(dir, label));

  const client = createClient({ registry: `embedded://${dir}`, loadBalance: 'roundrobin', backoff: { initialMs: 50, maxMs: 500 } });
  t.after(() => client.close());
  // `write` is not idempotent: only a shutdown that never drops a call it accepted keeps this at zero.
  const probe = client.proxy(ProbeService, { timeoutMs: 3000 });
  const byLabel = new Map<string, number>();
  const failures: string[] = [];
  let calls = 0;
  let running = true;
  const loops = Array.from({ length: 16 }, async () => {
    while (running) {
      calls++;
      try {
        const label = await probe.write('k=v');
        byLabel.set(label, (byLabel.get(label) ?? 0) + 1);
      } catch (error) {
        failures.push(String(error));
      }
    }
  });

  await new Promise((resolve) => setTimeout(resolve, 500));
  for (const [old, next] of [['a1', 'a2'], ['b1', 'b2'], ['c1', 'c2']] as const) {
    const child = [...children].find((c) => c.spawnargs.includes(old))!;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    children.delete(child);
    assert.equal(code, 0, `${old} exited cleanly after draining`);
    children.add(await startProvider(dir, next));
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
  running = false;
  await Promise.all(loops);

  const summary = `rolling restart: ${calls} calls, ${failures.length} failed; by provider: ${JSON.stringify(Object.fromEntries(byLabel))}`;
  t.diagnostic(summary);
  console.log(summary);
  assert.deepEqual(failures.slice(0, 5), []);
  for (const label of ['a1', 'b1', 'c1', 'a2', 'b2', 'c2']) assert.ok((byLabel.get(label) ?? 0) > 0, `${label} served calls`);
});
