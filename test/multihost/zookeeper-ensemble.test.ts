import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testbedForFile } from '../support/testbed.js';
import { EnsembleWorld } from './ensemble-world.js';
import { markdownTable } from './table.js';
import { failureRow, failureTableHead, followerPartitioned, leaderKilled, listedByMs, runFailure, type FailureFigures } from './zookeeper-scenarios.js';

// A consumer and providers, each in a host of its own, on a three-server ZooKeeper ensemble
// (zookeeper://a:2181,b:2181,c:2181), calling all along while the ensemble loses a follower, then its
// leader. The long form (zookeeper-ensemble.soak.ts) also cuts off the server the consumer's session
// is on, and repeats every failure.

const { bed, skip } = testbedForFile();
const SESSION_MS = 4_000;

test('the ZooKeeper registry rides out ensemble failures: no failed call, sessions and watches kept, the directory right again', { skip, timeout: 240_000 }, async (t) => {
  const world = await EnsembleWorld.start(bed(), { sessionTimeoutMs: SESSION_MS, ratePerSecond: 100, initialProviders: 2 });
  t.after(() => world.stop());
  const figures: FailureFigures[] = [];
  try {
    // The healthy baseline and the consumer's own server partitioned away run in the long form
    // only (zookeeper-ensemble.soak.ts), to keep npm test short.
    const faults = [followerPartitioned, leaderKilled];
    for (const [index, fault] of faults.entries()) {
      await t.test(fault.name, async () => {
        const measured = await runFailure(world, bed(), fault, { heal: index < faults.length - 1 });
        figures.push(measured);
        assert.equal(measured.failed, 0, `${measured.failed} of ${measured.calls} calls failed: ${measured.failures.join(' | ')}`);
        assert.equal(measured.expired, 0, `no session expired: the clients moved to another server in time; ${measured.timeline}`);
        assert.deepEqual(measured.lostProviders, [], `the live providers stayed listed: their ephemeral nodes survived; ${measured.timeline}`);
        assert.ok(measured.listedMs <= listedByMs(measured, SESSION_MS),
          `the directory was right again ${measured.listedMs} ms after the failure, the ensemble serving again after ${measured.quorumMs} ms; ${measured.timeline}`);
        assert.ok(measured.calls > 0, 'calls ran during the failure');
      });
    }
  } finally {
    const table = markdownTable(failureTableHead, figures.map(failureRow));
    t.diagnostic(`\n${table}`);
    console.log(`\nZooKeeper ensemble failures (session timeout 4 s, tick 500 ms, 100 calls/s):\n${table}`);
  }
});
