/** Switchyard over HTTP/1.1 + JSON: `createServer` / `createClient` with `http://` addresses (fetch on the client). */
import { createClient, createServer, defineService } from '../../src/index.js';
import type { System } from './index.js';

interface Bench {
  add(a: number, b: number): Promise<number>;
  echo(data: Uint8Array): Promise<Uint8Array>;
}

const BenchService = defineService<Bench>('bench.Bench', { version: '1.0.0', methods: { add: {}, echo: {} } });

export const switchyardHttp: System = {
  async serve(handlers) {
    const server = createServer({ listen: ['http://127.0.0.1:0'], registry: false });
    server.provide(BenchService, {
      add: async (a, b) => handlers.add(a, b),
      echo: async (data) => handlers.echo(data),
    });
    const [address] = await server.listen();
    return { address: address!, close: () => server.close({ timeoutMs: 1000 }) };
  },

  async connect(address) {
    const client = createClient({ url: address });
    const bench = client.proxy(BenchService);
    await bench.add(0, 0);
    return {
      add: (a, b) => bench.add(a, b),
      echo: (data) => bench.echo(data),
      close: () => client.close({ timeoutMs: 1000 }),
    };
  },
};
