/**
 * Switchyard in the stream benchmarks: one service with a method per kind of stream, defined in
 * TypeScript (msgpack; over `grpc://` it travels as `application/grpc+msgpack`), default options.
 */
import { createClient, createServer, defineService, type Server } from '../../src/index.js';
import type { ServerSide, StreamSystem } from './systems.js';

interface StreamBench {
  upload(items: AsyncIterable<Uint8Array>): Promise<number>;
  echo(items: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array>;
  download(count: number, size: number): AsyncIterable<Uint8Array>;
  ping(): Promise<void>;
}

export const StreamBenchService = defineService<StreamBench>('bench.StreamBench', {
  version: '1.0.0',
  methods: { upload: { stream: 'client' }, echo: { stream: 'bidi' }, download: { stream: 'server' }, ping: {} },
});

function provideStreamBench(server: Server, side: ServerSide): void {
  server.provide(StreamBenchService, {
    async upload(items) {
      const pacer = side.pacer();
      let count = 0;
      for await (const item of items) {
        count++;
        side.counted();
        const wait = pacer.took(item.byteLength);
        if (wait !== undefined) await wait;
      }
      return count;
    },
    async *echo(items) {
      for await (const item of items) {
        side.counted();
        yield item;
      }
    },
    async *download(count, size) {
      for (const item of side.items(count, size)) {
        side.counted();
        yield item;
      }
    },
    async ping() {},
  });
}

/** The stream service served on `listen` (port 0, or an `amqp://` broker's exchange) and called through the same scheme. */
export function switchyardStreamsOver(listen: string): StreamSystem {
  return {
    async serve(side) {
      const server = createServer({ listen: [listen], registry: false });
      provideStreamBench(server, side);
      const [bound] = await server.listen();
      // An amqp:// listener shows its address without the broker's credentials, which the client needs.
      const address = /^amqps?:/.test(listen) ? listen : bound!;
      return { address, close: () => server.close({ timeoutMs: 1000 }) };
    },
    async connect(address) {
      const client = createClient({ url: address });
      const proxy = client.proxy(StreamBenchService);
      // The connection opens on the first call; make it now so that the run starts connected.
      await proxy.ping();
      return {
        upload: (items) => proxy.upload(items as AsyncIterable<Uint8Array>),
        echo: (items) => proxy.echo(items as AsyncIterable<Uint8Array>),
        download: (count, size) => proxy.download(count, size),
        close: () => client.close({ timeoutMs: 1000 }),
      };
    },
  };
}
