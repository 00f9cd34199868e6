import { ExtensionTable } from '../core/extension-table.js';
import type { TransportCallOptions } from '../core/invocation.js';
import { parseAddress } from './address.js';
import { LazyChannel, LazyServerTransport } from './lazy.js';
import { TcpChannel, type TcpChannelOptions } from './tcp/client.js';
import { TcpServerTransport, type TcpServerOptions } from './tcp/server.js';
import type { Channel, ServerContext, ServerTransport } from './transport.js';

/** Transport options shared by every protocol; each protocol reads what applies to it. */
export type ServerTransportOptions = TcpServerOptions;
export type ChannelOptions = TcpChannelOptions;

/**
 * One protocol: how to serve on an address and how to reach one. Each gets the whole URL, so a
 * protocol can read what it needs from it (credentials, query options).
 */
export interface TransportFactory {
  server(url: string, context: ServerContext, options: ServerTransportOptions): ServerTransport;
  channel(url: string, options: ChannelOptions): Channel;
  /** False for protocols whose servers are found another way (a broker), not through a registry. */
  announce?: boolean;
}

/** Protocols by URL scheme; `registerTransport` adds one. */
const transports = new ExtensionTable<TransportFactory>('transport', 'scheme', isTransportFactory, [
  ['tcp', {
    server: (url, context, options) => {
      const { host, port } = parseAddress(url);
      return new TcpServerTransport(host, port, context, options);
    },
    channel: (url, options) => {
      const { host, port } = parseAddress(url);
      return new TcpChannel(url, host, port, options);
    },
  }],
  // The same protocol inside TLS, with the certificates of the `tls` option.
  ['tls', {
    server: (url, context, options) => {
      const { host, port } = parseAddress(url);
      return new TcpServerTransport(host, port, context, options, true);
    },
    channel: (url, options) => {
      const { host, port } = parseAddress(url);
      return new TcpChannel(url, host, port, options, true);
    },
  }],
  // Other protocols load their modules only when an address of theirs is used.
  ['amqp', {
    server: (url, context, options) => new LazyServerTransport(async () => new (await import('./amqp/server.js')).AmqpServerTransport(url, context, options)),
    channel: (url, options) => new LazyChannel(url, async () => new (await import('./amqp/client.js')).AmqpChannel(url, options)),
    announce: false,
  }],
  // The same broker protocol inside TLS; the server's `tls` option is what it trusts of the broker.
  ['amqps', {
    server: (url, context, options) => new LazyServerTransport(async () => new (await import('./amqp/server.js')).AmqpServerTransport(url, context, options)),
    channel: (url, options) => new LazyChannel(url, async () => new (await import('./amqp/client.js')).AmqpChannel(url, options)),
    announce: false,
  }],
  // Node's HTTP client is undici's (http/undici-sender.ts); the browser build sends with fetch.
  ['http', {
    server: (url, context) => new LazyServerTransport(async () => new (await import('./http/server.js')).HttpServerTransport(url, context)),
    channel: (url, options) => new LazyChannel(url, () => httpChannel(url, options)),
  }],
  ['https', {
    server: (url, context, options) => new LazyServerTransport(async () => new (await import('./http/server.js')).HttpServerTransport(url, context, options.tls)),
    channel: (url, options) => new LazyChannel(url, () => httpChannel(url, options)),
  }],
  ['grpc', {
    server: (url, context, options) => new LazyServerTransport(async () => new (await import('./grpc/server.js')).GrpcServerTransport(url, context, options)),
    channel: (url, options) => new LazyChannel(url, async () => new (await import('./grpc/client.js')).GrpcChannel(url, options)),
  }],
  // gRPC over TLS (ALPN h2); the scheme alone tells the server and the channel which.
  ['grpcs', {
    server: (url, context, options) => new LazyServerTransport(async () => new (await import('./grpc/server.js')).GrpcServerTransport(url, context, options)),
    channel: (url, options) => new LazyChannel(url, async () => new (await import('./grpc/client.js')).GrpcChannel(url, options)),
  }],
]);

/** An `http://` or `https://` channel over undici, with the client's TLS options for `https://`. */
async function httpChannel(url: string, options: ChannelOptions): Promise<Channel> {
  const [{ HttpChannel }, { UndiciSender }] = await Promise.all([import('./http/client.js'), import('./http/undici-sender.js')]);
  const sender = new UndiciSender(url, { tls: options.tls, connectTimeoutMs: options.connectTimeoutMs, connections: options.http?.connections, pipelining: options.http?.pipelining });
  return new HttpChannel(url, { maxResponseBytes: options.maxFrameSize, backoff: options.backoff, sender });
}

/**
 * Makes `scheme://` addresses work in `listen` and `url` options and in registry entries. A scheme is
 * registered once: a taken one (a built-in included) is refused with INVALID_ARGUMENT, as is one that
 * is not a lower-case URL scheme. Addresses need a port (`scheme://host:port`).
 *
 * ```ts
 * registerTransport('quic', { server: (url, context, options) => new QuicServer(url, context), channel: (url) => new QuicChannel(url) });
 * ```
 */
export function registerTransport(scheme: string, factory: TransportFactory): void {
  transports.register(scheme, factory);
}

/**
 * The entries of call options that belong to a transport, those under a registered scheme
 * (`amqp: {...}`); undefined when there are none, so an ordinary call allocates nothing for them.
 */
export function transportOptionsOf(options: TransportCallOptions): TransportCallOptions | undefined {
  let picked: Record<string, unknown> | undefined;
  for (const key in options) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined && transports.has(key)) (picked ??= {})[key] = value;
  }
  return picked;
}

function factoryFor(url: string): TransportFactory {
  return transports.get(parseAddress(url).protocol, url);
}

function isTransportFactory(value: unknown): value is TransportFactory {
  const factory = value as Partial<TransportFactory> | null;
  return typeof factory === 'object' && factory !== null && typeof factory.server === 'function' && typeof factory.channel === 'function';
}

export function createServerTransport(url: string, context: ServerContext, options: ServerTransportOptions): ServerTransport {
  return factoryFor(url).server(url, context, options);
}

/** Whether this process can dial addresses of `scheme` (`tcp`, `grpc`, …, or one registered). */
export function hasTransport(scheme: string): boolean {
  return transports.has(scheme.toLowerCase());
}

/** Whether servers listening on `url` announce themselves in the registry. */
export function isAnnounced(url: string): boolean {
  return factoryFor(url).announce !== false;
}

export function createChannel(url: string, options: ChannelOptions): Channel {
  return factoryFor(url).channel(url, options);
}
