// Traffic rules obeyed while everything runs: two providers of the `inventory` application and a
// client of the `shop` application, steered by Dubbo's rule documents written into their registry
// (as `switchyard rules put` or Dubbo Admin would). Run: `npx tsx examples/rules.ts`
// docs/rules.md explains each rule, and "How consumers and providers apply rules" the wiring.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RpcError, codeName, createClient, createEmbeddedRegistry, createServer, defineService, serviceRuleKey, type Server } from '../src/index.js';

interface Inventory {
  whoami(): Promise<string>;
  slow(ms: number): Promise<string>;
}
const InventoryService = defineService<Inventory>('demo.Inventory', { version: '1.0.0', methods: { whoami: {}, slow: {} } });

// A registry folder of this run only; the operator's view of it writes the rules.
const dir = await mkdtemp(join(tmpdir(), 'switchyard-rules-'));
const registry = `embedded://${dir}`;
const operator = createEmbeddedRegistry({ dir });
const serviceKey = serviceRuleKey(InventoryService.key); // 'demo.Inventory:1.0.0:', the key Dubbo gives its rules

async function startProvider(label: string): Promise<{ server: Server; address: string }> {
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry, application: 'inventory', warmupMs: 0 });
  server.provide(InventoryService, { whoami: async () => label, slow: (ms) => sleep(ms, label) });
  const [url] = await server.listen();
  return { server, address: url!.replace('tcp://', '') }; // rules name providers by host:port
}
const a = await startProvider('a');
const b = await startProvider('b');

const client = createClient({ registry, application: 'shop' });
const inventory = client.proxy(InventoryService);

/** Who answered `count` calls. */
async function tally(count: number, call = () => inventory.whoami()): Promise<string> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const answer = await call().catch((error: unknown) => codeName(RpcError.from(error).code));
    seen[answer] = (seen[answer] ?? 0) + 1;
  }
  return Object.entries(seen).sort().map(([who, n]) => `${who}: ${n}`).join(', ');
}

/** Rules reach running processes within moments; this waits until `check` sees the change (at most 3 s). */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (const end = Date.now() + 3000; Date.now() < end && !(await check()); ) await sleep(20);
}

console.log('no rule:                 ', await tally(200));

// A consumer-side override: weights 90 and 10 for the two providers.
await operator.rules.put({ key: serviceKey, kind: 'configurators' }, `configVersion: v2.7
scope: service
key: demo.Inventory:1.0.0
configs:
  - side: consumer
    providerAddresses: ["${a.address}"]
    parameters: { weight: 90 }
  - side: consumer
    providerAddresses: ["${b.address}"]
    parameters: { weight: 10 }
  - side: consumer
    parameters: { slow.timeout: 200 }
`);
await until(async () => Number(/a: (\d+)/.exec(await tally(50))?.[1]) >= 40);
console.log('weights 90/10:           ', await tally(200));
console.log('slow(1000), timeout 200: ', await tally(1, () => inventory.slow(1000)));

// A tag rule of the providers' application: instance a is `gray`.
await operator.rules.put({ key: 'inventory', kind: 'tag-router' }, `key: inventory
force: false
tags:
  - name: gray
    addresses: ["${a.address}"]
`);
const gray = () => inventory.whoami.with({ metadata: { 'dubbo.tag': 'gray' } })();
await until(async () => (await tally(20, gray)) === 'a: 20');
console.log('tagged gray:             ', await tally(50, gray));
console.log('untagged:                ', await tally(50));
await operator.rules.delete({ key: 'inventory', kind: 'tag-router' });

// A provider-side override: b takes itself out (it registers again with disabled=true).
await operator.rules.put({ key: serviceKey, kind: 'configurators' }, `configVersion: v2.7
scope: service
key: demo.Inventory:1.0.0
configs:
  - side: provider
    addresses: ["${b.address}"]
    parameters: { disabled: true }
`);
await until(async () => (await tally(50)) === 'a: 50');
console.log('b disabled by its rule:  ', await tally(100));

// Deleting the rule restores what the code configured.
await operator.rules.delete({ key: serviceKey, kind: 'configurators' });
await until(async () => (await tally(50)).includes('b'));
console.log('rules deleted:           ', await tally(200));

await client.close();
await Promise.all([a.server.close(), b.server.close()]);
await operator.close();
await rm(dir, { recursive: true, force: true });
