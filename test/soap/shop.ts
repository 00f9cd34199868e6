import { z } from 'zod';
import { Code, defineService, RpcError } from '../../src/index.js';

/** A service with schemas: its WSDL has real XSD types, as the soap package needs to type what it sends and reads. */
export interface Shop {
  total(items: Array<{ name: string; price: number; qty: number }>, coupon?: string): Promise<{ total: number; count: number; at: Date }>;
  check(id: bigint, flag: boolean): Promise<string>;
  reserve(sku: string, qty: number): Promise<number>;
  forget(key: string): Promise<void>;
  echo(value: unknown): Promise<unknown>;
}

const Item = z.object({ name: z.string(), price: z.number(), qty: z.number().int() });

export const ShopService = defineService<Shop>('demo.Shop', {
  version: '1.0.0',
  methods: {
    total: { args: [z.array(Item), z.string().optional()], result: z.object({ total: z.number(), count: z.number().int(), at: z.date() }) },
    check: { args: [z.bigint(), z.boolean()], result: z.string() },
    reserve: { args: [z.string(), z.number().int()], result: z.number().int() },
    forget: { args: [z.string()] },
    echo: {},
  },
});

export const shop: Shop = {
  async total(items, coupon) {
    const sum = items.reduce((total, item) => total + item.price * item.qty, 0);
    return { total: coupon === 'HALF' ? sum / 2 : sum, count: items.length, at: new Date('2024-02-29T12:00:00.000Z') };
  },
  async check(id, flag) {
    return `${typeof id} ${id}, ${typeof flag} ${flag}`;
  },
  async reserve(sku, qty) {
    if (qty > 2) throw new RpcError(Code.FAILED_PRECONDITION, `only 2 of ${sku} left`, { details: { sku, left: 2 } });
    return qty;
  },
  async forget() {},
  async echo(value) {
    return value;
  },
};
