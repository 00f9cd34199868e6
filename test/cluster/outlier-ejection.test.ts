import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutlierDetector, type OutlierEjectionOptions, type OutlierEvent } from '../../src/cluster/outlier-ejection.js';
import { Code, RpcError } from '../../src/index.js';

const unavailable = new RpcError(Code.UNAVAILABLE, 'down');
const timedOut = new RpcError(Code.DEADLINE_EXCEEDED, 'late');
const internal = new RpcError(Code.INTERNAL, 'broken');
const overloaded = new RpcError(Code.RESOURCE_EXHAUSTED, 'shedding');
const notFound = new RpcError(Code.NOT_FOUND, 'no such order');

/** A detector over `addresses`, with a clock the test moves. */
function detector(addresses: string[], options: OutlierEjectionOptions = {}) {
  const events: OutlierEvent[] = [];
  const made = new OutlierDetector({ baseEjectionMs: 1000, intervalMs: 10_000, ...options, onChange: (event) => events.push(event) });
  const hosts = addresses.map((address) => made.host(address));
  let now = 0;
  const at = (ms: number) => (now = ms);
  const fail = (index: number, times = 1, error: RpcError = unavailable) => { for (let i = 0; i < times; i++) hosts[index]!.record(error, now); };
  const succeed = (index: number, times = 1) => { for (let i = 0; i < times; i++) hosts[index]!.record(undefined, now); };
  const ejected = () => hosts.map((host) => host.ejected);
  return { made, hosts, events, at, fail, succeed, ejected };
}

describe('outlier ejection', () => {
  it('ejects after consecutiveFailures failures in a row of UNAVAILABLE, DEADLINE_EXCEEDED or INTERNAL; a success starts the count again', () => {
    const d = detector(['a', 'b', 'c']);
    d.fail(0, 4);
    d.succeed(0);
    d.fail(0, 2, timedOut);
    d.fail(0, 2, internal);
    assert.deepEqual(d.ejected(), [false, false, false]);
    d.fail(0);
    assert.deepEqual(d.ejected(), [true, false, false]);
    assert.deepEqual(d.events, [{ provider: 'a', ejected: true, reason: 'consecutive failures', durationMs: 1000 }]);
  });

  it('neither counts nor forgives refusals for overload; application errors are answers, which end a run', () => {
    const d = detector(['a', 'b']);
    d.fail(0, 4);
    d.fail(0, 10, overloaded);
    assert.equal(d.hosts[0]!.consecutive, 4);
    d.fail(0, 1, notFound);
    assert.equal(d.hosts[0]!.consecutive, 0);
    d.fail(0, 5);
    assert.equal(d.hosts[0]!.ejected, true);
  });

  it('brings an ejected provider back after its time, and each further ejection lasts longer', () => {
    const d = detector(['a', 'b', 'c'], { baseEjectionMs: 1000, maxEjectionMs: 2500 });
    d.fail(0, 5);
    d.at(999);
    d.succeed(1);
    assert.equal(d.hosts[0]!.ejected, true);
    d.at(1000);
    d.succeed(1); // any outcome recorded after the time is up returns it
    assert.equal(d.hosts[0]!.ejected, false);
    d.fail(0, 5);
    assert.equal(d.events.at(-1)!.durationMs, 2000);
    d.at(3000);
    d.succeed(2);
    d.fail(0, 5);
    assert.equal(d.events.at(-1)!.durationMs, 2500, 'capped at maxEjectionMs');
  });

  it('forgives an ejection per interval spent without one', () => {
    const d = detector(['a', 'b', 'c'], { intervalMs: 10_000, baseEjectionMs: 1000 });
    d.succeed(1); // starts the first interval at 0
    d.fail(0, 5);
    d.at(2000);
    d.succeed(1);
    d.at(10_000);
    d.succeed(1); // the interval in which it was ejected ends: no forgiveness for it
    assert.equal(d.hosts[0]!.ejections, 1);
    d.at(20_000);
    d.succeed(1);
    assert.equal(d.hosts[0]!.ejections, 0);
    d.fail(0, 5);
    assert.equal(d.events.at(-1)!.durationMs, 1000);
  });

  it('never ejects more than maxEjectedShare of the providers, at least one, and never the last one', () => {
    const three = detector(['a', 'b', 'c'], { maxEjectedShare: 0.5 });
    three.fail(0, 5);
    three.fail(1, 5);
    three.fail(2, 5);
    assert.deepEqual(three.ejected(), [true, false, false]);
    const four = detector(['a', 'b', 'c', 'd'], { maxEjectedShare: 0.5 });
    for (let i = 0; i < 4; i++) four.fail(i, 5);
    assert.deepEqual(four.ejected(), [true, true, false, false]);
    const one = detector(['a'], { maxEjectedShare: 1 });
    one.fail(0, 50);
    assert.deepEqual(one.ejected(), [false]);
    const all = detector(['a', 'b'], { maxEjectedShare: 1 });
    all.fail(0, 5);
    all.fail(1, 5);
    assert.deepEqual(all.ejected(), [true, false]);
    const none = detector(['a', 'b', 'c'], { maxEjectedShare: 0 });
    none.fail(0, 50);
    assert.deepEqual(none.ejected(), [false, false, false]);
  });

  it('a provider that returns frees its place under the cap for another', () => {
    const d = detector(['a', 'b', 'c'], { baseEjectionMs: 1000 });
    d.fail(0, 5);
    d.fail(1, 5);
    assert.deepEqual(d.ejected(), [true, false, false]);
    d.at(1000);
    d.fail(1, 1);
    assert.deepEqual(d.ejected(), [false, true, false]);
  });

  it('ejects by success rate: below mean − factor × stdev among providers with enough calls, once per interval', () => {
    const addresses = ['a', 'b', 'c', 'd', 'e', 'f'];
    const d = detector(addresses, { consecutiveFailures: 0, successRateRequestVolume: 100, successRateMinimumHosts: 5, successRateStdevFactor: 1.9, intervalMs: 10_000 });
    d.succeed(5); // starts the interval at 0
    for (let i = 0; i < 5; i++) {
      // Failures spread out, so that no run of them is long.
      for (let call = 0; call < 200; call++) {
        if (call % 50 === 0) d.fail(i);
        else d.succeed(i);
      }
    }
    // f: half fail
    for (let call = 0; call < 200; call++) {
      if (call % 2 === 0) d.fail(5);
      else d.succeed(5);
    }
    assert.deepEqual(d.ejected(), [false, false, false, false, false, false], 'nothing before the interval ends');
    d.at(10_000);
    d.succeed(0);
    assert.deepEqual(d.ejected(), [false, false, false, false, false, true]);
    assert.equal(d.events.at(-1)!.reason, 'success rate');
  });

  it('compares success rates only with enough providers with enough calls', () => {
    const d = detector(['a', 'b', 'c', 'd', 'e'], { consecutiveFailures: 0, successRateRequestVolume: 100, successRateMinimumHosts: 5 });
    d.succeed(0);
    for (let i = 0; i < 4; i++) d.succeed(i, 200);
    // e: half fail, but too few calls to be judged
    for (let call = 0; call < 99; call++) {
      if (call % 2 === 0) d.fail(4);
      else d.succeed(4);
    }
    d.at(10_000);
    d.succeed(0);
    assert.deepEqual(d.ejected(), [false, false, false, false, false]);
  });

  it('forgets providers that leave the list, with their ejections', () => {
    const d = detector(['a', 'b', 'c']);
    d.fail(0, 5);
    d.made.retain(new Set(['b', 'c']));
    assert.equal(d.made.stats().ejected, 0);
    d.fail(1, 5);
    assert.equal(d.hosts[1]!.ejected, true, 'the place under the cap that a left was holding is free');
  });

  it('refuses options that make no sense with INVALID_ARGUMENT', () => {
    for (const options of [{ consecutiveFailures: -1 }, { intervalMs: 0 }, { baseEjectionMs: Number.NaN }, { maxEjectedShare: 1.5 }, { successRateStdevFactor: -1 }]) {
      assert.throws(() => new OutlierDetector(options), (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT, JSON.stringify(options));
    }
  });
});
