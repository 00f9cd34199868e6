import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Code, RpcError, createClient } from '../../src/index.js';
import { CalculatorService, onCleanup } from '../support/calculator.js';

const SERVER = fileURLToPath(new URL('./flood-server.ts', import.meta.url));
const HANDLER_MS = 300;
const MAX = 8;
const CALLERS = 4; // clients, each its own connection
const WAVES = 20;
const PER_WAVE = 250; // 5000 calls over ~1 s
const WAVE_GAP_MS = 50;
const MB = 1024 * 1024;

/** Sends `message` to the child and resolves with its next reply of the same type. */
async function ask<T>(child: ChildProcess, type: string): Promise<T> {
  const reply = new Promise<T>((resolve, reject) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== type) return;
      child.off('exit', onExit);
      child.off('message', onMessage);
      resolve(message as T);
    };
    const onExit = () => reject(new Error(`flood server exited while asked for ${type}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
  child.send({ type });
  return reply;
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

test('a flooded slow service rejects the excess at once, keeps admitted latency and bounded memory', async (t) => {
  const child = fork(SERVER, [String(MAX)], { execArgv: ['--import', 'tsx', '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  onCleanup(t, async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.send({ type: 'exit' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await once(child, 'exit');
    clearTimeout(timer);
  });
  const [ready] = (await once(child, 'message')) as [{ type: string; address: string }];
  assert.equal(ready.type, 'ready');
  const proxies = Array.from({ length: CALLERS }, () => {
    const client = createClient({ url: ready.address });
    onCleanup(t, () => client.close({ timeoutMs: 2000 }));
    return client.proxy(CalculatorService);
  });
  for (const proxy of proxies) for (let i = 0; i < 50; i++) await proxy.add(i, 1); // connect and warm up
  const { heapUsed: before } = await ask<{ heapUsed: number }>(child, 'heap');

  const admitted: number[] = [];
  const rejected: number[] = [];
  const other: unknown[] = [];
  const calls: Array<Promise<void>> = [];
  for (let wave = 0; wave < WAVES; wave++) {
    for (let i = 0; i < PER_WAVE; i++) {
      const started = performance.now();
      const call = proxies[i % CALLERS]!.slow(HANDLER_MS).then(
        () => void admitted.push(performance.now() - started),
        (error: unknown) => {
          if (error instanceof RpcError && error.code === Code.RESOURCE_EXHAUSTED) rejected.push(performance.now() - started);
          else other.push(error);
        },
      );
      calls.push(call);
    }
    await sleep(WAVE_GAP_MS);
  }
  await Promise.all(calls);
  const stats = await ask<{ limit: { admitted: number; rejected: number }; slowRuns: number; peakExecuting: number; peakHeap: number }>(child, 'stats');
  const { heapUsed: after } = await ask<{ heapUsed: number }>(child, 'heap');

  assert.deepEqual(other, [], 'every call either ran or was refused with RESOURCE_EXHAUSTED');
  assert.equal(admitted.length + rejected.length, WAVES * PER_WAVE);
  assert.equal(stats.peakExecuting, MAX, 'never more than the limit executing at once, and the limit was used');
  const span = WAVES * WAVE_GAP_MS;
  assert.ok(admitted.length >= MAX && admitted.length <= MAX * (Math.ceil(span / HANDLER_MS) + 2), `${admitted.length} admitted`);
  await sleep(HANDLER_MS + 200);
  const { slowRuns } = await ask<{ slowRuns: number }>(child, 'stats');
  assert.equal(slowRuns, admitted.length, 'no refused call ran later: nothing was queued');

  admitted.sort((a, b) => a - b);
  rejected.sort((a, b) => a - b);
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  t.diagnostic(`admitted ${admitted.length}: latency min ${ms(admitted[0]!)} p50 ${ms(percentile(admitted, 0.5))} max ${ms(admitted.at(-1)!)}`);
  t.diagnostic(`rejected ${rejected.length}: latency p50 ${ms(percentile(rejected, 0.5))} p90 ${ms(percentile(rejected, 0.9))} p99 ${ms(percentile(rejected, 0.99))} max ${ms(rejected.at(-1)!)}`);
  t.diagnostic(`server heap after gc: ${(before / MB).toFixed(1)} MB before, ${(after / MB).toFixed(1)} MB after; peak sampled ${(stats.peakHeap / MB).toFixed(1)} MB`);

  // Refusals come back far sooner than the handler takes; admitted calls take about the handler's time.
  assert.ok(percentile(rejected, 0.5) < HANDLER_MS / 4, `median rejection ${ms(percentile(rejected, 0.5))}`);
  assert.ok(percentile(rejected, 0.9) < HANDLER_MS / 2, `p90 rejection ${ms(percentile(rejected, 0.9))}`);
  assert.ok(admitted[0]! >= HANDLER_MS - 5, 'admitted calls ran the handler');
  assert.ok(admitted.at(-1)! < HANDLER_MS * 2, `slowest admitted call ${ms(admitted.at(-1)!)}: none waited behind another`);
  // Bounded memory: nothing of the flood stays behind, and the peak is far from one buffer per call.
  assert.ok(after - before < 16 * MB, `heap grew by ${((after - before) / MB).toFixed(1)} MB`);
  assert.ok(stats.peakHeap - before < 128 * MB, `heap peaked ${((stats.peakHeap - before) / MB).toFixed(1)} MB above its start`);
});
