// Switchyard over SOAP: one service with schemas, called through its WSDL by a SOAP client.
//
//   npx tsx examples/soap.ts            # serves, calls itself over soap:// (SOAP 1.1 and 1.2), stops
//   npx tsx examples/soap.ts --serve    # serves on http://127.0.0.1:8081 until Ctrl-C, for curl and SOAP tools
//
// The WSDL is at http://127.0.0.1:8081/soap/demo.Orders?wsdl; docs/soap.md walks through it.
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { Code, RpcError, createClient, createServer, defineService, registerTransport, soapTransport, type Server } from '../src/index.js';

export interface Orders {
  quote(items: Array<{ sku: string; qty: number }>, coupon?: string): Promise<{ total: number; lines: number; validUntil: Date }>;
  reserve(sku: string, qty: number): Promise<bigint>;
}

// The schemas type the WSDL (xsd:double, xsd:long, xsd:dateTime, xsd:integer, …), so SOAP tools send plain elements.
export const OrdersService = defineService<Orders>('demo.Orders', {
  version: '1.0.0',
  methods: {
    quote: {
      args: [z.array(z.object({ sku: z.string(), qty: z.number().int().positive() })), z.string().optional()],
      result: z.object({ total: z.number(), lines: z.number().int(), validUntil: z.date() }),
    },
    reserve: { args: [z.string(), z.number().int()], result: z.bigint() },
  },
});

const PRICES: Record<string, number> = { apple: 0.5, pear: 0.75 };

export const orders: Orders = {
  async quote(items, coupon) {
    const total = items.reduce((sum, item) => sum + (PRICES[item.sku] ?? 1) * item.qty, 0);
    return { total: coupon === 'HALF' ? total / 2 : total, lines: items.length, validUntil: new Date('2030-01-01T00:00:00.000Z') };
  },
  async reserve(sku, qty) {
    if (qty > 10) throw new RpcError(Code.RESOURCE_EXHAUSTED, `only 10 ${sku} left`, { details: { sku, left: 10 } });
    return 9_007_199_254_740_993n; // a reservation id past 2^53: it travels as xsd:integer
  },
};

export async function startSoapExample(listen = 'http://127.0.0.1:8081'): Promise<{ server: Server; address: string }> {
  const server = createServer({ listen: [listen], registry: false });
  server.provide(OrdersService, orders);
  const [address] = await server.listen();
  return { server, address: address! };
}

async function main(): Promise<void> {
  const serve = process.argv.includes('--serve');
  const { server, address } = await startSoapExample(serve ? undefined : 'http://127.0.0.1:0');
  console.log(`serving on ${address}; WSDL at ${address}/soap/demo.Orders?wsdl`);
  if (serve) {
    server.closeOnSignals();
    return;
  }
  // soap:// is a client transport: it reads the WSDL at <address>?wsdl and sends envelopes there.
  registerTransport('soap', soapTransport);
  const soapAddress = `${address.replace(/^http:/, 'soap:')}/soap/demo.Orders`;
  for (const url of [soapAddress, `${soapAddress}?soap=1.2`]) {
    const client = createClient({ url });
    const proxy = client.proxy(OrdersService);
    console.log(url);
    console.log('  quote =', await proxy.quote([{ sku: 'apple', qty: 4 }, { sku: 'pear', qty: 2 }], 'HALF'));
    console.log('  reserve =', await proxy.reserve('apple', 3));
    try {
      await proxy.reserve('apple', 50);
    } catch (error) {
      console.log('  reserve(50) failed:', String(error), (error as RpcError).details);
    }
    await client.close();
  }
  await server.close();
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
