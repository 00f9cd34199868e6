import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Code } from '../../core/code.js';
import { beforeSending } from '../../core/call-watch.js';
import type { Invocation } from '../../core/invocation.js';
import { RpcError } from '../../core/rpc-error.js';
import { startTimer, stopTimer } from '../../core/timer.js';
import { Backoff, type BackoffOptions } from '../backoff.js';
import { isTlsFailure, tlsFailure } from '../tls/errors.js';
import { clientSecureOptions, SWITCHYARD_ALPN, type ClientTlsOptions } from '../tls/options.js';
import { ByteTally } from '../connection-record.js';
import type { Channel, ChannelInfo, ChannelState } from '../transport.js';
import { ClientConnection, type ClientConnectionOptions } from './client-connection.js';

export interface TcpChannelOptions extends ClientConnectionOptions {
  /** Bounds opening the socket and the settings exchange that follows it. */
  connectTimeoutMs: number;
  backoff: BackoffOptions;
  /** How to reach TLS addresses (`tls://`, `https://`, `grpcs://`, `amqps://`): trusted CAs, a client certificate. */
  tls?: ClientTlsOptions;
  /** The connection pool of `http://` and `https://` channels (read by the http transport only). */
  http?: HttpPoolOptions;
}

/** How many connections an `http://` channel keeps to its server, and how many requests each may carry at once. */
export interface HttpPoolOptions {
  /** Most connections open to one server; calls beyond wait for one. Default 128. */
  connections?: number;
  /** Requests sent on a connection before its first answer; 1 (the default) is no pipelining. */
  pipelining?: number;
}

/**
 * The client side of one `tcp://` (or `tls://`) provider address: one long-lived connection shared
 * by every call to it, opened on first use and again after it is lost, with backoff after failed
 * attempts.
 */
export class TcpChannel implements Channel {
  private current: ClientConnection | undefined;
  private connecting: Promise<ClientConnection> | undefined;
  private readonly leaving = new Set<ClientConnection>();
  private readonly backoff: Backoff;
  private retryAt = 0;
  private lastError: RpcError | undefined;
  private shutdown = false;
  private goAwayReceived = false;
  /** Calls sent through the channel, and the bytes of its closed connections. */
  private calls = 0;
  private readonly closedBytes = new ByteTally();

  constructor(
    readonly address: string,
    private readonly host: string,
    private readonly port: number,
    private readonly options: TcpChannelOptions,
    /** Speak TLS (`tls://`), trusting and presenting what `options.tls` says. */
    private readonly secure = false,
  ) {
    this.backoff = new Backoff(options.backoff);
  }

  get state(): ChannelState {
    if (this.shutdown) return 'SHUTDOWN';
    if (this.current !== undefined) return 'READY';
    if (this.connecting !== undefined) return 'CONNECTING';
    return Date.now() < this.retryAt ? 'TRANSIENT_FAILURE' : 'IDLE';
  }

  get draining(): boolean {
    return this.goAwayReceived;
  }

  call(invocation: Invocation, serviceId: string): Promise<unknown> {
    this.calls++;
    const ready = this.current;
    if (ready !== undefined) return ready.call(invocation, serviceId);
    if (this.shutdown) return Promise.reject(new RpcError(Code.UNAVAILABLE, `channel to ${this.address} is closed`, { unprocessed: true }));
    if (this.state === 'TRANSIENT_FAILURE') {
      return Promise.reject(new RpcError(Code.UNAVAILABLE, `${this.address} unreachable, next attempt in ${this.retryAt - Date.now()} ms: ${this.lastError?.message}`, { unprocessed: true }));
    }
    return beforeSending(this.connect(), invocation).then((connection) => connection.call(invocation, serviceId));
  }

  info(): ChannelInfo {
    let { bytesIn, bytesOut } = this.closedBytes;
    let active = 0;
    for (const connection of this.current === undefined ? this.leaving : [this.current, ...this.leaving]) {
      bytesIn += connection.socket.bytesRead;
      bytesOut += connection.socket.bytesWritten;
      active += connection.active;
    }
    const protocol = this.secure ? 'tls' : 'tcp';
    return { address: this.address, protocol, state: this.state, draining: this.draining, bytesIn, bytesOut, calls: this.calls, active };
  }

  async close(timeoutMs = 5000): Promise<void> {
    this.shutdown = true;
    const connections = [...this.leaving];
    if (this.current !== undefined) connections.push(this.current);
    this.current = undefined;
    await Promise.all(connections.map((connection) => connection.leave(timeoutMs)));
  }

  /**
   * Opens a connection and waits for the server's settings (or, from a revision 1.0 server, its
   * answer to ours), so that the first call is already held to the server's frame limit.
   */
  private connect(): Promise<ClientConnection> {
    if (this.connecting !== undefined) return this.connecting;
    let socket: Socket;
    try {
      socket = this.open();
    } catch (error) {
      // Options that cannot be used (a CA file that cannot be read): the call's mistake, not the server's.
      return Promise.reject(RpcError.from(error, Code.INVALID_ARGUMENT));
    }
    this.connecting = new Promise<ClientConnection>((resolve, reject) => {
      let settled = false;
      const timeoutMs = this.options.connectTimeoutMs;
      const timer = startTimer(timeoutMs, (s: Socket) => s.destroy(new Error(`connect timed out after ${timeoutMs} ms`)), socket);
      const fail = (error: Error, duringSetup = false): void => {
        if (settled) return;
        settled = true;
        stopTimer(timer);
        this.connecting = undefined;
        this.retryAt = Date.now() + this.backoff.next();
        this.lastError = this.failure(error, duringSetup);
        reject(this.lastError);
      };
      socket.once('error', fail);
      // A TLS socket is usable once its handshake is done, not when TCP connects.
      socket.once(this.secure ? 'secureConnect' : 'connect', () => {
        socket.off('error', fail);
        const connection = new ClientConnection(socket, this.address, this.options, {
          ready: () => {
            if (connection.isLeaving) {
              connection.close(new RpcError(Code.UNAVAILABLE, 'the server went away before it was ready'));
              return;
            }
            if (settled) return;
            settled = true;
            stopTimer(timer);
            this.connecting = undefined;
            this.goAwayReceived = false;
            this.backoff.reset();
            if (this.shutdown) {
              void connection.leave(0);
              reject(new RpcError(Code.UNAVAILABLE, `channel to ${this.address} is closed`, { unprocessed: true }));
              return;
            }
            this.current = connection;
            resolve(connection);
          },
          goAway: () => this.detach(connection),
          closed: (reason) => {
            this.closedBytes.retire(socket);
            this.leaving.delete(connection);
            if (this.current === connection) this.current = undefined;
            fail(reason, true);
          },
        });
      });
    });
    return this.connecting;
  }

  /** Opens the socket of a new connection; the in-process transport (src/testing/) opens one in memory. */
  protected open(): Socket {
    if (!this.secure) return netConnect({ host: this.host, port: this.port });
    // Read on every connect, so that a client certificate renewed on disk is used from the next connection.
    const secure = clientSecureOptions(this.options.tls ?? {}, this.host);
    return tlsConnect({ ...secure, host: this.host, port: this.port, ALPNProtocols: [SWITCHYARD_ALPN] });
  }

  /**
   * Why a connection attempt failed, in words that point at the fix: a TLS failure names its
   * cause, and a plaintext connection that the server closed before its settings arrived (what a
   * TLS server does to a plaintext client) says that it may be a TLS port.
   */
  private failure(error: Error, duringSetup: boolean): RpcError {
    // The connection wraps the socket's own error; the TLS code is on that.
    const cause = error instanceof RpcError && error.cause instanceof Error ? error.cause : error;
    if (this.secure && isTlsFailure(cause)) return tlsFailure(cause, this.address);
    // Closed (`connection to … closed`, which has no cause) or reset, rather than a protocol error or silence.
    const code = (cause as { code?: unknown }).code;
    const closedByServer = duringSetup && ((cause === error && error.message.endsWith(' closed')) || code === 'ECONNRESET' || code === 'EPIPE');
    const hint = this.secure
      ? ': after the TLS handshake, this is how a server that requires client certificates turns away a client without a trusted one'
      : ' (a TLS server closes a plaintext connection this way: if it is a TLS port, call it at a tls:// address)';
    const why = closedByServer ? `the server closed the connection during setup, before its settings arrived${hint}` : error.message;
    return new RpcError(Code.UNAVAILABLE, `cannot connect to ${this.address}: ${why}`, { unprocessed: true, cause: error });
  }

  /** The server said GOAWAY: new calls go to a new connection, this one closes once drained. */
  private detach(connection: ClientConnection): void {
    if (this.current === connection) this.current = undefined;
    this.goAwayReceived = true;
    this.leaving.add(connection);
  }
}
