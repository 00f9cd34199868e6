/** Switchyard itself: `createServer` / `createClient` over `tcp://`, default options (msgpack). */
import { createClient, createServer, defineService, type ClientOptions, type Server } from '../../src/index.js';
import type { BenchClient, Handlers, System } from './index.js';

interface Bench {
  add(a: number, b: number): Promise<number>;
  echo(data: Uint8Array): Promise<Uint8Array>;
}

export const BenchService = defineService<Bench>('bench.Bench', { version: '1.0.0', methods: { add: {}, echo: {} } });

/** Serves the bench service on `server` through the worker's handlers. */
export function provideBench(server: Server, handlers: Handlers): void {
  server.provide(BenchService, {
    add: async (a, b) => handlers.add(a, b),
    echo: async (data) => handlers.echo(data),
  });
}

/** A client of the bench service at `address`, whatever its transport. */
export async function connectBench(address: string, options: Omit<ClientOptions, 'url'> = {}): Promise<BenchClient> {
  const client = createClient({ ...options, url: address });
  const bench = client.proxy(BenchService);
  // The connection opens on the first call; make it now so warm-up starts connected.
  await bench.add(0, 0);
  return {
    add: (a, b) => bench.add(a, b),
    echo: (data) => bench.echo(data),
    close: () => client.close({ timeoutMs: 1000 }),
  };
}

/** The bench service served on `listen` (port 0) and called through the same scheme. */
export function switchyardOver(listen: string): System {
  return {
    async serve(handlers) {
      const server = createServer({ listen: [listen], registry: false });
      provideBench(server, handlers);
      const [address] = await server.listen();
      return { address: address!, close: () => server.close({ timeoutMs: 1000 }) };
    },
    connect: (address) => connectBench(address),
  };
}

export const switchyard: System = switchyardOver('tcp://127.0.0.1:0');
