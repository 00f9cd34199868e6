import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testbedForFile } from '../support/testbed.js';
import { EnsembleWorld } from './ensemble-world.js';
import { markdownTable } from './table.js';
import { consumersServerGone, failureRow, failureTableHead, followerPartitioned, healthy, leaderKilled, listedByMs, runFailure, type FailureFigures } from './zookeeper-scenarios.js';

// The long form of zookeeper-ensemble.test.ts (npm run soak): SOAK_ROUNDS rounds (default 10) of
// every failure, each healed before the next, at 200 calls/s; prints every run and, per failure,
// the median and worst of each figure. SOAK_FAILURES narrows the failures to those whose names
// contain one of its comma-separated words (`SOAK_FAILURES=consumer` for the consumer's own server).

const { bed, skip } = testbedForFile();
const rounds = Number(process.env.SOAK_ROUNDS ?? '10');
const SESSION_MS = 4_000;
const only = (process.env.SOAK_FAILURES ?? '').split(',').map((word) => word.trim()).filter(Boolean);
const faults = [healthy, followerPartitioned, consumersServerGone, leaderKilled].filter((fault) => only.length === 0 || only.some((word) => fault.name.includes(word)));

function summary(all: readonly FailureFigures[]): string {
  const byScenario = new Map<string, FailureFigures[]>();
  for (const figures of all) byScenario.set(figures.scenario, [...(byScenario.get(figures.scenario) ?? []), figures]);
  const times = ['quorumMs', 'consumerReconnectMs', 'registeredMs', 'listedMs', 'calledMs', 'removedMs'] as const;
  const medianAndMax = (values: number[]) => {
    if (values.length === 0) return '-';
    const sorted = values.sort((a, b) => a - b);
    return `${sorted[Math.floor((sorted.length - 1) / 2)]} / ${sorted.at(-1)}`;
  };
  return markdownTable(['failure', 'runs', 'calls', 'failed', ...times.map((key) => `${key.replace(/Ms$/, '')} ms (median / max)`), 'sessions expired'],
    [...byScenario].map(([scenario, runs]) => [scenario, runs.length, runs.reduce((sum, run) => sum + run.calls, 0), runs.reduce((sum, run) => sum + run.failed, 0),
      ...times.map((key) => medianAndMax(runs.map((run) => run[key]).filter((value): value is number => value !== undefined))),
      runs.reduce((sum, run) => sum + run.expired, 0)]));
}

test(`the ZooKeeper registry through ${rounds} rounds of ensemble failures`, { skip, timeout: Number.POSITIVE_INFINITY }, async (t) => {
  const world = await EnsembleWorld.start(bed(), { sessionTimeoutMs: SESSION_MS, ratePerSecond: 200, initialProviders: 3 });
  t.after(() => world.stop());
  const all: FailureFigures[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const fault of faults) {
        await t.test(`round ${round}: ${fault.name}`, async (run) => {
          const measured = await runFailure(world, bed(), fault);
          all.push(measured);
          run.diagnostic(`${measured.taken}: ${measured.timeline}`);
          assert.equal(measured.failed, 0, `${measured.failed} of ${measured.calls} calls failed: ${measured.failures.join(' | ')}`);
          assert.equal(measured.expired, 0, `no session expired; ${measured.timeline}`);
          assert.deepEqual(measured.lostProviders, [], `the live providers stayed listed; ${measured.timeline}`);
          assert.ok(measured.listedMs <= listedByMs(measured, SESSION_MS),
            `the consumer listed the new provider ${measured.listedMs} ms after the failure, the ensemble serving again after ${measured.quorumMs} ms; ${measured.timeline}`);
        });
      }
    }
  } finally {
    const report = `${markdownTable(failureTableHead, all.map(failureRow))}\n\n${summary(all)}`;
    t.diagnostic(`\n${report}`);
    console.log(`\nZooKeeper ensemble failures, ${rounds} rounds (session timeout 4 s, tick 500 ms, 200 calls/s):\n${report}`);
  }
});
