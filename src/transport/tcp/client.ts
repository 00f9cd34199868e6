import { connect as netConnect, type Socket } from 'node:net';
import { Code } from '../../core/code.js';
import { beforeSending } from '../../core/call-watch.js';
import type { Invocation } from '../../core/invocation.js';
import { RpcError } from '../../core/rpc-error.js';
import { startTimer, stopTimer } from '../../core/timer.js';
import { Backoff, type BackoffOptions } from '../backoff.js';
import type { ClientTlsOptions } from '../tls/options.js';
import type { Channel, ChannelState } from '../transport.js';
import { ClientConnection, type ClientConnectionOptions } from './client-connection.js';

export interface TcpChannelOptions extends ClientConnectionOptions {
  /** Bounds opening the socket and the settings exchange that follows it. */
  connectTimeoutMs: number;
  backoff: BackoffOptions;
  /** How to reach TLS addresses (`tls://`, `https://`, `grpcs://`, `amqps://`): trusted CAs, a client certificate. */
  tls?: ClientTlsOptions;
}

/**
 * The client side of one `tcp://` provider address: one long-lived connection shared by every
 * call to it, opened on first use and again after it is lost, with backoff after failed attempts.
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

  constructor(
    readonly address: string,
    private readonly host: string,
    private readonly port: number,
    private readonly options: TcpChannelOptions,
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
    const ready = this.current;
    if (ready !== undefined) return ready.call(invocation, serviceId);
    if (this.shutdown) return Promise.reject(new RpcError(Code.UNAVAILABLE, `channel to ${this.address} is closed`, { unprocessed: true }));
    if (this.state === 'TRANSIENT_FAILURE') {
      return Promise.reject(new RpcError(Code.UNAVAILABLE, `${this.address} unreachable, next attempt in ${this.retryAt - Date.now()} ms: ${this.lastError?.message}`, { unprocessed: true }));
    }
    return beforeSending(this.connect(), invocation).then((connection) => connection.call(invocation, serviceId));
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
    this.connecting ??= new Promise<ClientConnection>((resolve, reject) => {
      const socket = netConnect({ host: this.host, port: this.port });
      const timeoutMs = this.options.connectTimeoutMs;
      const timer = startTimer(timeoutMs, (s: Socket) => s.destroy(new Error(`connect timed out after ${timeoutMs} ms`)), socket);
      let settled = false;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        stopTimer(timer);
        this.connecting = undefined;
        this.retryAt = Date.now() + this.backoff.next();
        this.lastError = new RpcError(Code.UNAVAILABLE, `cannot connect to ${this.address}: ${error.message}`, { unprocessed: true, cause: error });
        reject(this.lastError);
      };
      socket.once('error', fail);
      socket.once('connect', () => {
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
            this.leaving.delete(connection);
            if (this.current === connection) this.current = undefined;
            fail(reason);
          },
        });
      });
    });
    return this.connecting;
  }

  /** The server said GOAWAY: new calls go to a new connection, this one closes once drained. */
  private detach(connection: ClientConnection): void {
    if (this.current === connection) this.current = undefined;
    this.goAwayReceived = true;
    this.leaving.add(connection);
  }
}
