import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { parseAddress } from './address.js';
import { TcpChannel, type TcpChannelOptions } from './tcp/client.js';
import type { ConnectionOptions } from './tcp/connection.js';
import { TcpServerTransport } from './tcp/server.js';
import type { Channel, ServerContext, ServerTransport } from './transport.js';

/** Transport options shared by every protocol; each protocol reads what applies to it. */
export type ServerTransportOptions = ConnectionOptions;
export type ChannelOptions = TcpChannelOptions;

interface TransportFactory {
  server(host: string, port: number, context: ServerContext, options: ServerTransportOptions): ServerTransport;
  channel(address: string, host: string, port: number, options: ChannelOptions): Channel;
}

/** Protocols by URL scheme. Add one here to make `scheme://` addresses work. */
const transports = new Map<string, TransportFactory>([
  ['tcp', {
    server: (host, port, context, options) => new TcpServerTransport(host, port, context, options),
    channel: (address, host, port, options) => new TcpChannel(address, host, port, options),
  }],
]);

function factoryFor(protocol: string, url: string): TransportFactory {
  const factory = transports.get(protocol);
  if (factory === undefined) {
    throw new RpcError(Code.INVALID_ARGUMENT, `no transport for ${JSON.stringify(url)} (known: ${[...transports.keys()].map((p) => `${p}://`).join(', ')})`);
  }
  return factory;
}

export function createServerTransport(url: string, context: ServerContext, options: ServerTransportOptions): ServerTransport {
  const { protocol, host, port } = parseAddress(url);
  return factoryFor(protocol, url).server(host, port, context, options);
}

export function createChannel(url: string, options: ChannelOptions): Channel {
  const { protocol, host, port } = parseAddress(url);
  return factoryFor(protocol, url).channel(url, host, port, options);
}
