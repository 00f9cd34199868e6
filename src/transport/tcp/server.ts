import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { Code } from '../../core/code.js';
import { RpcError } from '../../core/rpc-error.js';
import type { ServerTlsOptions } from '../tls/options.js';
import type { ServerContext, ServerTransport } from '../transport.js';
import type { ConnectionOptions } from './connection.js';
import { ServerConnection } from './server-connection.js';

/** Calls whose handlers may run at once on one connection unless configured otherwise. */
export const DEFAULT_MAX_CALLS_PER_CONNECTION = 4096;

export interface TcpServerOptions extends ConnectionOptions {
  /**
   * Calls whose handlers may run at once on one connection (default 4096). A request past it is
   * refused at once with RESOURCE_EXHAUSTED, marked unprocessed, without running its handler.
   */
  maxCallsPerConnection?: number;
  /** Certificates of the TLS listeners (`tls://`, `https://`, `grpcs://`); required by them. */
  tls?: ServerTlsOptions;
}

/** Serves the call table on one `tcp://host:port` address. */
export class TcpServerTransport implements ServerTransport {
  private readonly server: NetServer;
  private readonly connections = new Set<ServerConnection>();
  private draining = false;
  private allClosed: (() => void) | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly context: ServerContext,
    private readonly options: TcpServerOptions,
  ) {
    const max = options.maxCallsPerConnection;
    if (max !== undefined && !(Number.isSafeInteger(max) && max >= 1)) {
      throw new RpcError(Code.INVALID_ARGUMENT, `maxCallsPerConnection must be a whole number of at least 1, not ${String(max)}`);
    }
    this.server = createNetServer((socket) => this.accept(socket));
  }

  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.host, () => {
        this.server.off('error', reject);
        const bound = this.server.address();
        const port = typeof bound === 'object' && bound !== null ? bound.port : this.port;
        const host = this.host.includes(':') ? `[${this.host}]` : this.host;
        resolve(`tcp://${host}:${port}`);
      });
    });
  }

  drain(): Promise<void> {
    this.draining = true;
    this.server.close();
    const done = new Promise<void>((resolve) => {
      this.allClosed = resolve;
    });
    for (const connection of this.connections) connection.goAway();
    this.checkClosed();
    return done;
  }

  forceClose(): void {
    this.server.close();
    for (const connection of this.connections) connection.destroy();
  }

  private accept(socket: Socket): void {
    if (this.draining) {
      socket.destroy();
      return;
    }
    const maxCalls = this.options.maxCallsPerConnection ?? DEFAULT_MAX_CALLS_PER_CONNECTION;
    const connection = new ServerConnection(socket, this.context, this.options, maxCalls, () => {
      this.connections.delete(connection);
      this.checkClosed();
    });
    this.connections.add(connection);
  }

  private checkClosed(): void {
    if (this.draining && this.connections.size === 0) this.allClosed?.();
  }
}
