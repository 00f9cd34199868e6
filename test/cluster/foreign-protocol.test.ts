import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClient, createServer, parseProviderUrl } from '../../src/index.js';
import { CalculatorService, calculatorImpl, newLog, onCleanup } from '../support/calculator.js';
import { MemoryRegistry } from '../support/memory-registry.js';

/**
 * A registry shared with other frameworks lists entries this client cannot dial (Dubbo's own
 * `dubbo://` protocol, say): they are passed over, and the providers it can reach serve the calls.
 */
test('entries of a protocol without a transport here are passed over, not fatal to the whole list', async (t) => {
  const space = `foreign-${process.pid}`;
  const registry = new MemoryRegistry(space);
  onCleanup(t, () => registry.close());
  await registry.register(parseProviderUrl(`dubbo://127.0.0.1:20880/${CalculatorService.key.name}?version=${CalculatorService.key.version ?? ''}&methods=add`));

  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: new MemoryRegistry(space), warmupMs: 0 });
  server.provide(CalculatorService, calculatorImpl(newLog()));
  onCleanup(t, () => server.close({ timeoutMs: 1000 }));
  await server.listen();

  const client = createClient({ registry: new MemoryRegistry(space), cluster: 'failfast' });
  onCleanup(t, () => client.close({ timeoutMs: 1000 }));
  const calc = client.proxy(CalculatorService);
  for (let i = 0; i < 10; i++) assert.equal(await calc.add(i, 1), i + 1);
});
