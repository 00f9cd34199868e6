import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Code, RpcError, createClient, defineService, type ClientOptions, type ServerOptions } from '../../src/index.js';
import { hasCode, rejection } from '../support/assertions.js';
import { certificates } from '../support/certs.js';
import { onCleanup } from '../support/calculator.js';
import { OrdersService, orderOf, ordersClient, startOrders, type Order } from './flatbuffers-orders.js';

/** Each transport FlatBuffers can be chosen on, with what its server and client need. */
function transports(): Array<{ name: string; listen: string; server?: Partial<ServerOptions>; client?: Partial<ClientOptions> }> {
  const certs = certificates();
  return [
    { name: 'tcp', listen: 'tcp://127.0.0.1:0' },
    { name: 'tls', listen: 'tls://127.0.0.1:0', server: { tls: { key: certs.serverKey, cert: certs.serverCert } }, client: { tls: { ca: certs.caCert } } },
    { name: 'grpc', listen: 'grpc://127.0.0.1:0' },
  ];
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

for (const transport of transports()) {
  describe(`a .fbs service over ${transport.name}:// with serializer flatbuffers`, () => {
    const start = async (t: Parameters<typeof startOrders>[0]) => {
      const { address, log } = await startOrders(t, transport.listen, transport.server);
      return { log, orders: ordersClient(t, address, transport.client).proxy(OrdersService) };
    };

    test('a unary call: an order of 20 lines in, a receipt out; the handler gets the table as FlatBuffers gives it', async (t) => {
      const { log, orders } = await start(t);
      const receipt = await orders.place(orderOf(42n, 20));
      const expected = orderOf(42n, 20).lines!.reduce((sum, line) => sum + BigInt(line.quantity!) * BigInt(line.unitCents!), 0n);
      assert.deepStrictEqual(receipt, { orderId: 42n, totalCents: expected, lineCount: 20 });
      const seen = log.orders[0] as Order;
      assert.equal(seen.id, 42n);
      assert.equal(seen.currency, 'EUR');
      assert.deepStrictEqual(seen.lines[19], { sku: 'SKU-1019', title: 'Item number 19 with a longer title', quantity: 5, unitCents: 218n });
      const empty = await orders.place({});
      assert.deepStrictEqual(empty, { orderId: 0n, totalCents: 0n, lineCount: 0 });
      assert.deepStrictEqual(log.orders[1], { id: 0n, customer: null, currency: 'EUR', lines: [], note: null });
    });

    test('server, client and bidi streams carry one table per item', async (t) => {
      const { orders } = await start(t);
      assert.deepStrictEqual((await collect(orders.track({ id: 7n }))).map((receipt) => receipt.lineCount), [1, 2, 3]);
      const many = await orders.placeMany([orderOf(1n, 2), orderOf(2n, 3)]);
      assert.equal(many.lineCount, 5);
      const haggled = await collect(orders.haggle([orderOf(1n, 1), orderOf(2n, 1)]));
      assert.deepStrictEqual(haggled.map((receipt) => [receipt.orderId, receipt.totalCents]), [[1n, 198n], [2n, 198n]]);
    });

    test('bytes travel as [ubyte]: 64 KiB echoed whole', async (t) => {
      const { orders } = await start(t);
      const data = Buffer.alloc(64 * 1024, 0xab);
      data[0] = 1;
      const echoed = await orders.echo({ data });
      assert.ok(Buffer.isBuffer(echoed.data));
      assert.ok(data.equals(echoed.data));
    });

    test("a handler's error arrives with its code, message and details", async (t) => {
      const { orders } = await start(t);
      const error = await rejection(orders.place({ customer: 'nobody' }));
      assert.equal(error.code, Code.NOT_FOUND);
      assert.equal(error.message, 'no such customer');
      assert.deepEqual(error.details, { customer: 'nobody' });
    });

    test('a request the table cannot hold fails INVALID_ARGUMENT before it is sent, and the connection goes on', async (t) => {
      const { log, orders } = await start(t);
      const error = await rejection(orders.place({ id: 1n, coupon: 'FREE' } as never));
      assert.equal(error.code, Code.INVALID_ARGUMENT);
      assert.match(error.message, /cannot carry the field coupon, which shop\.Order does not have/);
      assert.equal(error.unprocessed, true);
      assert.equal(log.orders.length, 0, 'no handler ran');
      await assert.rejects(orders.place({ lines: [{ quantity: -1 }] }), hasCode(Code.INVALID_ARGUMENT, /lines\[0\]\.quantity: FlatBuffers cannot carry -1 in a uint field/));
      assert.equal((await orders.place(orderOf(3n, 1))).lineCount, 1);
    });

    test('a method of a service not defined from a .fbs is refused before it is sent: FlatBuffers needs its schema', async (t) => {
      interface Plain { ping(): Promise<string> }
      const PlainService = defineService<Plain>('test.Plain', { methods: { ping: {} } });
      const { address } = await startOrders(t, transport.listen, transport.server);
      const plain = ordersClient(t, address, transport.client).proxy(PlainService);
      await assert.rejects(plain.ping(), hasCode(Code.INVALID_ARGUMENT, /FlatBuffers cannot carry the messages of test\.Plain\.ping: its service is not defined from a \.fbs/));
    });
  });
}

describe('a .fbs service with other serializers', () => {
  for (const serializer of ['msgpack', 'json'] as const) {
    test(`over tcp:// with ${serializer} the tables travel as plain objects, and the handler still gets them as FlatBuffers gives them`, async (t) => {
      const { address, log } = await startOrders(t, 'tcp://127.0.0.1:0');
      const orders = ordersClient(t, address, { serializer }).proxy(OrdersService);
      const receipt = await orders.place({ id: 5, lines: [{ sku: 'A', quantity: 2, unitCents: 100 }] });
      assert.equal(BigInt(receipt.totalCents), 200n);
      assert.deepStrictEqual(log.orders[0], { id: 5n, customer: null, currency: 'EUR', lines: [{ sku: 'A', title: null, quantity: 2, unitCents: 100n }], note: null });
      await assert.rejects(orders.place({ id: -1 }), hasCode(Code.INVALID_ARGUMENT, /cannot carry -1 in a ulong field/));
    });
  }

  test('over http:// the tables travel as JSON, and the handler still gets them as FlatBuffers gives them', async (t) => {
    const { address, log } = await startOrders(t, 'http://127.0.0.1:0');
    const orders = ordersClient(t, address, { serializer: 'json' }).proxy(OrdersService);
    const receipt = await orders.place({ id: 6n, currency: 'JPY', lines: [{ quantity: 3, unitCents: 10n }] });
    assert.deepStrictEqual(receipt, { orderId: 6n, totalCents: 30n, lineCount: 1 });
    assert.deepStrictEqual(log.orders[0], { id: 6n, customer: null, currency: 'JPY', lines: [{ sku: null, title: null, quantity: 3, unitCents: 10n }], note: null });
    await assert.rejects(orders.place({ currency: 'GBP' } as never), hasCode(Code.INVALID_ARGUMENT, /Currency has no value named "GBP"/));
  });

  test('a server that has not enabled flatbuffers refuses it with INVALID_ARGUMENT, and msgpack still works', async (t) => {
    const { address } = await startOrders(t, 'tcp://127.0.0.1:0', { serializers: ['msgpack', 'json'] });
    const orders = ordersClient(t, address).proxy(OrdersService);
    await assert.rejects(orders.place({}), hasCode(Code.INVALID_ARGUMENT, /serializer id 2 is not enabled on this server/));
    const fallback = createClient({ url: address });
    onCleanup(t, () => fallback.close());
    assert.equal((await fallback.proxy(OrdersService).place({ id: 1n })).orderId, 1n);
  });

  test('a request that is no table (null) is refused with INVALID_ARGUMENT before it is sent', async (t) => {
    const { address } = await startOrders(t, 'tcp://127.0.0.1:0');
    const orders = ordersClient(t, address).proxy(OrdersService);
    const error = await rejection(orders.place(null as never));
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.match(error.message, /cannot carry null as the table shop\.Order/);
    assert.equal(error.unprocessed, true);
  });
});
