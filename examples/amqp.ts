// RPC through RabbitMQ: call, cast, fanout and targeted calls, as docs/amqp.md describes them.
// Needs a broker: `rabbitmq-server -detached` (guest/guest on 127.0.0.1:5672), or AMQP_URL.
//
//   npx tsx examples/amqp.ts
import { Code, RpcError, createClient, createServer, currentCall, defineService } from '../src/index.js';

interface Inventory {
  /** Reads are safe to run twice: marked idempotent. */
  count(item: string): Promise<number>;
  reserve(item: string, quantity: number): Promise<string>;
  /** A one-way notice: a cast. */
  restock(item: string, quantity: number): Promise<void>;
  /** Clears a server's cache: sent to all of them with `fanout`. */
  flushCache(): Promise<void>;
}

const InventoryService = defineService<Inventory>('shop.Inventory', {
  version: '1.0.0',
  methods: {
    count: { idempotent: true },
    reserve: { timeoutMs: 2000 },
    restock: { oneWay: true },
    flushCache: { oneWay: true },
  },
});

const broker = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const stock = new Map([['apple', 10]]);

function inventoryOn(name: string): Inventory {
  return {
    async count(item) {
      return stock.get(item) ?? 0;
    },
    async reserve(item, quantity) {
      const left = stock.get(item) ?? 0;
      if (left < quantity) throw new RpcError(Code.FAILED_PRECONDITION, `only ${left} ${item} left`);
      stock.set(item, left - quantity);
      return `${name} reserved ${quantity} ${item} for ${currentCall().metadata.get('x-customer') ?? 'someone'}`;
    },
    async restock(item, quantity) {
      stock.set(item, (stock.get(item) ?? 0) + quantity);
      console.log(`${name}: restocked ${quantity} ${item}`);
    },
    async flushCache() {
      console.log(`${name}: cache flushed`);
    },
  };
}

// Two servers on one topic; `server=` names each for targeted calls, `prefetch` caps its concurrency,
// `maxQueueLength` makes an overloaded topic refuse calls at once (RESOURCE_EXHAUSTED).
const servers = ['warehouse-1', 'warehouse-2'].map((name) => {
  const server = createServer({ listen: [`${broker}/?exchange=shop&server=${name}&prefetch=16&maxQueueLength=1000`], registry: false });
  server.provide(InventoryService, inventoryOn(name));
  return server;
});
for (const server of servers) console.log('listening on', (await server.listen())[0]);

const client = createClient({ url: `${broker}/?exchange=shop` });
const inventory = client.proxy(InventoryService);

console.log('call:', await inventory.count('apple'));
console.log('call:', await inventory.reserve.with({ metadata: { 'x-customer': 'ada' } })('apple', 3));
await inventory.restock('pear', 5); // cast: one of the two servers takes it
await inventory.flushCache.with({ amqp: { fanout: true } })(); // fanout: both servers take it
console.log('targeted:', await inventory.reserve.with({ amqp: { targetServer: 'warehouse-2' } })('apple', 1));
try {
  await inventory.reserve('apple', 100);
} catch (error) {
  console.log('error:', String(error));
}

await new Promise((resolve) => setTimeout(resolve, 200)); // let the one-way calls land
await client.close();
for (const server of servers) await server.close();
// The last server out deletes the topic's queues, so a later call fails fast:
const late = createClient({ url: `${broker}/?exchange=shop` });
await late.proxy(InventoryService).count('apple').catch((error: RpcError) => console.log('no server:', String(error)));
await late.close();
