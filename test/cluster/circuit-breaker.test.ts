import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreaker, type CircuitEvent, type CircuitBreakerOptions } from '../../src/cluster/circuit-breaker.js';
import { Code, RpcError } from '../../src/index.js';

const unavailable = new RpcError(Code.UNAVAILABLE, 'down');
const invalid = new RpcError(Code.INVALID_ARGUMENT, 'bad input');

function breaker(options: CircuitBreakerOptions = {}) {
  let now = 1_000_000;
  const events: CircuitEvent[] = [];
  const cb = new CircuitBreaker('tcp://p:1', 'add', { minimumCalls: 4, openMs: 1000, halfOpenProbes: 2, ...options }, (e) => events.push(e), () => now);
  return { cb, events, advance: (ms: number) => (now += ms) };
}

describe('circuit breaker', () => {
  it('stays closed until the window holds the minimum number of calls', () => {
    const { cb } = breaker();
    for (let i = 0; i < 3; i++) cb.onError(unavailable, 1);
    assert.equal(cb.state, 'CLOSED');
    cb.onError(unavailable, 1);
    assert.equal(cb.state, 'OPEN');
  });

  it('opens when the failure rate reaches the threshold, and reports the rate', () => {
    const { cb, events } = breaker({ failureRateThreshold: 0.5 });
    cb.onSuccess(1);
    cb.onSuccess(1);
    cb.onError(unavailable, 1);
    assert.equal(cb.state, 'CLOSED');
    cb.onError(unavailable, 1);
    assert.equal(cb.state, 'OPEN');
    assert.equal(events.length, 1);
    assert.deepEqual({ from: events[0]!.from, to: events[0]!.to, failureRate: events[0]!.failureRate }, { from: 'CLOSED', to: 'OPEN', failureRate: 0.5 });
  });

  it('does not count application errors as failures', () => {
    const { cb } = breaker();
    for (let i = 0; i < 20; i++) cb.onError(invalid, 1);
    assert.equal(cb.state, 'CLOSED');
  });

  it('opens on the slow-call rate when a slow threshold is set', () => {
    const { cb } = breaker({ slowCallDurationMs: 100, slowCallRateThreshold: 0.75 });
    for (let i = 0; i < 3; i++) cb.onSuccess(150);
    cb.onSuccess(10);
    assert.equal(cb.state, 'OPEN');
  });

  it('refuses calls while open, then lets the configured probes through half-open', () => {
    const { cb, events, advance } = breaker();
    for (let i = 0; i < 4; i++) cb.onError(unavailable, 1);
    assert.equal(cb.tryAcquire(), false);
    advance(999);
    assert.equal(cb.tryAcquire(), false);
    advance(1);
    assert.equal(cb.state, 'HALF_OPEN');
    assert.equal(cb.tryAcquire(), true);
    assert.equal(cb.tryAcquire(), true);
    assert.equal(cb.tryAcquire(), false, 'only two probes');
    cb.onSuccess(1);
    assert.equal(cb.state, 'HALF_OPEN', 'closes only when every probe succeeded');
    cb.onSuccess(1);
    assert.equal(cb.state, 'CLOSED');
    assert.deepEqual(events.map((e) => `${e.from}>${e.to}`), ['CLOSED>OPEN', 'OPEN>HALF_OPEN', 'HALF_OPEN>CLOSED']);
  });

  it('opens again when a probe fails', () => {
    const { cb, advance } = breaker();
    for (let i = 0; i < 4; i++) cb.onError(unavailable, 1);
    advance(1000);
    assert.equal(cb.tryAcquire(), true);
    cb.onError(unavailable, 1);
    assert.equal(cb.state, 'OPEN');
    assert.equal(cb.tryAcquire(), false);
  });

  it('forgets outcomes older than the rolling window', () => {
    const { cb, advance } = breaker({ windowMs: 1000 });
    for (let i = 0; i < 3; i++) cb.onError(unavailable, 1);
    advance(1500);
    cb.onError(unavailable, 1);
    assert.equal(cb.state, 'CLOSED', 'the three old failures aged out');
    for (let i = 0; i < 3; i++) cb.onError(unavailable, 1);
    assert.equal(cb.state, 'OPEN');
  });
});
