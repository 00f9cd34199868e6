// A zod schema refuses bad arguments with INVALID_ARGUMENT before the handler runs, on each of the
// four transports, and the handler gets the schema's outputs; the conformance rows show the same
// with a library-free schema.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { z } from 'zod';
import { Code, createClient, createServer, defineService, schemaIssuesOf, type ServiceProxy } from '../../src/index.js';
import { recordEscapes, rejection } from '../support/assertions.js';
import { onCleanup } from '../support/calculator.js';
import { BrokerScope, ensureRabbitMQ } from '../support/rabbitmq.js';

const Orders = defineService('test.schema.Orders', {
  methods: {
    order: { args: [z.object({ sku: z.string().regex(/^[A-Z]{3}-\d+$/), qty: z.number().int().positive() }), z.string().trim().toLowerCase().default('standard')] },
  },
});
type OrdersProxy = ServiceProxy<typeof Orders extends { __type?: infer T } ? T : never>;

/** A server providing Orders on `transport` and a proxy of it; `seen` gets what the handler was given. */
async function serveOrders(t: TestContext, transport: string, seen: unknown[]): Promise<OrdersProxy> {
  let listen = `${transport}://127.0.0.1:0`;
  let clientUrl: string | undefined;
  if (transport === 'amqp') {
    await ensureRabbitMQ();
    const scope = new BrokerScope().uses(Orders.id);
    onCleanup(t, () => scope.cleanup());
    listen = scope.url({ server: 'orders' });
    clientUrl = scope.url();
  }
  const server = createServer({ registry: false, listen: [listen] });
  server.provide(Orders, {
    order: async (item, shipping) => {
      seen.push([item, shipping]);
      return `${item.qty} x ${item.sku} by ${shipping}`;
    },
  });
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [bound] = await server.listen();
  const client = createClient({ url: clientUrl ?? bound!, cluster: 'failfast', circuitBreaker: false });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  return client.proxy(Orders) as OrdersProxy;
}

describe('a zod schema on every transport', () => {
  for (const transport of ['tcp', 'http', 'grpc', 'amqp']) {
    it(`over ${transport}: bad arguments are INVALID_ARGUMENT with the issues, and the handler does not run`, async (t) => {
      const escaped = recordEscapes(t);
      const seen: unknown[] = [];
      const orders = await serveOrders(t, transport, seen);
      assert.equal(await orders.order({ sku: 'ABC-1', qty: 2 }, '  EXPRESS '), '2 x ABC-1 by express');
      assert.equal(await (orders.order as (...args: unknown[]) => Promise<unknown>)({ sku: 'ABC-1', qty: 1 }), '1 x ABC-1 by standard', 'the default applies');
      const error = await rejection((orders.order as (...args: unknown[]) => Promise<unknown>)({ sku: 'abc', qty: 0 }, 7));
      assert.equal(error.code, Code.INVALID_ARGUMENT);
      assert.deepEqual(schemaIssuesOf(error)?.map((issue) => issue.path), [[0, 'sku'], [0, 'qty'], [1]]);
      assert.equal(seen.length, 2, 'only the good calls reached the handler');
      assert.deepEqual(escaped, []);
    });
  }
});
