/**
 * The sender of Node's `http://` and `https://` channels: undici's `dispatch()` over a keep-alive
 * pool of connections to the channel's one server (client-pool.ts), a request at a time on each (no
 * pipelining by default). Much cheaper per call than `fetch`, which builds WHATWG Request, Headers and stream
 * objects around the same client. Node only: registry.ts imports this file on the first call to an
 * http(s) address, and the browser build never does.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import { buildConnector, errors, type Dispatcher } from 'undici';
import { parseAddress } from '../address.js';
import { clientSecureOptions, type ClientTlsOptions } from '../tls/options.js';
import type { Metadata } from '../../core/metadata.js';
import { readHeaderObjectMetadata } from './headers.js';
import { ClientPool } from './client-pool.js';
import { tooLarge } from './response-body.js';
import type { Abortable, ChunkReader, HttpSender, RequestControl, SentResponse } from './sender.js';

const { RequestAbortedError } = errors;

export interface UndiciSenderOptions {
  /** Trusted CAs and the client's certificate, for `https://`. */
  tls?: ClientTlsOptions;
  /** Bounds opening a connection, a TLS handshake included. Default 10 s. */
  connectTimeoutMs?: number;
  /** Most connections open to the server at once; calls beyond wait for one. Default 128. */
  connections?: number;
  /** Requests sent on a connection before its first answer; 1 (the default) is no pipelining. */
  pipelining?: number;
}

/** The defaults of `UndiciSenderOptions`, listed in docs/http.md. */
export const DEFAULT_CONNECTIONS = 128;
export const DEFAULT_PIPELINING = 1;

/**
 * Sends to the server of `address`. Certificates are read here, once per channel; a client that
 * must pick up renewed ones is made again.
 *
 * ```ts
 * const channel = new HttpChannel(url, { sender: new UndiciSender(url, { connections: 16 }) });
 * ```
 */
export class UndiciSender implements HttpSender {
  private readonly pool: ClientPool;
  /** Open connections, whose counters are read on demand; closed ones are added up below. */
  private readonly sockets = new Set<Socket>();
  private closedIn = 0;
  private closedOut = 0;

  constructor(address: string, options: UndiciSenderOptions = {}) {
    const url = new URL(address);
    const tls = url.protocol === 'https:' ? clientSecureOptions(options.tls ?? {}, parseAddress(address).host) : {};
    const connector = buildConnector({ ...tls, timeout: options.connectTimeoutMs ?? 10_000 });
    const connect: buildConnector.connector = (connectOptions, callback) => connector(connectOptions, (...result) => {
      if (result[0] === null) this.track(result[1]);
      callback(...result);
    });
    this.pool = new ClientPool(url.origin, { connections: options.connections ?? DEFAULT_CONNECTIONS, pipelining: options.pipelining ?? DEFAULT_PIPELINING, connect });
  }

  send(path: string, headers: Readonly<Record<string, string>>, body: Uint8Array, control: RequestControl): Promise<SentResponse> {
    return new Promise((resolve, reject) => {
      const exchange = new UndiciExchange(control, resolve, reject);
      this.pool.dispatch({ path, method: 'POST', headers, body }, exchange);
    });
  }

  sendStream(path: string, headers: Readonly<Record<string, string>>, body: AsyncIterable<Uint8Array>, control: RequestControl): Promise<SentResponse> {
    return new Promise((resolve, reject) => {
      const exchange = new UndiciExchange(control, resolve, reject);
      // undici writes an iterable body chunked, asking for the next chunk once the socket has
      // drained. No headers timeout: the answer may come long after the request began, as the
      // stream is sent; the call's deadline bounds it.
      // (undici takes any async iterable body; its types list only streams.)
      this.pool.dispatch({ path, method: 'POST', headers, body: body as unknown as Dispatcher.DispatchOptions['body'], headersTimeout: 0 }, exchange);
    });
  }

  get bytesIn(): number {
    let total = this.closedIn;
    for (const socket of this.sockets) total += socket.bytesRead;
    return total;
  }

  get bytesOut(): number {
    let total = this.closedOut;
    for (const socket of this.sockets) total += socket.bytesWritten;
    return total;
  }

  /** undici rejects with the network's (or TLS's) error itself. */
  causeOf(error: unknown): unknown {
    return error;
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.closedIn += socket.bytesRead;
      this.closedOut += socket.bytesWritten;
    });
  }
}

/** Body bytes a response may queue before undici stops reading its connection, as a stream's high-water mark. */
const QUEUE_LIMIT = 64 * 1024;
/** The most of an unwanted body read to keep its connection, as undici's `dump()`; past it the connection closes. */
const DISCARD_LIMIT = 128 * 1024;

const enum Reading {
  /** Nobody has asked for the body yet: it queues, up to QUEUE_LIMIT. */
  Waiting,
  /** `bytes()`: the whole body is kept, up to its limit. */
  Whole,
  /** `reader()`: chunks go to the reader as it asks, QUEUE_LIMIT queued at most. */
  Chunks,
  /** `discard()` or a cancelled reader: chunks are dropped. */
  Dropped,
}

/**
 * One request through the pool's `dispatch`, and then its response: the status and headers settle
 * `send`, and the body is kept in the chunks undici reads. `request()` would wrap every answer in a
 * stream, and its abort in an AbortSignal listener, both costly per call.
 */
class UndiciExchange implements Dispatcher.DispatchHandler, SentResponse, Abortable {
  status = 0;
  statusText = '';
  private responseHeaders: IncomingHttpHeaders = {};
  private controller: Dispatcher.DispatchController | undefined;
  private started: ((response: SentResponse) => void) | undefined;
  private refused: ((error: unknown) => void) | undefined;
  private reading = Reading.Waiting;
  private limit = Infinity;
  private readonly chunks: Buffer[] = [];
  /** Bytes in `chunks`, and all the body's bytes received so far. */
  private queued = 0;
  private received = 0;
  private ended = false;
  private failure: unknown = undefined;
  /** A `bytes()` or `read()` waiting for the body to end, or for its next chunk. */
  private wake: (() => void) | undefined;

  constructor(private readonly control: RequestControl, resolve: (response: SentResponse) => void, reject: (error: unknown) => void) {
    this.started = resolve;
    this.refused = reject;
    if (control.abortReason !== undefined) this.abort(control.abortReason);
    else control.onAbort = this;
  }

  /** The channel gave the request up: it fails with `reason`, whatever it had reached. */
  abort(reason: unknown): void {
    if (this.ended) return;
    this.fail(reason);
    this.controller?.abort(reason as Error);
  }

  // The dispatch handler's side: undici tells how the request goes.
  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.control.abortReason !== undefined) controller.abort(this.control.abortReason as Error);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    if (statusCode < 200) return; // informational (100 Continue): the answer follows
    this.status = statusCode;
    this.statusText = statusMessage || (STATUS_CODES[statusCode] ?? '');
    this.responseHeaders = headers;
    const started = this.started;
    this.started = this.refused = undefined;
    started?.(this);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.received += chunk.byteLength;
    if (this.reading === Reading.Dropped) {
      if (this.received > DISCARD_LIMIT) this.stop(controller);
      return;
    }
    if (this.received > this.limit) {
      this.fail(tooLarge(this.limit));
      this.stop(controller);
      return;
    }
    this.chunks.push(chunk);
    this.queued += chunk.byteLength;
    if (this.reading !== Reading.Whole && this.queued > QUEUE_LIMIT) controller.pause();
    if (this.reading === Reading.Chunks) this.wakeReader();
  }

  onResponseEnd(): void {
    this.ended = true;
    this.control.onAbort = undefined;
    this.wakeReader();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.fail(error);
  }

  // The SentResponse side: the channel reads the answer.
  header(name: string): string | undefined {
    const value = this.responseHeaders[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  metadata(): Metadata | undefined {
    return readHeaderObjectMetadata(this.responseHeaders);
  }

  bytesNow(limit: number): Uint8Array | undefined {
    if (!this.ended || this.failure !== undefined || this.received > limit || this.reading !== Reading.Waiting) return undefined;
    this.reading = Reading.Whole;
    const { chunks } = this;
    if (chunks.length === 1) return chunks[0]!;
    return chunks.length === 0 ? new Uint8Array(0) : Buffer.concat(chunks, this.queued);
  }

  bytes(limit: number): Promise<Uint8Array> {
    const declared = this.responseHeaders['content-length'];
    if (declared !== undefined && Number(declared) > limit) {
      // Reading it would cost as much as the call: closing the connection is cheaper.
      this.drop();
      return Promise.reject(tooLarge(limit));
    }
    this.reading = Reading.Whole;
    this.limit = limit;
    if (this.received > limit) {
      this.fail(tooLarge(limit));
      this.drop();
      return this.whole();
    }
    this.controller?.resume();
    if (this.ended || this.failure !== undefined) return this.whole();
    return new Promise((resolve, reject) => {
      this.wake = () => {
        this.wake = undefined;
        this.whole().then(resolve, reject);
      };
    });
  }

  reader(): ChunkReader {
    this.reading = Reading.Chunks;
    return {
      read: () => this.read(),
      cancel: async () => this.drop(),
    };
  }

  discard(): void {
    if (this.ended) return;
    this.reading = Reading.Dropped;
    this.chunks.length = 0;
    this.queued = 0;
    const declared = Number(this.responseHeaders['content-length'] ?? 0);
    if (this.received > DISCARD_LIMIT || declared > DISCARD_LIMIT) this.stop(this.controller);
    else this.controller?.resume();
  }

  private read(): Promise<IteratorResult<Uint8Array, unknown>> {
    const chunk = this.chunks.shift();
    if (chunk !== undefined) {
      this.queued -= chunk.byteLength;
      if (this.queued <= QUEUE_LIMIT) this.controller?.resume();
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ended || this.reading === Reading.Dropped) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve(this.read());
      };
    });
  }

  /** The body so far as one array, or the failure that ended it. */
  private whole(): Promise<Uint8Array> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const { chunks } = this;
    if (chunks.length === 1) return Promise.resolve(chunks[0]!);
    return Promise.resolve(chunks.length === 0 ? new Uint8Array(0) : Buffer.concat(chunks, this.queued));
  }

  /** Nobody will read the rest: the request stops where it is, and its connection closes if it was not done. */
  private drop(): void {
    this.reading = Reading.Dropped;
    this.chunks.length = 0;
    this.queued = 0;
    if (!this.ended) this.stop(this.controller);
    this.wakeReader();
  }

  private stop(controller: Dispatcher.DispatchController | undefined): void {
    if (this.ended || controller === undefined || controller.aborted) return;
    controller.abort(new RequestAbortedError());
  }

  /** The request or its body failed: `send` rejects if it has not settled, else the body's reader does. */
  private fail(error: unknown): void {
    this.control.onAbort = undefined;
    const refused = this.refused;
    this.started = this.refused = undefined;
    if (refused !== undefined) {
      refused(error);
      return;
    }
    this.failure ??= error;
    this.wakeReader();
  }

  private wakeReader(): void {
    this.wake?.();
  }
}
