// FlatBuffers: a service described by a .fbs rpc_service, served on tcp:// and grpc:// at once and
// called with the flatbuffers serializer over each (docs/flatbuffers.md). The .fbs is compiled by
// flatc when the service is defined: install it first (apt-get install flatbuffers-compiler, or
// scripts/flatc.sh install).
//   npx tsx examples/flatbuffers.ts
import { fileURLToPath } from 'node:url';
import { Code, RpcError, createClient, createServer, defineServiceFromFbs, flatbuffersMessage } from '../src/index.js';

const SCHEMA = fileURLToPath(new URL('./flatbuffers.fbs', import.meta.url));

// Tables as plain objects: 64-bit integers are bigints, enums their names, [ubyte] a Uint8Array.
interface Line { sku?: string; quantity?: number; unitCents?: bigint }
interface Order { id?: bigint; customer?: string; currency?: 'EUR' | 'USD' | 'JPY'; lines?: Line[] }
interface Receipt { orderId: bigint; totalCents: bigint; lineCount: number }
interface Photo { orderId?: bigint; jpeg?: Uint8Array }
interface Orders {
  place(order: Order): Promise<Receipt>;
  track(order: Order): AsyncIterable<Receipt>;
  attach(photo: Photo): Promise<Photo>;
}

// Methods are the rpc names with a lower-case first letter; track streams, as its schema says.
const OrdersService = defineServiceFromFbs<Orders>(SCHEMA, 'shop.Orders', { methods: { place: { timeoutMs: 1000 } } });

const server = createServer({ listen: ['tcp://127.0.0.1:0', 'grpc://127.0.0.1:0'], registry: false, serializers: ['msgpack', 'json', 'flatbuffers'] });
server.provide(OrdersService, {
  async place(order) {
    // The request arrives as FlatBuffers gives it: every field there, left-out ones at their defaults.
    if (order.customer === null) throw new RpcError(Code.INVALID_ARGUMENT, 'an order needs a customer', { details: { field: 'customer' } });
    const lines = order.lines ?? [];
    const total = lines.reduce((sum, line) => sum + BigInt(line.quantity ?? 0) * (line.unitCents ?? 0n), 0n);
    return { orderId: order.id ?? 0n, totalCents: total, lineCount: lines.length };
  },
  async *track(order) {
    for (const step of [1, 2, 3]) yield { orderId: order.id ?? 0n, totalCents: 0n, lineCount: step };
  },
  async attach(photo) {
    // jpeg is a Buffer viewing the received message: no copy was made to read it.
    return { orderId: photo.orderId, jpeg: photo.jpeg };
  },
});
const addresses = await server.listen();

try {
  for (const address of addresses) {
    const client = createClient({ url: address!, serializer: 'flatbuffers' });
    const orders = client.proxy(OrdersService);
    const receipt = await orders.place({ id: 42n, customer: 'Ada', currency: 'EUR', lines: [{ sku: 'A-1', quantity: 2, unitCents: 250n }, { sku: 'B-2', quantity: 1, unitCents: 1999n }] });
    console.log(`${address}: receipt`, receipt);
    for await (const update of orders.track({ id: 42n })) console.log(`${address}: tracking`, update.lineCount);
    const photo = await orders.attach({ orderId: 42n, jpeg: new Uint8Array(64 * 1024).fill(0xff) });
    console.log(`${address}: photo of ${photo.jpeg!.byteLength} bytes echoed`);
    // What the table cannot hold is refused before anything is sent, naming the field.
    await orders.place({ id: -1n }).catch((error: unknown) => console.log(`${address}: refused:`, (error as RpcError).message));
    await orders.place({ id: 1n }).catch((error: unknown) => console.log(`${address}: ${(error as RpcError).message}`, (error as RpcError).details));
    await client.close();
  }
  // One table on its own, outside a call: the same bytes a call carries.
  const OrderMessage = flatbuffersMessage<Order>(SCHEMA, 'shop.Order');
  const bytes = OrderMessage.encode({ id: 7n, lines: [{ sku: 'C-3', quantity: 1, unitCents: 5n }] });
  console.log(`an order as FlatBuffers: ${bytes.byteLength} bytes`, OrderMessage.decode(bytes));
} finally {
  await server.close();
}
