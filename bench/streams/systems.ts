/**
 * The contract of a system in the stream benchmarks, and the systems by name.
 *
 * A system serves three methods, one per kind of stream, and a client that calls them:
 * - `upload` (client stream): the caller sends items, the server answers with how many it read;
 * - `echo` (bidi): the server sends each item back as it reads it;
 * - `download` (server stream): the server sends `count` items of `size` bytes.
 */
import type { Pacer } from './pacer.js';

/** What the server does per item; the benchmark's worker supplies it. */
export interface ServerSide {
  /** Called for every item the server reads (upload, echo) or sends (download). */
  counted(): void;
  /** The pace of one `upload`'s reading, where the server is the last consumer: a new one per call. */
  pacer(): Pacer;
  /** What `download(count, size)` sends. */
  items(count: number, size: number): Iterable<Uint8Array>;
}

export interface StreamServer {
  /** Whatever the client of the same system needs to reach this server. */
  readonly address: string;
  close(): Promise<void>;
}

export type Items = Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

export interface StreamClient {
  upload(items: Items): Promise<number>;
  echo(items: Items): AsyncIterable<Uint8Array>;
  download(count: number, size: number): AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

export interface StreamSystem {
  /** Starts a server on 127.0.0.1 (port 0 where there is a port). */
  serve(side: ServerSide): Promise<StreamServer>;
  /** Connects a client; resolves once it can make calls. */
  connect(address: string): Promise<StreamClient>;
}

/** The systems of `npm run bench:streams`, loaded on demand so a process loads only the one it runs. */
export const streamSystems: Record<string, () => Promise<StreamSystem>> = {
  'grpc-js': async () => (await import('./grpc-js.js')).grpcJsStreams,
  switchyard: async () => (await import('./switchyard.js')).switchyardStreamsOver('tcp://127.0.0.1:0'),
  'switchyard-grpc': async () => (await import('./switchyard.js')).switchyardStreamsOver('grpc://127.0.0.1:0'),
};

export const streamSystemNames = Object.keys(streamSystems);

export async function loadStreamSystem(name: string): Promise<StreamSystem> {
  const load = streamSystems[name];
  if (load === undefined) throw new Error(`unknown system ${JSON.stringify(name)}; known: ${streamSystemNames.join(', ')}`);
  return load();
}
