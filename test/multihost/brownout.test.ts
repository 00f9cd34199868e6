import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testbedForFile } from '../support/testbed.js';
import { BrownoutWorld, blackholed, delayed, noFault, phaseRow, phaseTableHead, type ClientSetup, type PhaseFigures } from './brownout-world.js';
import { markdownTable } from './table.js';

// Three providers and consumers, each in a host of its own; one provider's link fails in turn
// (slowed by 200 ms, then blackholed; loss in the long form) while the consumers call an idempotent method at a
// steady rate with today's defences. Asserted is what the framework promises; the figures (error
// rate, p50/p99 against the healthy baseline) are printed. The long form is brownout.soak.ts.

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
