import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * What a process that has never read currentCall() does with a first read after an await. Each
 * case needs a process of its own, since tracking, once on, stays on.
 */
const run = promisify(execFile);
const FIXTURE = fileURLToPath(new URL('./fixtures/late-current-call.ts', import.meta.url));

async function outcomes(mode: 'tracked' | 'default'): Promise<string[]> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', FIXTURE, mode], { timeout: 30_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as string[];
}

test('with asyncContext: true, a first read of currentCall() after an await finds its call', async () => {
  assert.deepEqual(await outcomes('tracked'), ['a', 'b', 'c']);
});

test('by default, only the first such read fails, and says how to avoid it; later calls find theirs', async () => {
  const [first, ...rest] = await outcomes('default');
  assert.match(first!, /^9: currentCall\(\) is only available inside a handler; to read it first after an await, create the server with asyncContext: true$/);
  assert.deepEqual(rest, ['b', 'c']);
});
