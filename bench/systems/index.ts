/**
 * The contract every benchmarked system fulfils, and the table of systems by name.
 *
 * A system is a server that answers `add` and `echo` by calling the given handlers, and a client
 * that calls them. Adding a transport to the benchmark is one file in this folder exporting a
 * `System`, plus one line in `systems` below.
 */

/** The work the server does per call; the worker wraps them to count calls. */
export interface Handlers {
  add(a: number, b: number): number;
  echo(data: Uint8Array): Uint8Array;
}

export interface BenchServer {
  /** Whatever the client of the same system needs to reach this server. */
  readonly address: string;
  close(): Promise<void>;
}

export interface BenchClient {
  add(a: number, b: number): Promise<number>;
  echo(data: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

export interface System {
  /** Starts a server on 127.0.0.1 with a free port. */
  serve(handlers: Handlers): Promise<BenchServer>;
  /** Connects a client; resolves once it can make calls (some systems connect on the first call). */
  connect(address: string): Promise<BenchClient>;
}

/** Systems by name, loaded on demand so a process loads only the one it runs. */
export const systems: Record<string, () => Promise<System>> = {
  raw: async () => (await import('./raw.js')).raw,
  'grpc-js': async () => (await import('./grpc.js')).grpc,
  switchyard: async () => (await import('./switchyard.js')).switchyard,
  'switchyard-tls': async () => (await import('./switchyard-tls.js')).switchyardTls,
  'switchyard-metrics': async () => (await import('./switchyard-metrics.js')).switchyardMetrics,
  'switchyard-traced': async () => (await import('./switchyard-traced.js')).switchyardTraced,
  'switchyard-http': async () => (await import('./http.js')).switchyardHttp,
  'undici-http': async () => (await import('./undici-http.js')).undiciHttp,
  'switchyard-grpc': async () => (await import('./switchyard-grpc.js')).switchyardGrpc,
  'switchyard-amqp': async () => (await import('./amqp.js')).amqp,
  amqplib: async () => (await import('./amqplib.js')).amqplibBaseline,
};

export const systemNames = Object.keys(systems);
