import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkerPool } from '../../src/index.js';
import { onCleanup, waitUntil } from '../support/calculator.js';
import { PrimeImpl, type Prime } from './fixtures/prime-impl.js';
import { primeModule, startPrimeServer, type PrimeServer } from './fixtures/serve.js';

const BURN_MS = 300;

/** Pings one after another for `ms`, returning each ping's round-trip time and what `observe` said when it came back. */
async function pingFor<T>(server: PrimeServer, ms: number, observe: () => T): Promise<Array<{ latency: number; seen: T }>> {
  const samples: Array<{ latency: number; seen: T }> = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const started = performance.now();
    await server.ping.ping();
    samples.push({ latency: performance.now() - started, seen: observe() });
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return samples;
}

test('a fast method keeps answering promptly while CPU-bound calls saturate the worker pool', async (t) => {
  const pool = new WorkerPool(primeModule, { export: 'PrimeImpl', size: 2 });
  onCleanup(t, () => pool.close());
  const server = await startPrimeServer(t, pool.implementation<Prime>());
  await pool.ready();

  // 6 calls of 300 ms on 2 workers: about 900 ms with both busy and calls waiting
  const heavy = Array.from({ length: 6 }, () => server.prime.burn(BURN_MS));
  await waitUntil(() => pool.stats.busy === 2);
  const samples = await pingFor(server, 400, () => pool.stats);
  const found = await Promise.all(heavy);

  assert.ok(found.every((n) => n > 0), 'every CPU-bound call completed with its count');
  assert.ok(samples.length >= 10, `pinged ${samples.length} times while the pool was saturated`);
  for (const { seen } of samples) assert.equal(seen.busy, 2, 'both workers were busy for every ping');
  assert.ok(samples.some(({ seen }) => seen.queued > 0), 'calls were waiting for a worker during the pings');
  const worst = Math.max(...samples.map((s) => s.latency));
  t.diagnostic(`${samples.length} pings during saturation, slowest ${worst.toFixed(1)} ms`);
  assert.ok(worst < 150, `the slowest ping took ${worst.toFixed(1)} ms while each CPU-bound call takes ${BURN_MS} ms`);
});

test('without the pool, the same CPU-bound calls on the main thread stall the fast method', async (t) => {
  const server = await startPrimeServer(t, new PrimeImpl());
  await server.ping.ping();

  // written on the connection before the ping, so the server runs them first, on its only thread
  const heavy = Array.from({ length: 2 }, () => server.prime.burn(BURN_MS));
  const started = performance.now();
  await server.ping.ping();
  const stalled = performance.now() - started;
  await Promise.all(heavy);
  t.diagnostic(`ping behind 2 inline CPU-bound calls: ${stalled.toFixed(1)} ms`);

  assert.ok(stalled >= BURN_MS - 50, `the ping waited ${stalled.toFixed(1)} ms behind the CPU-bound calls`);
});
