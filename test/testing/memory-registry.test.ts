import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Code, type Provider } from '../../src/index.js';
import { MemoryRegistry, service, startClient, startServer } from '../../src/testing/index.js';
import { hasCode } from '../support/assertions.js';
import { CalculatorService, calculatorImpl, newLog } from '../support/calculator.js';
import { Recorder, makeProvider, registryContract, uniqueServiceName } from '../registry/contract.js';

// Every instance on one namespace shares its entries, as processes sharing a registry server do.
registryContract('memory', async () => new MemoryRegistry('contract'));

describe('memory:// registries', () => {
  test('a client finds a server through memory://<namespace>, by address, with nothing else configured', async () => {
    await using server = await startServer({ services: [service(CalculatorService, calculatorImpl(newLog()))], registry: 'memory://found' });
    await using client = startClient({ registry: 'memory://found', waitForProvidersMs: 2000 });
    assert.equal(await client.proxy(CalculatorService).add(20, 22), 42);
    assert.deepEqual(await new MemoryRegistry('found').services(), [CalculatorService.key.name]);
    await server.close();
    assert.deepEqual(await listed('found', CalculatorService.key.name), [], 'closing the server took its entry out');
  });

  test('namespaces do not see each other', async () => {
    await using server = await startServer({ services: [service(CalculatorService, calculatorImpl(newLog()))], registry: 'memory://team-a' });
    await using elsewhere = startClient({ registry: 'memory://team-b', waitForProvidersMs: 50 });
    await assert.rejects(elsewhere.proxy(CalculatorService).add(1, 2), hasCode(Code.UNAVAILABLE));
    assert.deepEqual((await listed('team-a', CalculatorService.key.name)).map((provider) => provider.address), [server.address]);
  });

  test('clear() forgets what a test left in a namespace, and tells its subscribers', async (t) => {
    const leftBehind = new MemoryRegistry('left');
    const name = uniqueServiceName('Left');
    await leftBehind.register(makeProvider(name, 20111));
    const watcher = new MemoryRegistry('left');
    const recorder = new Recorder();
    t.after(watcher.subscribe({ name }, recorder.onChange));
    await recorder.waitForUrls([`tcp://127.0.0.1:20111/${name}?methods=echo&weight=100&timestamp=1700000000000&serialization=msgpack`]);
    MemoryRegistry.clear('left');
    await recorder.waitForUrls([], 'the cleared namespace to list nothing');
    await watcher.close();
  });

  test('a closed registry refuses to register', async () => {
    const registry = new MemoryRegistry('closed');
    await registry.close();
    await assert.rejects(registry.register(makeProvider(uniqueServiceName('Late'), 20121)), hasCode(Code.FAILED_PRECONDITION));
  });
});

/** What a fresh subscriber to `name` in `namespace` is told first. */
async function listed(namespace: string, name: string) {
  const registry = new MemoryRegistry(namespace);
  try {
    return await new Promise<Provider[]>((resolve) => {
      const stop = registry.subscribe({ name }, (providers) => {
        stop();
        resolve(providers);
      });
    });
  } finally {
    await registry.close();
  }
}
