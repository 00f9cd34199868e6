import type { ChannelModel } from 'amqplib';
import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Code } from '../../core/code.js';
import type { Logger } from '../../core/logger.js';
import { importOptional } from '../../core/optional-module.js';
import { RpcError, errorMessage } from '../../core/rpc-error.js';
import { startTimer, stopTimer, type Timer } from '../../core/timer.js';
import { Backoff, type BackoffOptions } from '../backoff.js';
import { ByteTally } from '../connection-record.js';
import { clientSecureOptions, type ClientTlsOptions } from '../tls/options.js';
import type { ChannelState } from '../transport.js';
import { brokerError, connectError } from './errors.js';

type Amqplib = typeof import('amqplib');
let amqplib: Promise<Amqplib> | undefined;

/** amqplib (an optional peer dependency), loaded on first use so that programs without amqp:// addresses never load it. */
function loadAmqplib(): Promise<Amqplib> {
  amqplib ??= importOptional<Amqplib>('amqplib', 'amqp://');
  return amqplib;
}

export interface LinkOptions {
  /** The URL amqplib dials. */
  url: string;
  /** For an `amqps://` URL: what to trust and present; read again on every connect, so renewed files are used. */
  tls?: ClientTlsOptions;
  /** Shown by the broker (`rabbitmqctl list_connections client_properties`, management UI). */
  connectionName: string;
  connectTimeoutMs: number;
  backoff: BackoffOptions;
  logger: Logger;
}

export interface LinkHandlers<S> {
  /** Sets up a new connection (channels, topology, consumers); a throw fails the attempt. */
  open(model: ChannelModel): Promise<S>;
  /** The connection of `session` is gone. */
  lost(session: S, reason: RpcError): void;
}

/**
 * One broker connection that comes back by itself: lost connections are replaced at once, failed
 * attempts are retried with backoff, until `close()`. Each connection gets a session of its own.
 */
export class BrokerLink<S> {
  /** Bytes of the connections this link has closed or lost. */
  readonly closedBytes = new ByteTally();
  private session: S | undefined;
  private model: ChannelModel | undefined;
  private attempt: Promise<S> | undefined;
  private retryTimer: Timer | undefined;
  private retryAt = 0;
  private lastError: RpcError | undefined;
  private closed = false;
  private reconnect = true;
  private readonly backoff: Backoff;

  constructor(
    private readonly options: LinkOptions,
    private readonly handlers: LinkHandlers<S>,
  ) {
    this.backoff = new Backoff(options.backoff);
  }

  get state(): ChannelState {
    if (this.closed) return 'SHUTDOWN';
    if (this.session !== undefined) return 'READY';
    if (this.attempt !== undefined) return 'CONNECTING';
    return this.lastError !== undefined && Date.now() < this.retryAt ? 'TRANSIENT_FAILURE' : 'IDLE';
  }

  get current(): S | undefined {
    return this.session;
  }

  get failure(): RpcError | undefined {
    return this.lastError;
  }

  /** The socket of the live connection, read for its byte counts. */
  get socket(): Socket | undefined {
    return this.model === undefined ? undefined : brokerSocket(this.model);
  }

  /** The session of the live connection, connecting first if there is none. */
  connect(): Promise<S> {
    if (this.session !== undefined) return Promise.resolve(this.session);
    if (this.closed) return Promise.reject(new RpcError(Code.UNAVAILABLE, 'connection to the broker is closed', { unprocessed: true }));
    stopTimer(this.retryTimer);
    this.retryTimer = undefined;
    this.attempt ??= this.open().finally(() => {
      this.attempt = undefined;
    });
    return this.attempt;
  }

  /** After a loss, stay disconnected (a server that is draining). */
  stopReconnecting(): void {
    this.reconnect = false;
    stopTimer(this.retryTimer);
    this.retryTimer = undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopReconnecting();
    const model = this.model;
    const session = this.session;
    this.model = undefined;
    this.session = undefined;
    await this.attempt?.catch(() => undefined);
    await model?.close().catch(() => undefined);
    if (model !== undefined) this.closedBytes.retire(brokerSocket(model));
    if (session !== undefined) this.handlers.lost(session, new RpcError(Code.UNAVAILABLE, 'connection to the broker closed'));
  }

  private async open(): Promise<S> {
    let model: ChannelModel | undefined;
    try {
      const { connect } = await loadAmqplib();
      const tls = this.socketTls();
      model = await withTimeout(
        connect(this.options.url, { ...tls, clientProperties: { connection_name: this.options.connectionName }, noDelay: true, timeout: this.options.connectTimeoutMs }),
        this.options.connectTimeoutMs,
      );
      const opened = model;
      coalesceWrites(opened);
      let lostEarly: Error | undefined;
      opened.on('error', (error: unknown) => this.options.logger.debug({ message: errorMessage(error) }, 'broker connection error'));
      opened.on('close', (error?: Error) => {
        if (opened === this.model) this.onClose(opened, error);
        else lostEarly = error ?? new Error('connection closed while it was being set up');
      });
      if (this.closed) throw new RpcError(Code.UNAVAILABLE, 'connection to the broker is closed', { unprocessed: true });
      const session = await this.handlers.open(opened);
      if (this.closed) throw new RpcError(Code.UNAVAILABLE, 'connection to the broker is closed', { unprocessed: true });
      if (lostEarly !== undefined) throw lostEarly;
      this.model = opened;
      this.session = session;
      this.lastError = undefined;
      this.backoff.reset();
      this.options.logger.debug({ connection: this.options.connectionName }, 'connected to the broker');
      return session;
    } catch (error) {
      void model?.close().catch(() => undefined);
      const failure = connectError(error, this.options.url, this.options.tls !== undefined, `cannot connect to the broker at ${this.options.connectionName}`);
      this.lastError = failure;
      this.scheduleRetry();
      throw failure;
    }
  }

  /** amqplib's socket options for TLS (it passes them to `tls.connect`); none for `amqp://`. */
  private socketTls(): ConnectionOptions | undefined {
    if (this.options.tls === undefined) return undefined;
    try {
      return clientSecureOptions(this.options.tls, new URL(this.options.url).hostname.replace(/^\[(.*)\]$/, '$1'));
    } catch (error) {
      const failure = RpcError.from(error, Code.INVALID_ARGUMENT);
      throw new RpcError(failure.code, failure.message, { unprocessed: true, cause: error });
    }
  }

  private onClose(model: ChannelModel, error: Error | undefined): void {
    const session = this.session!;
    this.model = undefined;
    this.session = undefined;
    this.closedBytes.retire(brokerSocket(model));
    const reason = brokerError(error ?? new Error('closed'), 'connection to the broker lost');
    this.options.logger.warn({ connection: this.options.connectionName, message: reason.message }, 'broker connection lost');
    this.handlers.lost(session, reason);
    if (!this.closed && this.reconnect) void this.connect().catch(() => undefined);
  }

  private scheduleRetry(): void {
    const delay = this.backoff.next();
    this.retryAt = Date.now() + delay;
    if (this.closed || !this.reconnect) return;
    this.retryTimer = startTimer(delay, () => {
      this.retryTimer = undefined;
      void this.connect().catch(() => undefined);
    }, undefined)?.unref();
  }
}

/** The socket under an amqplib connection (amqplib keeps it as `connection.stream`); undefined if that ever changes. */
export function brokerSocket(model: ChannelModel): Socket | undefined {
  const stream = (model.connection as unknown as { stream?: Partial<Socket> }).stream;
  return typeof stream?.bytesRead === 'number' ? (stream as Socket) : undefined;
}

interface Writable {
  cork(): void;
  uncork(): void;
}

/**
 * amqplib writes every frame with its own `socket.write`, a system call each with Nagle off. Its
 * multiplexer sends whatever its channels queued in one round per tick; corking the socket around
 * that round turns the round into one `writev`, as Switchyard's TCP transport batches a tick's
 * frames. Without the internals this relies on, frames simply go out one by one as before.
 */
function coalesceWrites(model: ChannelModel): void {
  const connection = model.connection as unknown as { stream?: Partial<Writable>; muxer?: { _readIncoming?: () => void } };
  const socket = connection.stream;
  const muxer = connection.muxer;
  const round = muxer?._readIncoming;
  if (typeof socket?.cork !== 'function' || typeof socket.uncork !== 'function' || typeof round !== 'function') return;
  const stream = socket as Writable;
  muxer!._readIncoming = function (this: unknown) {
    stream.cork();
    try {
      round.call(this);
    } finally {
      stream.uncork();
    }
  };
}

function withTimeout<T extends { close(): Promise<void> }>(pending: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let late = false;
    const timer = startTimer(ms, () => {
      late = true;
      reject(new Error(`no connection within ${ms} ms`));
    }, undefined);
    pending.then(
      (value) => {
        stopTimer(timer);
        if (late) void value.close().catch(() => undefined);
        else resolve(value);
      },
      (error: unknown) => {
        stopTimer(timer);
        reject(error);
      },
    );
  });
}
