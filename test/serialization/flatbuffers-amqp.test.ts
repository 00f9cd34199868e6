// A .fbs service over amqp:// with serializer flatbuffers: requests and replies travel as the
// method's tables (content type application/x-flatbuffers), errors as the transport writes them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Code } from '../../src/index.js';
import { hasCode } from '../support/assertions.js';
import { BrokerScope, ensureRabbitMQ } from '../support/rabbitmq.js';
import { onCleanup } from '../support/calculator.js';
import { OrdersService, orderOf, ordersClient, startOrders, type Order } from './flatbuffers-orders.js';

describe('a .fbs service over amqp:// with serializer flatbuffers', () => {
  test('an order of 20 lines in, a receipt out; 64 KiB of bytes echoed; a handler\'s error arrives with its code', async (t) => {
    await ensureRabbitMQ();
    const scope = new BrokerScope().uses(OrdersService.id);
    onCleanup(t, () => scope.cleanup());
    const { log } = await startOrders(t, scope.url({ server: 'orders' }));
    const orders = ordersClient(t, scope.url()).proxy(OrdersService);

    const receipt = await orders.place(orderOf(42n, 20));
    assert.equal(receipt.orderId, 42n);
    assert.equal(receipt.lineCount, 20);
    assert.equal((log.orders[0] as Order).lines[19]!.sku, 'SKU-1019');

    const data = Buffer.alloc(64 * 1024, 0xab);
    const echoed = await orders.echo({ data });
    assert.ok(Buffer.isBuffer(echoed.data));
    assert.equal(Buffer.compare(echoed.data as Buffer, data), 0);

    await assert.rejects(orders.place({ ...orderOf(1n, 1), customer: 'nobody' }), hasCode(Code.NOT_FOUND, /no such customer/));
  });
});
