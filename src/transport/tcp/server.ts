import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, TLSSocket } from 'node:tls';
import { Code } from '../../core/code.js';
import { RpcError, errorMessage } from '../../core/rpc-error.js';
import { listenerTls, serverSecureOptions, SWITCHYARD_ALPN, type ServerTlsOptions } from '../tls/options.js';
import { certificatePrincipal } from '../tls/peer.js';
import { reloadOnChange } from '../tls/reload.js';
import type { ConnectionInfo, ServerContext, ServerTransport } from '../transport.js';
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

/**
 * Serves the call table on one `tcp://host:port` address, or on a `tls://host:port` one: the same
 * protocol inside TLS, whose clients may identify themselves with a certificate (mTLS).
 */
export class TcpServerTransport implements ServerTransport {
  private server: NetServer | undefined;
  private readonly live = new Set<ServerConnection>();
  /** Every accepted socket, TLS handshakes in progress included, for `forceClose`. */
  private readonly sockets = new Set<Socket>();
  private draining = false;
  /** The address `listen()` bound, as it resolved it. */
  protected listener = '';
  private allClosed: (() => void) | undefined;
  private stopReload: () => void = () => undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly context: ServerContext,
    private readonly options: TcpServerOptions,
    /** Speak TLS (`tls://`), with the certificates of `options.tls`. */
    private readonly secure = false,
  ) {
    const max = options.maxCallsPerConnection;
    if (max !== undefined && !(Number.isSafeInteger(max) && max >= 1)) {
      throw new RpcError(Code.INVALID_ARGUMENT, `maxCallsPerConnection must be a whole number of at least 1, not ${String(max)}`);
    }
  }

  listen(): Promise<string> {
    const scheme = this.secure ? 'tls' : 'tcp';
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    let server: NetServer;
    try {
      server = this.secure ? this.secureServer(listenerTls(this.options.tls, `tls://${host}:${this.port}`)) : createNetServer((socket) => this.accept(socket));
    } catch (error) {
      return Promise.reject(RpcError.from(error, Code.INVALID_ARGUMENT));
    }
    this.server = server;
    this.context.limits?.guard(server, 'tcp');
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.off('error', reject);
        const bound = server.address();
        const port = typeof bound === 'object' && bound !== null ? bound.port : this.port;
        this.listener = `${scheme}://${host}:${port}`;
        resolve(this.listener);
      });
    });
  }

  drain(): Promise<void> {
    this.draining = true;
    this.stopReload();
    this.server?.close();
    const done = new Promise<void>((resolve) => {
      this.allClosed = resolve;
    });
    for (const connection of this.live) connection.goAway();
    this.checkClosed();
    return done;
  }

  forceClose(): void {
    this.stopReload();
    this.server?.close();
    for (const connection of this.live) connection.destroy();
    for (const socket of this.sockets) socket.destroy();
  }

  connections(): ConnectionInfo[] {
    const protocol = this.secure ? 'tls' : 'tcp';
    return [...this.live].map((connection) => connection.stats.info(protocol, this.listener, this.draining));
  }

  private secureServer(tls: ServerTlsOptions): NetServer {
    const server = createTlsServer({ ...serverSecureOptions(tls), ALPNProtocols: [SWITCHYARD_ALPN] }, (socket) => this.accept(socket));
    this.stopReload = reloadOnChange(tls, server, this.context.logger);
    // A client that fails its handshake (untrusted certificate, plaintext, a scanner) is the client's
    // problem, and it is told so by the handshake; the server only notes it.
    server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
      this.context.logger.debug({ remote: socket.remoteAddress, message: errorMessage(error) }, 'TLS handshake with a client failed');
    });
    return server;
  }

  /** Serves a connection; the in-process transport (src/testing/) hands in connections made in memory. */
  protected accept(socket: Socket): void {
    if (this.draining) {
      socket.destroy();
      return;
    }
    // Read once per connection: every call on it comes from the same certificate.
    const peer = socket instanceof TLSSocket ? certificatePrincipal(socket) : undefined;
    const maxCalls = this.options.maxCallsPerConnection ?? DEFAULT_MAX_CALLS_PER_CONNECTION;
    const connection = new ServerConnection(socket, this.context, this.options, maxCalls, () => {
      this.live.delete(connection);
      this.checkClosed();
    }, peer);
    this.live.add(connection);
  }

  private checkClosed(): void {
    if (this.draining && this.live.size === 0) this.allClosed?.();
  }
}
