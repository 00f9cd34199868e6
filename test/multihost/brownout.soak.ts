import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testbedForFile } from '../support/testbed.js';
import { BrownoutWorld, blackholed, delayed, lossy, noFault, phaseRow, phaseTableHead, type ClientSetup, type LinkFault, type PhaseFigures } from './brownout-world.js';
import { markdownTable } from './table.js';

// The long form of brownout.test.ts (npm run soak): each fault for SOAK_PHASE_S seconds (default
// 30), in several strengths, against more client setups. What is asserted is what the framework
// promises; everything else is printed.

const { bed, skip } = testbedForFile();
const phaseMs = 1_000 * Number(process.env.SOAK_PHASE_S ?? '30');
const TIMEOUT_MS = 1_000;
const base = { cluster: 'failover', timeoutMs: TIMEOUT_MS } as const;
const setups: ClientSetup[] = [
  { name: 'roundrobin, failover + timeout', client: { ...base, loadBalance: 'roundrobin' } },
  { name: 'roundrobin + breaker (defaults)', client: { ...base, loadBalance: 'roundrobin', circuitBreaker: {} } },
  { name: 'roundrobin + breaker (2 s window)', client: { ...base, loadBalance: 'roundrobin', circuitBreaker: { windowMs: 2_000 } } },
  { name: 'leastactive + breaker (2 s window)', client: { ...base, loadBalance: 'leastactive', circuitBreaker: { windowMs: 2_000 } } },
  { name: 'p2c + breaker (2 s window)', client: { ...base, loadBalance: 'p2c', circuitBreaker: { windowMs: 2_000 } } },
];

/**
 * Faults, with whether every call must still succeed (the fault stays within the timeout) and the
 * codes a failed call may have. A blackhole that outlasts the connection's idle timeout (15 s) also
 * gives UNAVAILABLE: the reconnection waits out its connect timeout, and a call whose failover
 * would come after its deadline ends with that error (docs/cluster.md, retry rules).
 */
const deadline = ['DEADLINE_EXCEEDED'];
const faults: Array<{ fault: LinkFault; allSucceed: boolean; codes: readonly string[] }> = [
  { fault: noFault, allSucceed: true, codes: [] },
  { fault: delayed(50), allSucceed: true, codes: [] },
  { fault: delayed(200), allSucceed: true, codes: [] },
  { fault: delayed(1_500), allSucceed: false, codes: deadline },
  { fault: lossy(1), allSucceed: false, codes: deadline },
  { fault: lossy(5), allSucceed: false, codes: deadline },
  { fault: lossy(20), allSucceed: false, codes: deadline },
  { fault: blackholed, allSucceed: false, codes: [...deadline, 'UNAVAILABLE'] },
];

test(`brown-outs of one provider, ${phaseMs / 1000} s per fault`, { skip, timeout: Number.POSITIVE_INFINITY }, async (t) => {
  const world = await BrownoutWorld.start(bed(), setups, { providers: 3, ratePerSecond: 100 });
  t.after(() => world.stop());
  const rows: PhaseFigures[] = [];
  try {
    for (const { fault, allSucceed, codes } of faults) {
      await t.test(fault.name, async () => {
        // A breaker opened by the last fault must not carry over: it closes after its open time.
        const figures = await world.phase(fault, phaseMs, 6_000);
        rows.push(...figures);
        for (const one of figures) {
          if (allSucceed) assert.equal(one.failed, 0, `${one.setup}: ${one.failures.join(' | ')}`);
          assert.deepEqual(Object.keys(one.codes).filter((code) => !codes.includes(code)), [], `${one.setup}: ${one.failures.join(' | ')}`);
          assert.equal(one.failedWhileOpen, 0, `${one.setup}: no call started while the circuit was open failed`);
        }
      });
    }
  } finally {
    const table = markdownTable(phaseTableHead, rows.map(phaseRow));
    t.diagnostic(`\n${table}`);
    console.log(`\nOne of three providers browned out, ${phaseMs / 1000} s per fault (100 calls/s per consumer, timeout ${TIMEOUT_MS} ms; latencies of successful calls):\n${table}`);
  }
});
