// The console on a real ZooKeeper: the consumers ZooKeeper records are listed, and an action writes
// its configurator where Dubbo's config center keeps rules.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openForLooking } from '../../src/cli/switchyard-target.js';
import { createClient, createServer } from '../../src/index.js';
import { serviceRuleKey } from '../../src/rules/store-keys.js';
import { CalculatorService, calculatorImpl, newLog, onCleanup } from '../support/calculator.js';
import { zooKeeperForFile } from '../support/zookeeper.js';
import { TOKEN, ask, bearer, providerOf, startTestConsole, stateWhen } from './support.js';

const zk = zooKeeperForFile('switchyard-console-zk-');

describe('console on ZooKeeper', () => {
  it('lists the consumers ZooKeeper records, and writes a disable into its rule store', async (t) => {
    const root = `/console-${process.pid}`;
    const spec = `zookeeper://${zk.server().connectString}${root}?sessionTimeoutMs=4000&cacheFile=false`;
    const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: spec, admin: 'http://127.0.0.1:0' });
    server.provide(CalculatorService, calculatorImpl(newLog()));
    onCleanup(t, () => server.close({ timeoutMs: 2000 }));
    const [address] = await server.listen();
    const client = createClient({ registry: spec });
    onCleanup(t, () => client.close({ timeoutMs: 2000 }));
    assert.equal(await client.proxy(CalculatorService).add(2, 3), 5);

    // The console opens the registry as the command does: it announces no consumer of its own.
    const registry = await openForLooking(spec);
    onCleanup(t, () => registry.close());
    const console = await startTestConsole(t, spec, { registry, token: TOKEN });
    const s = await stateWhen(console, (s) => s.services[0]?.providers.length === 1 && s.services[0].consumers.length === 1);
    assert.equal(s.consumersRecorded, true);
    const [consumer] = s.services[0]!.consumers;
    assert.equal(consumer!.from, 'registry');
    assert.match(consumer!.url, /^consumer:\/\/[^/]+\/demo\.Calculator\?/);
    assert.match(consumer!.url, new RegExp(`pid=${process.pid}`));

    const provider = providerOf(s, address!);
    const answer = await ask(console, '/api/action', { method: 'POST', headers: bearer, body: { action: 'disable', service: provider.service, address: provider.hostPort } });
    assert.equal(answer.status, 200, answer.text);
    const stored = await registry.rules!.get({ key: serviceRuleKey(CalculatorService.key), kind: 'configurators' });
    assert.match(stored ?? '', /disabled: true/);
    await stateWhen(console, (s) => providerOf(s, address!).state === 'disabled');
  });
});
