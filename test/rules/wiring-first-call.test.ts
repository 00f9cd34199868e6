// The very first call of a new client, or of a new reference, made right after it is created: it
// waits for the provider list, which waits for the rules it brings in, so it obeys a timeout a
// configurator set for its provider. Real servers on the embedded registry (a temp folder).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Code } from '../../src/index.js';
import { createEmbeddedRegistry } from '../../src/registry/embedded.js';
import type { Registry } from '../../src/registry/registry.js';
import type { RuleStore } from '../../src/rules/types.js';
import { onCleanup } from '../support/calculator.js';
import { startClient } from '../support/cluster.js';
import { consumerRule } from './wiring-consumer-scenarios.js';
import { embeddedBackend, startFleet, timed, within, type Fleet } from './wiring-kit.js';

/** A consumer-side timeout for calls to the fleet's first provider alone. */
async function providerTimeout(t: Parameters<typeof startFleet>[0], fleet: Fleet, ms: number): Promise<void> {
  const address = fleet.address(fleet.providers[0]!);
  await embeddedBackend.put(t, fleet.registry, fleet.ruleKey, 'configurators',
    consumerRule(fleet, `  - side: consumer\n    providerAddresses: ["${address}"]\n    parameters:\n      timeout: ${ms}\n`));
  // The fleet's own client obeys it: the document is in the registry for any client that starts now.
  await within(2000, () => fleet.clientLog.some((entry) => entry.msg === 'rule in force'), 'the rule read by a running client');
}

/**
 * The fleet's registry as a client far from its rule store sees it: every rule document reaches the
 * client `lateMs` after the store has it, long after the provider list.
 */
function lateRules(t: Parameters<typeof startFleet>[0], fleet: Fleet, lateMs: number): Registry {
  const inner = createEmbeddedRegistry({ dir: decodeURIComponent(new URL(fleet.registry).pathname) });
  onCleanup(t, () => inner.close());
  const store = inner.rules;
  const rules: RuleStore = {
    get: (id) => store.get(id),
    put: (id, text) => store.put(id, text),
    delete: (id) => store.delete(id),
    list: () => store.list(),
    watch(id, onChange) {
      const timers = new Set<NodeJS.Timeout>();
      const stop = store.watch(id, (text) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          onChange(text);
        }, lateMs);
        timers.add(timer);
      });
      return () => {
        stop();
        for (const timer of timers) clearTimeout(timer);
      };
    },
  };
  return {
    register: (provider) => inner.register(provider),
    unregister: (provider) => inner.unregister(provider),
    subscribe: (service, onChange) => inner.subscribe(service, onChange),
    rules,
    close: async () => {},
  };
}

describe('the first call of a new consumer obeys the rules (embedded)', () => {
  test('a new client\'s first call, made at once, ends at the provider\'s rule timeout, shorter than the client\'s', async (t) => {
    const fleet = await startFleet(t, embeddedBackend, ['a']);
    await providerTimeout(t, fleet, 300);
    const client = startClient(t, { registry: fleet.registry, application: 'first-call-consumer', timeoutMs: 5000 });
    const first = await timed(() => client.proxy(fleet.definition).sleep(1000));
    assert.equal(first.error?.code, Code.DEADLINE_EXCEEDED, `the first call ended ${first.error?.code ?? `with ${String(first.value)}`}`);
    assert.ok(first.ms >= 295 && first.ms < 1000, `ended after ${first.ms.toFixed(0)} ms: the rule's 300 ms, not the client's 5000`);
  });

  test('a new client\'s first call gets the provider\'s rule timeout when it is longer than the client\'s', async (t) => {
    const fleet = await startFleet(t, embeddedBackend, ['a']);
    await providerTimeout(t, fleet, 4000);
    const client = startClient(t, { registry: fleet.registry, application: 'first-call-consumer', timeoutMs: 300 });
    const first = await timed(() => client.proxy(fleet.definition).sleep(800));
    assert.equal(first.value, 'a', `the first call ended ${first.error?.message ?? ''}: the client's 300 ms applied, not the rule's 4000`);
  });

  test('the first call of a new reference on a running client obeys the rule too', async (t) => {
    const fleet = await startFleet(t, embeddedBackend, ['a'], { timeoutMs: 5000 });
    await providerTimeout(t, fleet, 300);
    // Other options: another reference, with a directory and rules of its own, made by this call.
    const first = await timed(() => fleet.client.proxy(fleet.definition, { loadBalance: 'roundrobin' }).sleep(1000));
    assert.equal(first.error?.code, Code.DEADLINE_EXCEEDED);
    assert.ok(first.ms >= 295 && first.ms < 1000, `ended after ${first.ms.toFixed(0)} ms`);
  });

  test('a new client\'s first call obeys the rule when the registry\'s rules reach it well after its providers', async (t) => {
    const fleet = await startFleet(t, embeddedBackend, ['a']);
    await providerTimeout(t, fleet, 300);
    // 400 ms: later than the provider list, within the 1 s a new list waits for its rules.
    const client = startClient(t, { registry: lateRules(t, fleet, 400), application: 'first-call-consumer', timeoutMs: 5000 });
    const first = await timed(() => client.proxy(fleet.definition).sleep(1500));
    assert.equal(first.error?.code, Code.DEADLINE_EXCEEDED, `the first call ended ${first.error?.code ?? `with ${String(first.value)}`}`);
    assert.ok(first.ms >= 295 && first.ms < 1500, `ended after ${first.ms.toFixed(0)} ms: within the rule's 300 ms of being sent, not the client's 5000`);
  });
});
