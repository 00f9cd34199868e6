import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Code } from '../../src/index.js';
import { FaultControl, type InprocFaults, type LinkFaults } from '../../src/testing/index.js';
import { injectedError } from '../../src/testing/faults.js';
import { Link } from '../../src/testing/link.js';
import { hasCode } from '../support/assertions.js';
import { waitUntil } from '../support/calculator.js';

/** A link shaped by `faults`, and what came out of it. */
function linkOf(faults: FaultControl<LinkFaults>) {
  const arrived: Array<{ at: number; bytes: Buffer }> = [];
  let ended = false;
  const link = new Link(() => faults.current, () => faults.random(), {
    data: (chunk) => arrived.push({ at: Date.now(), bytes: Buffer.from(chunk) }),
    end: () => (ended = true),
  });
  return { link, arrived, received: () => Buffer.concat(arrived.map((a) => a.bytes)), ended: () => ended };
}

function numbered(count: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => Buffer.from(`chunk ${i};`));
}

describe('a link between two ends', () => {
  test('jitter delays chunks but never reorders them; the end comes after the last byte', async () => {
    const faults = new FaultControl<LinkFaults>({ latencyMs: 2, jitterMs: 15 }, 7);
    const { link, received, ended } = linkOf(faults);
    const chunks = numbered(200);
    for (const chunk of chunks) link.send(chunk);
    link.end();
    await waitUntil(ended);
    assert.equal(received().toString(), Buffer.concat(chunks).toString());
  });

  test('a blackhole holds the bytes without losing them; lifting it delivers them in order', async () => {
    const faults = new FaultControl<LinkFaults>({ blackhole: true });
    const { link, received, arrived } = linkOf(faults);
    const chunks = numbered(20);
    for (const chunk of chunks) link.send(chunk);
    await sleep(50);
    assert.equal(arrived.length, 0, 'nothing passes a blackhole');
    assert.equal(link.queuedBytes, Buffer.concat(chunks).length);
    faults.update({ blackhole: undefined });
    link.wake();
    await waitUntil(() => link.queuedBytes === 0);
    assert.equal(received().toString(), Buffer.concat(chunks).toString());
  });

  test('a bandwidth limit passes a large chunk a slice at a time, never sooner than the wire allows', async () => {
    const bytesPerSecond = 200 * 1024;
    const faults = new FaultControl<LinkFaults>({ bytesPerSecond });
    const { link, received, arrived } = linkOf(faults);
    const payload = Buffer.alloc(40 * 1024, 7);
    const sentAt = Date.now();
    link.send(payload);
    await waitUntil(() => link.queuedBytes === 0);
    assert.ok(received().equals(payload));
    assert.ok(arrived.length > 1, `${arrived.length} slices`);
    // A lower bound only: 40 KiB at 200 KiB/s cannot take less than 200 ms, however busy the machine.
    assert.ok(arrived.at(-1)!.at - sentAt >= 190, `took ${arrived.at(-1)!.at - sentAt} ms`);
  });

  test('a closed link delivers nothing more', async () => {
    const faults = new FaultControl<LinkFaults>({ latencyMs: 20 });
    const { link, arrived, ended } = linkOf(faults);
    link.send(Buffer.from('lost'));
    link.end();
    link.close();
    await sleep(60);
    assert.equal(arrived.length, 0);
    assert.equal(ended(), false);
  });
});

describe('fault controls', () => {
  test('the same seed injects errors into the same calls; another seed into others', () => {
    const pattern = (seed: number) => {
      const faults = new FaultControl<InprocFaults>({ errors: [{ code: Code.UNAVAILABLE, share: 0.3 }] }, seed);
      return Array.from({ length: 100 }, () => (injectedError(faults, 'demo.Calculator', 'add') === undefined ? '.' : 'x')).join('');
    };
    assert.equal(pattern(42), pattern(42));
    assert.notEqual(pattern(42), pattern(43));
    const failures = pattern(42).split('').filter((c) => c === 'x').length;
    assert.ok(failures > 10 && failures < 50, `${failures} of 100 calls failed at a share of 0.3`);
  });

  test('an error fault matches by method name, pattern or service, and the first match decides', () => {
    const faults = new FaultControl<InprocFaults>({
      errors: [
        { code: Code.NOT_FOUND, service: 'other.Service' },
        { code: Code.INTERNAL, method: 'divide', message: 'division broke' },
        { code: Code.RESOURCE_EXHAUSTED, method: /^sl/ },
      ],
    });
    assert.equal(injectedError(faults, 'demo.Calculator', 'add'), undefined);
    const divide = injectedError(faults, 'demo.Calculator', 'divide');
    assert.equal(divide?.code, Code.INTERNAL);
    assert.equal(divide?.message, 'division broke');
    assert.equal(injectedError(faults, 'demo.Calculator', 'slow')?.message, 'injected RESOURCE_EXHAUSTED');
    assert.equal(injectedError(faults, 'other.Service', 'divide')?.code, Code.NOT_FOUND);
  });

  test('update changes what it names, an undefined entry lifts a fault, clear lifts them all', () => {
    const faults = new FaultControl<InprocFaults>({ latencyMs: 5, frozen: true }, 1);
    faults.update({ jitterMs: 3, frozen: undefined });
    assert.deepEqual({ ...faults.current }, { latencyMs: 5, jitterMs: 3, frozen: undefined });
    faults.clear();
    assert.deepEqual({ ...faults.current }, {});
    assert.equal(faults.seed, 1);
    faults.reseed(9);
    assert.equal(faults.seed, 9);
  });

  test('a value no fault can have is refused with INVALID_ARGUMENT, and the faults stay as they were', () => {
    const faults = new FaultControl<InprocFaults>({ latencyMs: 5 });
    assert.throws(() => faults.update({ latencyMs: -1 }), hasCode(Code.INVALID_ARGUMENT, /latencyMs/));
    assert.throws(() => faults.update({ bytesPerSecond: 0 }), hasCode(Code.INVALID_ARGUMENT, /bytesPerSecond/));
    assert.throws(() => faults.update({ errors: [{ code: Code.UNAVAILABLE, share: 1.5 }] }), hasCode(Code.INVALID_ARGUMENT, /share/));
    assert.throws(() => faults.update({ errors: [{ code: 99 as Code }] }), hasCode(Code.INVALID_ARGUMENT, /code/));
    assert.throws(() => faults.update({ errors: [{ code: Code.OK as Code }] }), hasCode(Code.INVALID_ARGUMENT, /code/));
    assert.throws(() => faults.reseed(1.5), hasCode(Code.INVALID_ARGUMENT, /seed/));
    assert.deepEqual({ ...faults.current }, { latencyMs: 5 });
  });
});
