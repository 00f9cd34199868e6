/**
 * Run-time schemas: a service typed from zod schemas, whose server checks every call's arguments
 * before the implementation runs. Starts a server and a client in this process, makes a few calls,
 * and exits.
 *
 *   npx tsx examples/schemas.ts
 */
import { z } from 'zod';
import { RpcError, createClient, createServer, defineService } from '../src/index.js';

const Order = z.object({
  sku: z.string().regex(/^[A-Z]{3}-\d{3}$/, 'a SKU looks like ABC-123'),
  quantity: z.number().int().positive(),
  note: z.string().trim().max(40).optional(),
});

// No interface: the service's type is read from the schemas, in their output types.
//   { add(a: number, b: number): Promise<number>; place(order: {...}, express: boolean): Promise<{...}>;
//     prices(skus: AsyncIterable<string>): AsyncIterable<number> }
export const ShopService = defineService('demo.Shop', {
  version: '1.0.0',
  methods: {
    add: { args: [z.number(), z.number()], result: z.number() },
    // `express` defaults to false when the caller leaves it out.
    place: { args: [Order, z.boolean().default(false)], result: z.object({ id: z.string(), total: z.number() }), checkResult: true },
    // A bidi stream: the one schema checks each request item.
    prices: { stream: 'bidi', args: [z.string().toUpperCase()], result: z.number() },
  },
});

const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false });
server.provide(ShopService, {
  async add(a, b) {
    return a + b;
  },
  async place(order, express) {
    // `order` has passed its schema: sku matches, quantity is a positive whole number, note is trimmed.
    return { id: `${order.sku}/${order.quantity}${express ? '/express' : ''}`, total: order.quantity * 9.5 };
  },
  async *prices(skus) {
    for await (const sku of skus) yield sku.startsWith('ABC') ? 9.5 : 12;
  },
});
const [address] = await server.listen();
const client = createClient({ url: address! });
const shop = client.proxy(ShopService);

try {
  console.log('add(2, 3) =', await shop.add(2, 3));
  console.log('place:', await shop.place({ sku: 'ABC-123', quantity: 2, note: '  gift wrap ' }, true));

  // Arguments that break the schemas are refused on the server, before `place` runs.
  try {
    await shop.place({ sku: 'abc', quantity: 0 }, false);
  } catch (error) {
    if (!(error instanceof RpcError)) throw error;
    console.log(`refused: ${error.toString()}`);
    for (const issue of error.details.issues as Array<{ path: Array<string | number>; message: string }>) {
      console.log(`  at ${JSON.stringify(issue.path)}: ${issue.message}`);
    }
  }

  const prices: number[] = [];
  for await (const price of shop.prices(['abc-123', 'xyz-999'])) prices.push(price);
  console.log('prices:', prices);
} finally {
  await client.close();
  await server.close();
}
