import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RpcError } from '../../src/index.js';
import { ProbeService, freshRegistry, startClient, startProvider, waitForLabels } from '../support/cluster.js';

/** An adaptive limit held at `n`, to see what a reference does at its limit. */
const heldAt = (n: number) => ({ initialLimit: n, minLimit: n, maxLimit: n });

function outcomesOf(outcomes: PromiseSettledResult<string>[]): { served: string[]; refused: RpcError[] } {
  const served = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as RpcError] : []));
  return { served, refused };
}

describe('adaptive concurrency per provider on a client', () => {
  test('a provider at its limit gets no call while another has room; when none has, the calls still go out', async (t) => {
    const { registry } = freshRegistry();
    const a = await startProvider(t, 'a', { registry });
    const b = await startProvider(t, 'b', { registry });
    const client = startClient(t, { registry, adaptiveConcurrency: heldAt(3) });
    const probe = client.proxy(ProbeService);
    await waitForLabels(() => probe.whoami(), ['a', 'b']);
    const before = [a.count('sleep'), b.count('sleep')];
    // Six at once, whatever the balancer draws: three to each, since a provider at 3 gets no more while the other has room.
    const six = outcomesOf(await Promise.allSettled(Array.from({ length: 6 }, () => probe.sleep(200))));
    assert.deepEqual(six.served.sort(), ['a', 'a', 'a', 'b', 'b', 'b']);
    assert.deepEqual([a.count('sleep') - before[0]!, b.count('sleep') - before[1]!], [3, 3]);
    // Eight: the two that find no room anywhere are sent all the same.
    const eight = outcomesOf(await Promise.allSettled(Array.from({ length: 8 }, () => probe.sleep(200))));
    assert.equal(eight.served.length, 8);
    assert.deepEqual(eight.refused, []);
  });

  test('a provider that slows down is sent far fewer calls than its peer', async (t) => {
    const { registry } = freshRegistry();
    const fast = await startProvider(t, 'fast', { registry });
    const slow = await startProvider(t, 'slow', { registry });
    const client = startClient(t, { registry, adaptiveConcurrency: { initialLimit: 20, windowMs: 20, windowSamples: 5 } });
    const probe = client.proxy(ProbeService);
    await waitForLabels(() => probe.whoami(), ['fast', 'slow']);
    for (let round = 0; round < 20; round++) await Promise.all(Array.from({ length: 8 }, (_, i) => probe.read(i)));
    slow.behaviour.delayMs = 50;
    const before = [fast.count('read'), slow.count('read')];
    const lanes = Array.from({ length: 8 }, async () => {
      for (let i = 0; i < 100; i++) await probe.read(i);
    });
    await Promise.all(lanes);
    const toFast = fast.count('read') - before[0]!;
    const toSlow = slow.count('read') - before[1]!;
    assert.equal(toFast + toSlow, 800);
    // Without the limits, half the calls would go to each.
    assert.ok(toSlow * 5 < toFast, `${toSlow} calls to the slow provider, ${toFast} to the fast one`);
  });
});
