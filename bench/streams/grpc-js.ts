/**
 * Baseline: `@grpc/grpc-js` client-, bidi- and server-streaming rpcs over HTTP/2, the service
 * loaded from streams.proto with `@grpc/proto-loader`, every option at its default. Writers wait
 * for `drain` whenever `write` returns false, which is how grpc-js applies backpressure.
 */
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import * as grpcJs from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Items, StreamSystem } from './systems.js';

interface Chunk {
  data: Uint8Array;
}
interface Count {
  count: number;
}
interface DownloadRequest {
  count: number;
  size: number;
}

/** The stub the generated client constructor makes, typed by hand. */
interface StreamStub extends grpcJs.Client {
  Upload(callback: (error: grpcJs.ServiceError | null, response?: Count) => void): grpcJs.ClientWritableStream<Chunk>;
  Echo(): grpcJs.ClientDuplexStream<Chunk, Chunk>;
  Download(request: DownloadRequest): grpcJs.ClientReadableStream<Chunk>;
}

function loadService(): grpcJs.ServiceClientConstructor {
  // '../streams/' finds the file from this folder and from the bundle's (bench/.build/) alike.
  const definition = protoLoader.loadSync(fileURLToPath(new URL('../streams/streams.proto', import.meta.url)), { defaults: true });
  const bench = grpcJs.loadPackageDefinition(definition).bench as grpcJs.GrpcObject;
  return bench.StreamBench as grpcJs.ServiceClientConstructor;
}

/** Writes every item, waiting for `drain` when the stream's buffer is full, then ends the stream. */
async function writeAll(stream: grpcJs.ClientWritableStream<Chunk> | grpcJs.ClientDuplexStream<Chunk, Chunk>, items: Items, failed: Promise<never>): Promise<void> {
  for await (const data of items) {
    if (!stream.write({ data })) await Promise.race([once(stream, 'drain'), failed]);
  }
  stream.end();
}

/** The same on the server side, where a cancelled call never drains. */
async function send(stream: grpcJs.ServerWritableStream<DownloadRequest, Chunk> | grpcJs.ServerDuplexStream<Chunk, Chunk>, data: Uint8Array): Promise<void> {
  if (stream.write({ data })) return;
  // The signal takes off whichever listener did not fire, or every item would leave one behind.
  const waiting = new AbortController();
  const cancelled = once(stream, 'cancelled', { signal: waiting.signal }).then(() => {
    throw new Error('cancelled');
  });
  try {
    await Promise.race([once(stream, 'drain', { signal: waiting.signal }), cancelled]);
  } finally {
    waiting.abort();
  }
}

/**
 * The messages a server reads. A plain `for await` destroys the stream when it ends, and a duplex
 * call destroyed that way never sends its status: the caller would wait forever.
 */
function messages(call: grpcJs.ServerReadableStream<Chunk, Count> | grpcJs.ServerDuplexStream<Chunk, Chunk>): AsyncIterable<Chunk> {
  return call.iterator({ destroyOnReturn: false }) as AsyncIterable<Chunk>;
}

export const grpcJsStreams: StreamSystem = {
  async serve(side) {
    const server = new grpcJs.Server();
    server.addService(loadService().service, {
      Upload: (call: grpcJs.ServerReadableStream<Chunk, Count>, callback: grpcJs.sendUnaryData<Count>) => {
        void (async () => {
          const pacer = side.pacer();
          let count = 0;
          for await (const { data } of messages(call)) {
            count++;
            side.counted();
            const wait = pacer.took(data.byteLength);
            if (wait !== undefined) await wait;
          }
          return count;
        })().then(
          (count) => callback(null, { count }),
          (error: unknown) => callback(error as grpcJs.ServiceError),
        );
      },
      Echo: (call: grpcJs.ServerDuplexStream<Chunk, Chunk>) => {
        void (async () => {
          for await (const { data } of messages(call)) {
            side.counted();
            await send(call, data);
          }
          call.end();
        })().catch(() => call.destroy());
      },
      Download: (call: grpcJs.ServerWritableStream<DownloadRequest, Chunk>) => {
        void (async () => {
          for (const data of side.items(call.request.count, call.request.size)) {
            side.counted();
            await send(call, data);
          }
          call.end();
        })().catch(() => call.destroy());
      },
    });
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', grpcJs.ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error)));
    });
    return {
      address: `127.0.0.1:${port}`,
      close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
    };
  },

  async connect(address) {
    const Stub = loadService();
    const stub = new Stub(address, grpcJs.credentials.createInsecure()) as unknown as StreamStub;
    await new Promise<void>((resolve, reject) => stub.waitForReady(Date.now() + 5000, (error) => (error === undefined ? resolve() : reject(error))));
    return {
      upload(items) {
        let fail: (error: Error) => void = () => {};
        const failed = new Promise<never>((_, reject) => (fail = reject));
        failed.catch(() => {});
        const answer = new Promise<number>((resolve, reject) => {
          const call = stub.Upload((error, response) => {
            if (error !== null) {
              fail(error);
              reject(error);
            } else resolve(response!.count);
          });
          writeAll(call, items, failed).catch((error: unknown) => {
            call.cancel();
            reject(error as Error);
          });
        });
        return answer;
      },
      async *echo(items) {
        const call = stub.Echo();
        const failed = once(call, 'error').then(([error]) => {
          throw error as Error;
        });
        failed.catch(() => {});
        const writing = writeAll(call, items, failed);
        writing.catch(() => call.cancel());
        try {
          for await (const { data } of call as AsyncIterable<Chunk>) yield data;
          await writing;
        } finally {
          call.cancel();
        }
      },
      async *download(count, size) {
        const call = stub.Download({ count, size });
        try {
          for await (const { data } of call as AsyncIterable<Chunk>) yield data;
        } finally {
          call.cancel();
        }
      },
      close: async () => stub.close(),
    };
  },
};
