import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Code } from '../../src/index.js';
import { flatbuffersMessage } from '../../src/serialization/flatbuffers/message.js';
import { Flags, FrameType } from '../../src/transport/tcp/frame.js';
import { grpcFrame, grpcHeaders, rawRequest, rawSession } from '../grpc/fixtures/raw-h2.js';
import { onCleanup } from '../support/calculator.js';
import { RawPeer, hostPort, requestFrame } from '../support/raw-socket.js';
import { fixtures } from './flatbuffers-fixtures.js';
import { OrdersService, orderOf, startOrders, type OrderInput } from './flatbuffers-orders.js';

// What travels is the FlatBuffer of the method's table and nothing else, so any FlatBuffers peer can read it.
const Order = flatbuffersMessage<OrderInput>(fixtures.shop, 'shop.Order');
const Receipt = flatbuffersMessage(fixtures.shop, 'shop.Receipt');
const FLATBUFFERS = 2;
const JSON_ID = 1;

describe('FlatBuffers on the wire', () => {
  test('tcp://: a request body is the request table, a response body the response table, both plain FlatBuffers', async (t) => {
    const { address } = await startOrders(t, 'tcp://127.0.0.1:0');
    const peer = await RawPeer.connect(address);
    onCleanup(t, () => peer.destroy());
    peer.write(requestFrame({ service: OrdersService.id, method: 'place', requestId: 1, serializer: FLATBUFFERS, body: Order.encode(orderOf(9n, 2)) }));
    const response = await peer.waitFor((frame) => frame.type === FrameType.RESPONSE && frame.requestId === 1);
    assert.equal(response.flags & Flags.ERROR, 0);
    assert.equal(response.serializer, FLATBUFFERS);
    assert.deepStrictEqual(Receipt.decode(response.body), { orderId: 9n, totalCents: 199n + 2n * 200n, lineCount: 2 });
  });

  test('tcp://: a malformed request body is answered INVALID_ARGUMENT (in JSON, as errors are), and the connection goes on', async (t) => {
    const { address, log } = await startOrders(t, 'tcp://127.0.0.1:0');
    const peer = await RawPeer.connect(address);
    onCleanup(t, () => peer.destroy());
    const good = Order.encode(orderOf(1n, 3));
    const bodies = [Buffer.from('garbage!garbage!'), good.subarray(0, good.length - 9), Buffer.from([0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4])];
    for (const [i, body] of bodies.entries()) {
      peer.write(requestFrame({ service: OrdersService.id, method: 'place', requestId: 10 + i, serializer: FLATBUFFERS, body }));
      const response = await peer.waitFor((frame) => frame.type === FrameType.RESPONSE && frame.requestId === 10 + i);
      assert.equal(response.flags & Flags.ERROR, Flags.ERROR);
      assert.equal(response.serializer, JSON_ID);
      const error = JSON.parse(response.body.toString('utf8')) as { code: number; message: string };
      assert.equal(error.code, Code.INVALID_ARGUMENT);
      assert.match(error.message, /cannot decode arguments: cannot read shop\.Order/);
    }
    assert.equal(log.orders.length, 0, 'no handler ran');
    peer.write(requestFrame({ service: OrdersService.id, method: 'place', requestId: 20, serializer: FLATBUFFERS, body: good }));
    const response = await peer.waitFor((frame) => frame.type === FrameType.RESPONSE && frame.requestId === 20);
    assert.equal(Receipt.decode(response.body).lineCount, 3);
  });

  test('grpc://: content-type application/grpc+flatbuffers, each message the FlatBuffer of its table', async (t) => {
    const { address } = await startOrders(t, 'grpc://127.0.0.1:0');
    const session = await rawSession(t, hostPort(address.replace('grpc:', 'http:')).port);
    const headers = grpcHeaders(`/${OrdersService.id}/place`, { 'content-type': 'application/grpc+flatbuffers' });
    const response = await rawRequest(session, headers, grpcFrame(Buffer.from(Order.encode(orderOf(4n, 1)))));
    assert.equal(response.grpcStatus, 0, response.grpcMessage);
    assert.equal(response.headers['content-type'], 'application/grpc+flatbuffers');
    assert.equal(response.body[0], 0, 'not compressed');
    assert.deepStrictEqual(Receipt.decode(response.body.subarray(5, 5 + response.body.readUInt32BE(1))), { orderId: 4n, totalCents: 199n, lineCount: 1 });
    const refused = await rawRequest(session, headers, grpcFrame(Buffer.from('not a flatbuffer')));
    assert.equal(refused.grpcStatus, Code.INVALID_ARGUMENT);
    assert.match(refused.grpcMessage ?? '', /cannot read shop\.Order/);
  });
});
