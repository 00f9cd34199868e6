/**
 * Switchyard over `grpc://`: the service defined from bench.proto (the file the grpc-js baseline
 * serves), so both speak the same Protobuf messages over HTTP/2; every option at its default.
 */
import { fileURLToPath } from 'node:url';
import { createClient, createServer, defineServiceFromProto } from '../../src/index.js';
import type { System } from './index.js';

interface Bench {
  add(request: { a: number; b: number }): Promise<{ result: number }>;
  echo(request: { data: Uint8Array }): Promise<{ data: Uint8Array }>;
}

const BenchService = defineServiceFromProto<Bench>(fileURLToPath(new URL('../bench.proto', import.meta.url)), 'bench.Bench');

export const switchyardGrpc: System = {
  async serve(handlers) {
    const server = createServer({ listen: ['grpc://127.0.0.1:0'], registry: false });
    server.provide(BenchService, {
      add: async ({ a, b }) => ({ result: handlers.add(a, b) }),
      echo: async ({ data }) => ({ data: handlers.echo(data) }),
    });
    const [address] = await server.listen();
    return { address: address!, close: () => server.close({ timeoutMs: 1000 }) };
  },

  async connect(address) {
    const client = createClient({ url: address });
    const bench = client.proxy(BenchService);
    // The connection opens on the first call; make it now so warm-up starts connected.
    await bench.add({ a: 0, b: 0 });
    return {
      add: async (a, b) => (await bench.add({ a, b })).result,
      echo: async (data) => (await bench.echo({ data })).data,
      close: () => client.close({ timeoutMs: 1000 }),
    };
  },
};
