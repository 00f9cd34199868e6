import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testbedForFile } from '../support/testbed.js';
import { EnsembleWorld } from './ensemble-world.js';
import { markdownTable } from './table.js';
import { consumersServerGone, failureRow, failureTableHead, followerPartitioned, healthy, leaderKilled, runFailure, type FailureFigures } from './zookeeper-scenarios.js';

// The long form of zookeeper-ensemble.test.ts (npm run soak): SOAK_ROUNDS rounds (default 10) of
// every failure, each healed before the next, at 200 calls/s; prints every run and, per failure,
// the median and worst of each figure.

const { bed, skip } = testbedForFile();
const rounds = Number(process.env.SOAK_ROUNDS ?? '10');

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
  const world = await EnsembleWorld.start(bed(), { sessionTimeoutMs: 4_000, ratePerSecond: 200, initialProviders: 3 });
  t.after(() => world.stop());
  const all: FailureFigures[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const fault of [healthy, followerPartitioned, consumersServerGone, leaderKilled]) {
        await t.test(`round ${round}: ${fault.name}`, async () => {
          const measured = await runFailure(world, bed(), fault);
          all.push(measured);
          assert.equal(measured.failed, 0, `${measured.failed} of ${measured.calls} calls failed: ${measured.failures.join(' | ')}`);
          assert.equal(measured.expired, 0, `no session expired; ${measured.timeline}`);
          assert.deepEqual(measured.lostProviders, [], `the live providers stayed listed; ${measured.timeline}`);
        });
      }
    }
  } finally {
    const report = `${markdownTable(failureTableHead, all.map(failureRow))}\n\n${summary(all)}`;
    t.diagnostic(`\n${report}`);
    console.log(`\nZooKeeper ensemble failures, ${rounds} rounds (session timeout 4 s, tick 500 ms, 200 calls/s):\n${report}`);
  }
});
