import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registerBalancer } from '../../src/cluster/balancers/index.js';
import { RuleError } from '../../src/rules/rule-error.js';
import { ignoredParameters, routingOverrides, SUPPORTED_PARAMETERS } from '../../src/rules/routing-overrides.js';

/** The overrides as plain data, for deepEqual (method records have no prototype). */
function settings(params: Record<string, string>): unknown {
  return JSON.parse(JSON.stringify(routingOverrides(params), (_key, value: unknown) => (value === Infinity ? 'Infinity' : value)));
}

describe('routingOverrides: Dubbo parameters as Switchyard settings', () => {
  const cases: Array<[Record<string, string>, unknown]> = [
    [{ timeout: '500' }, { timeoutMs: 500 }],
    [{ retries: '0' }, { retries: 0 }],
    [{ retries: '-1' }, { retries: 0 }],
    [{ loadbalance: 'leastactive' }, { loadBalance: 'leastactive' }],
    [{ cluster: 'failfast' }, { cluster: 'failfast' }],
    [{ forks: '3' }, { forks: 3 }],
    [{ forks: '0' }, { forks: 'Infinity' }],
    [{ actives: '10' }, { maxActivePerProvider: 10 }],
    [{ actives: '0' }, { maxActivePerProvider: 'Infinity' }],
    [{ executes: '8' }, { concurrencyLimit: 8 }],
    [{ 'hash.arguments': '0, 2', 'hash.nodes': '320' }, { hashArguments: [0, 2], virtualNodes: 320 }],
    [{ weight: '0' }, { weight: 0 }],
    [{ disabled: 'TRUE' }, { disabled: true }],
    [{ warmup: '60000' }, { warmupMs: 60000 }],
    [{ tps: '120' }, { rateLimit: { ratePerSec: 2, burst: 120 } }],
    [{ 'tps.interval': '1000', tps: '50' }, { rateLimit: { ratePerSec: 50, burst: 50 } }],
    [{ tps: '-1' }, { rateLimit: false }],
    [{ circuitbreaker: 'true' }, { circuitBreaker: {} }],
    [{ circuitbreaker: 'false' }, { circuitBreaker: false }],
    [
      { 'circuitbreaker.failureRateThreshold': '0.25', 'circuitbreaker.slowCallRateThreshold': '1', 'circuitbreaker.slowCallDurationMs': '800', 'circuitbreaker.minimumCalls': '20', 'circuitbreaker.windowMs': '30000', 'circuitbreaker.openMs': '10000', 'circuitbreaker.halfOpenProbes': '2' },
      { circuitBreaker: { failureRateThreshold: 0.25, slowCallRateThreshold: 1, slowCallDurationMs: 800, minimumCalls: 20, windowMs: 30000, openMs: 10000, halfOpenProbes: 2 } },
    ],
    [{ 'divide.timeout': '200', 'divide.retries': '0', 'add.loadbalance': 'roundrobin' }, { methods: { divide: { timeoutMs: 200, retries: 0 }, add: { loadBalance: 'roundrobin' } } }],
    [{ 'get.circuitbreaker.openMs': '100' }, { methods: { get: { circuitBreaker: { openMs: 100 } } } }],
    [{ threads: '200', accesslog: 'true', 'divide.threads': '1', 'hash.unknown': '1' }, {}],
  ];
  for (const [params, expected] of cases) {
    it(`${JSON.stringify(params)} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(settings(params), expected);
    });
  }

  it('reads a Map as well as a record', () => {
    assert.deepEqual(routingOverrides(new Map([['timeout', '9']])), { timeoutMs: 9 });
  });

  it('keeps method records free of prototypes, even for a method named __proto__', () => {
    const result = routingOverrides({ '__proto__.timeout': '5', 'constructor.retries': '1' });
    assert.equal(Object.getPrototypeOf(result.methods), null);
    assert.deepEqual(Object.keys(result.methods!), ['__proto__', 'constructor']);
    assert.equal(result.methods!.__proto__!.timeoutMs, 5);
    assert.equal(({} as { timeoutMs?: number }).timeoutMs, undefined);
  });

  it('accepts a balancer registered by name', () => {
    registerBalancer('rules-test-first', () => ({ select: (candidates) => candidates[0]! }));
    assert.deepEqual(routingOverrides({ loadbalance: 'rules-test-first' }), { loadBalance: 'rules-test-first' });
  });

  it('refuses a value it cannot use, naming the parameter', () => {
    for (const [params, message] of [
      [{ timeout: '1.5' }, /parameters\.timeout: "1.5" is not a valid timeout/],
      [{ loadbalance: 'adaptive' }, /unknown load balancer "adaptive"/],
      [{ 'circuitbreaker.failureRateThreshold': '0' }, /above 0 and at most 1/],
      [{ circuitbreaker: 'off', 'x.y': '1' }, /expected true or false/],
      [{ 'tps.interval': '0' }, /expected at least 1/],
    ] as Array<[Record<string, string>, RegExp]>) {
      assert.throws(() => routingOverrides(params), (error: unknown) => error instanceof RuleError && message.test(error.message));
    }
  });

  it('lists the parameters it does not act on', () => {
    assert.deepEqual(ignoredParameters({ timeout: '1', threads: '200', 'divide.timeout': '1', 'divide.threads': '2', mock: 'force:return null' }), ['threads', 'divide.threads', 'mock']);
    assert.ok(SUPPORTED_PARAMETERS.includes('executes'));
    assert.ok(SUPPORTED_PARAMETERS.includes('circuitbreaker.openMs'));
  });
});
