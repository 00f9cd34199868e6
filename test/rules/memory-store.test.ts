// The rule store of the test kit's memory:// registry: the contract, in this process's memory.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryRegistry } from '../../src/testing/index.js';
import { openRegistry } from '../../src/registry/index.js';
import { TextRecorder, ruleStoreContract, uniqueKey } from './store-contract.js';

const namespace = `rules-${process.pid}`;

ruleStoreContract('memory', async () => new MemoryRegistry(namespace));

test('a memory:// address opens a registry whose rules the namespace shares', async (t) => {
  const { registry } = await openRegistry(`memory://${namespace}`);
  t.after(() => registry.close());
  const id = { key: uniqueKey('Address'), kind: 'tag-router' } as const;
  const writer = new MemoryRegistry(namespace);
  t.after(() => writer.close());
  await writer.rules.put(id, 'force: true\n');
  assert.equal(await registry.rules?.get(id), 'force: true\n');
});

test('MemoryRegistry.clear forgets the rules of the namespace and their watchers hear it', async (t) => {
  const own = `rules-clear-${process.pid}`;
  const registry = new MemoryRegistry(own);
  t.after(() => registry.close());
  const id = { key: uniqueKey('Clear'), kind: 'configurators' } as const;
  await registry.rules.put(id, 'a: 1\n');
  const seen = new TextRecorder();
  t.after(registry.rules.watch(id, seen.onChange));
  await seen.waitFor('a: 1\n');
  MemoryRegistry.clear(own);
  await seen.waitFor(undefined, 'the rule to be forgotten');
  assert.deepEqual(await registry.rules.list(), []);
});
