import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testbedForFile } from '../support/testbed.js';
import { BrownoutWorld, blackholed, delayed, noFault, phaseRow, phaseTableHead, roundRow, roundTableHead, type ClientSetup, type PhaseFigures } from './brownout-world.js';
import { markdownTable } from './table.js';

// Three providers and consumers, each in a host of its own; one provider's link fails in turn
// (slowed by 200 ms, then blackholed; loss in the long form) while the consumers call an idempotent method at a
// steady rate with today's defences; then a provider 200 ms slower while consumers call in 16 lanes
// each, with the recommended setup for a brown-out and with the adaptive limits alone. Asserted is
// what the framework promises; the figures (error rate, p50/p99 against the healthy baseline) are
// printed. The long form is brownout.soak.ts.

const { bed, skip } = testbedForFile();

const TIMEOUT_MS = 1_000;
const base = { loadBalance: 'roundrobin', cluster: 'failover', timeoutMs: TIMEOUT_MS } as const;
const setups: ClientSetup[] = [
  { name: 'failover + timeout', client: base },
  { name: '+ breaker (defaults)', client: { ...base, circuitBreaker: {} } },
  // A window about twice the timeout: failures are judged against recent calls only.
  { name: '+ breaker (2 s window)', client: { ...base, circuitBreaker: { windowMs: 2_000 } } },
];

test('brown-outs of one provider: what failover, timeouts and the circuit breaker make of them', { skip, timeout: 180_000 }, async (t) => {
  const world = await BrownoutWorld.start(bed(), setups, { providers: 3, ratePerSecond: 100 });
  t.after(() => world.stop());
  const rows: PhaseFigures[] = [];
  const phase = async (fault: typeof noFault, ms = 3_000) => {
    const figures = await world.phase(fault, ms);
    rows.push(...figures);
    return figures;
  };
  try {
    await t.test('healthy: every call succeeds', async () => {
      for (const figures of await phase(noFault)) assert.equal(figures.failed, 0, `${figures.setup}: ${figures.failures.join(' | ')}`);
    });
    await t.test('a provider 200 ms slower, within the timeout: every call succeeds', async () => {
      for (const figures of await phase(delayed(200))) assert.equal(figures.failed, 0, `${figures.setup}: ${figures.failures.join(' | ')}`);
    });
    await t.test('a blackholed provider: calls to it time out; once its circuit opens, none fails', async () => {
      const all = await phase(blackholed, 5_000);
      for (const figures of all) {
        assert.deepEqual(Object.keys(figures.codes).filter((code) => code !== 'DEADLINE_EXCEEDED'), [],
          `${figures.setup}: a silent provider fails calls by their deadline only: ${figures.failures.join(' | ')}`);
        assert.ok(figures.calls - figures.failed > 0, `${figures.setup}: the healthy providers answered`);
        assert.equal(figures.failedWhileOpen, 0, `${figures.setup}: no call started while the circuit was open failed`);
      }
      const windowed = all.at(-1)!;
      assert.ok(windowed.circuit.some((change) => change.to === 'OPEN'), `${windowed.setup}: the breaker opened on the blackholed provider`);
    });
  } finally {
    const table = markdownTable(phaseTableHead, rows.map(phaseRow));
    t.diagnostic(`\n${table}`);
    console.log(`\nOne of three providers browned out (100 calls/s per consumer, round robin, failover, timeout ${TIMEOUT_MS} ms; latencies of successful calls):\n${table}`);
  }
});

// 16 lanes per consumer (closed loop, 50 calls/s each while calls are fast): a provider that stops
// answering could hold all 16 of a consumer's calls. The p99s are printed, not asserted (the
// machine's load moves them; brownout.soak.ts measures them over rounds); what is asserted is what
// moves them: how many calls reach the slow provider.
const LANES = 16;
const lanesBase = { cluster: 'failover', timeoutMs: TIMEOUT_MS, adaptiveConcurrency: true } as const;
const lanesSetups: ClientSetup[] = [
  { name: 'shortestresponse + adaptive limits', client: { ...lanesBase, loadBalance: 'shortestresponse' } },
  { name: 'random + adaptive limits', client: lanesBase },
];

test('a provider 200 ms slower under 16 lanes of calls: the recommended setup sends it about the calls in flight when it slowed, the limits alone a few a second', { skip, timeout: 180_000 }, async (t) => {
  const world = await BrownoutWorld.start(bed(), lanesSetups, { providers: 3, lanes: LANES, ratePerSecond: 800, limits: true });
  t.after(() => world.stop());
  await world.phase(noFault, 2_000); // warm-up
  const healthy = await world.phase(noFault, 3_000);
  const slowed = await world.phase(delayed(200), 3_000);
  const table = markdownTable(roundTableHead, slowed.map((figures, i) => roundRow({ round: 1, healthy: healthy[i]!, slowed: figures })));
  t.diagnostic(`\n${table}`);
  console.log(`\nOne of three providers +200 ms, ${LANES} lanes per consumer (800 calls/s while healthy), 3 s healthy then 3 s browned out:\n${table}`);
  for (const [i, figures] of slowed.entries()) {
    assert.equal(healthy[i]!.failed + figures.failed, 0, `${figures.setup}: within the timeout nothing fails: ${figures.failures.join(' | ')}`);
  }
  const [recommended, limitsOnly] = slowed as [PhaseFigures, PhaseFigures];
  // The calls in flight to it when it slowed and a few more: one now and then when a pause of the
  // consumer makes every provider's calls look slow at once (2–13 in test runs). Under 1 %, the
  // slow calls stay out of the p99; without this, a third of all calls would be slow.
  assert.ok(recommended.toFaulty < recommended.calls / 100, `${recommended.setup}: ${recommended.toFaulty} of ${recommended.calls} calls reached the slow provider`);
  // The limits act once calls to the slow provider end: its limit falls below the others' and holds
  // it to a call or two at a time.
  const limits = limitsOnly.limits!;
  assert.ok(limits[0]! < Math.min(...limits.slice(1)), `${limitsOnly.setup}: the slow provider's limit is the lowest: ${limits.join(', ')}`);
  assert.ok(limitsOnly.toFaulty < limitsOnly.calls / 10, `${limitsOnly.setup}: ${limitsOnly.toFaulty} of ${limitsOnly.calls} calls reached the slow provider`);
});
