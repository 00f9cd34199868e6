import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
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
interface TransportFactory {
  server(url: string, context: ServerContext, options: ServerTransportOptions): ServerTransport;
  channel(url: string, options: ChannelOptions): Channel;
  /** False for protocols whose servers are found another way (a broker), not through a registry. */
  announce?: boolean;
}

/** Protocols by URL scheme. Add one here to make `scheme://` addresses work. */
const transports = new Map<string, TransportFactory>([
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
  // Other protocols load their modules only when an address of theirs is used.
  ['amqp', {
    server: (url, context, options) => new LazyServerTransport(async () => new (await import('./amqp/server.js')).AmqpServerTransport(url, context, options)),
    channel: (url, options) => new LazyChannel(url, async () => new (await import('./amqp/client.js')).AmqpChannel(url, options)),
    announce: false,
  }],
  ['http', {
    server: (url, context) => new LazyServerTransport(async () => new (await import('./http/server.js')).HttpServerTransport(url, context)),
    channel: (url, options) => new LazyChannel(url, async () =>
      new (await import('./http/client.js')).HttpChannel(url, { maxResponseBytes: options.maxFrameSize, backoff: options.backoff })),
  }],
  ['grpc', {
    server: (url, context, options) => new LazyServerTransport(async () => new (await import('./grpc/server.js')).GrpcServerTransport(url, context, options)),
    channel: (url, options) => new LazyChannel(url, async () => new (await import('./grpc/client.js')).GrpcChannel(url, options)),
  }],
]);

function factoryFor(url: string): TransportFactory {
  const { protocol } = parseAddress(url);
  const factory = transports.get(protocol);
  if (factory === undefined) {
    throw new RpcError(Code.INVALID_ARGUMENT, `no transport for ${JSON.stringify(url)} (known: ${[...transports.keys()].map((p) => `${p}://`).join(', ')})`);
  }
  return factory;
}

export function createServerTransport(url: string, context: ServerContext, options: ServerTransportOptions): ServerTransport {
  return factoryFor(url).server(url, context, options);
}

/** Whether servers listening on `url` announce themselves in the registry. */
export function isAnnounced(url: string): boolean {
  return factoryFor(url).announce !== false;
}

export function createChannel(url: string, options: ChannelOptions): Channel {
  return factoryFor(url).channel(url, options);
}
