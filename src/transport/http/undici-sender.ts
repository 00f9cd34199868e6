/**
 * The sender of Node's `http://` and `https://` channels: undici's `request()` over a keep-alive
 * pool of connections to the channel's one server, a request at a time on each (no pipelining by
 * default). Much cheaper per call than `fetch`, which builds WHATWG Request, Headers and stream
 * objects around the same client. Node only: registry.ts imports this file on the first call to an
 * http(s) address, and the browser build never does.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { Pool, buildConnector, type Dispatcher } from 'undici';
import { parseAddress } from '../address.js';
import { clientSecureOptions, type ClientTlsOptions } from '../tls/options.js';
import { collect, tooLarge } from './response-body.js';
import type { ChunkReader, HttpSender, SentResponse } from './sender.js';

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
  private readonly pool: Pool;
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
    this.pool = new Pool(url.origin, { connections: options.connections ?? DEFAULT_CONNECTIONS, pipelining: options.pipelining ?? DEFAULT_PIPELINING, connect });
  }

  async send(path: string, headers: Record<string, string>, body: Uint8Array, signal: AbortSignal): Promise<SentResponse> {
    return new UndiciResponse(await this.pool.request({ path, method: 'POST', headers, body, signal }));
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

class UndiciResponse implements SentResponse {
  constructor(private readonly data: Dispatcher.ResponseData) {}

  get status(): number {
    return this.data.statusCode;
  }

  get statusText(): string {
    return this.data.statusText || (STATUS_CODES[this.data.statusCode] ?? '');
  }

  header(name: string): string | undefined {
    const value = this.data.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  headers(): Iterable<readonly [string, string | string[] | undefined]> {
    return Object.entries(this.data.headers);
  }

  async bytes(limit: number): Promise<Uint8Array> {
    const declared = this.data.headers['content-length'];
    if (declared === undefined) return collect(this.reader(), limit);
    if (Number(declared) > limit) {
      // Reading it would cost as much as the call: closing the connection is cheaper.
      this.data.body.destroy();
      throw tooLarge(limit);
    }
    return this.data.body.bytes();
  }

  reader(): ChunkReader {
    const body = this.data.body;
    const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Uint8Array, unknown>;
    return {
      read: () => chunks.next(),
      cancel: async () => {
        body.destroy();
      },
    };
  }

  discard(): void {
    // A small rest is read to keep the connection; a large one closes it.
    this.data.body.dump().catch(() => {});
  }
}
