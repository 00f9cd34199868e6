import type { TestContext } from 'node:test';
import { Code, RpcError, createClient, createServer, type ClientOptions, type ServerOptions } from '../../src/index.js';
import { defineServiceFromFbs } from '../../src/serialization/flatbuffers/service.js';
import { onCleanup } from '../support/calculator.js';
import { ensureFlatc, fixtures } from './flatbuffers-fixtures.js';

ensureFlatc();

/** The tables of test/fixtures/flatbuffers/shop.fbs as callers write them: any field may be left out. */
export interface LineInput { sku?: string; title?: string; quantity?: number; unitCents?: bigint | number }
export interface OrderInput { id?: bigint | number; customer?: string; currency?: 'EUR' | 'USD' | 'JPY'; lines?: LineInput[]; note?: string | null }
/** As they arrive: every field present. */
export interface Line { sku: string | null; title: string | null; quantity: number; unitCents: bigint }
export interface Order { id: bigint; customer: string | null; currency: string | number; lines: Line[]; note: string | null }
export interface Receipt { orderId: bigint; totalCents: bigint; lineCount: number }

export interface Orders {
  place(order: OrderInput): Promise<Receipt>;
  track(order: OrderInput): AsyncIterable<Receipt>;
  placeMany(orders: AsyncIterable<OrderInput>): Promise<Receipt>;
  haggle(orders: AsyncIterable<OrderInput>): AsyncIterable<Receipt>;
  echo(blob: { data: Uint8Array }): Promise<{ data: Uint8Array }>;
}

export const OrdersService = defineServiceFromFbs<Orders>(fixtures.shop, 'shop.Orders');

/** What the handlers were given, in order. */
export interface OrdersLog {
  orders: unknown[];
}

function receiptOf(order: Order): Receipt {
  const total = order.lines.reduce((sum, line) => sum + BigInt(line.quantity) * line.unitCents, 0n);
  return { orderId: order.id, totalCents: total, lineCount: order.lines.length };
}

/** The handlers: receipts computed from the orders; the customer `nobody` is NOT_FOUND with details. */
export function ordersImpl(log: OrdersLog): Orders {
  return {
    async place(input) {
      const order = input as Order;
      log.orders.push(order);
      if (order.customer === 'nobody') throw new RpcError(Code.NOT_FOUND, 'no such customer', { details: { customer: order.customer } });
      return receiptOf(order);
    },
    async *track(input) {
      const order = input as Order;
      log.orders.push(order);
      for (let step = 1; step <= 3; step++) yield { orderId: order.id, totalCents: BigInt(step), lineCount: step };
    },
    async placeMany(orders) {
      let total = 0n;
      let count = 0;
      for await (const input of orders) {
        const order = input as Order;
        log.orders.push(order);
        const receipt = receiptOf(order);
        total += receipt.totalCents;
        count += receipt.lineCount;
      }
      return { orderId: 0n, totalCents: total, lineCount: count };
    },
    async *haggle(orders) {
      for await (const input of orders) {
        const order = input as Order;
        log.orders.push(order);
        yield { ...receiptOf(order), totalCents: receiptOf(order).totalCents - 1n };
      }
    },
    async echo(blob) {
      return blob;
    },
  };
}

/** An order of `count` lines, each with strings and numbers. */
export function orderOf(id: bigint, count: number): OrderInput {
  const lines: LineInput[] = [];
  for (let i = 0; i < count; i++) lines.push({ sku: `SKU-${1000 + i}`, title: `Item number ${i} with a longer title`, quantity: 1 + (i % 5), unitCents: 199n + BigInt(i) });
  return { id, customer: 'Ada Lovelace', currency: 'EUR', lines, note: 'leave at the door' };
}

/** A server providing the Orders service on `listen`, closed when the test ends. */
export async function startOrders(t: TestContext, listen: string, options: Partial<ServerOptions> = {}): Promise<{ address: string; log: OrdersLog }> {
  const log: OrdersLog = { orders: [] };
  const server = createServer({ registry: false, serializers: ['msgpack', 'json', 'flatbuffers'], ...options, listen: [listen] });
  server.provide(OrdersService, ordersImpl(log));
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  return { address: address!, log };
}

/** A client of `address`, closed when the test ends. */
export function ordersClient(t: TestContext, address: string, options: Partial<ClientOptions> = {}) {
  const client = createClient({ url: address, serializer: 'flatbuffers', ...options });
  onCleanup(t, () => client.close());
  return client;
}
