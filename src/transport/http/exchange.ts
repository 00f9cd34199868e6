import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { RpcError } from '../../core/rpc-error.js';
import { BodyTooLarge, readBody } from './body.js';
import type { HttpConnection } from './connection.js';
import type { Cors } from './cors.js';
import { encodeError } from './errors.js';
import { Header } from './headers.js';
import { closeAfterAnswer } from './linger.js';
import { END_EVENT, ERROR_EVENT_HEAD, EVENT_END, EVENT_STREAM, PING, eventHead } from './sse.js';
import { statusOf } from './status-map.js';
import type { AnswerFormat } from './xml/answer-format.js';

const NEWLINE = new Uint8Array([0x0a]);

/** What every exchange of one server shares. */
export interface ExchangeHost {
  readonly cors: Cors | undefined;
  readonly maxBodyBytes: number;
  /** The server is shutting down: every answer closes its connection. */
  readonly draining: boolean;
  /** How often an idle event stream writes a comment. */
  readonly heartbeatMs: number;
  /** The exchange has written its whole answer (told once; not when its connection closed first). */
  closed(exchange: Exchange): void;
}

/** A call being served on this exchange, told when its client goes away. */
export interface ExchangeCall {
  cancel(): void;
}

/**
 * One request and its response: writes exactly one answer (a result, an error or a stream), with
 * the CORS and metadata headers it needs. Everything written after the first answer, or after the
 * client has gone, is dropped. A request answered before its body was read (a refusal) has its body
 * read and dropped first, so that its connection can carry the next request; a body over the limit
 * gets 413 instead, and the connection closes gracefully.
 */
export class Exchange {
  /** The call running for this request, until the server lets go of it. */
  running: ExchangeCall | undefined;
  /** The request body is a stream (NDJSON): an answer before its end closes the connection rather than read the rest. */
  requestStream = false;
  /** A server stream is answered as server-sent events rather than NDJSON. */
  events = false;
  /** How a request that is not plain JSON (XML, SOAP) is read and answered; none for JSON. */
  format: AnswerFormat | undefined = undefined;
  private streaming = false;
  private answered = false;
  /** The host knows the exchange is over: answered in full, or its connection gone. */
  private over = false;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    private readonly origin: string | undefined,
    readonly host: ExchangeHost,
    /** The connection the request came on. */
    readonly connection: HttpConnection,
  ) {}

  /** Nothing has been answered yet and the client is still there. */
  get open(): boolean {
    return !this.answered && !this.res.headersSent && !this.res.destroyed;
  }

  /** The connection closed before the answer was complete: the host needs no word of it. */
  abandoned(): void {
    this.over = true;
  }

  /**
   * Answers with `status` and, if given, a body of `contentType`. A body given as text goes out in
   * one piece with the head, which Node joins only to text: a small answer costs one write less.
   * Returns the body's size in bytes (0 when nothing is answered).
   */
  send(status: number, body: Uint8Array | string | undefined, contentType: string, metadata?: ReadonlyArray<[string, string]>, extra?: OutgoingHttpHeaders): number {
    if (!this.open) return 0;
    this.answered = true;
    const bytes = body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    if (!this.bodyUnread()) {
      this.write(status, body, bytes, contentType, metadata, extra, false);
      return bytes;
    }
    if (this.requestStream) {
      // A stream may never end: the answer goes now, and the connection closes after it.
      this.write(status, body, bytes, contentType, metadata, extra, true);
      return bytes;
    }
    readBody(this.req, this.host.maxBodyBytes, false).then(
      () => this.write(status, body, bytes, contentType, metadata, extra, false),
      (error: unknown) => {
        if (error instanceof BodyTooLarge) this.writeTooLarge(error);
        // else the client went away while sending: no one to answer
      },
    );
    return bytes;
  }

  /** Answers with the error body; `status` defaults to the code's row in the status table. */
  fail(error: RpcError, status?: number, metadata?: ReadonlyArray<[string, string]>, extra?: OutgoingHttpHeaders): void {
    // A handler may have reshaped its error (a code getter that throws, say): read it through from().
    const safe = RpcError.from(error);
    if (this.streaming) {
      this.endStream(safe);
    } else if (safe instanceof BodyTooLarge) {
      // Reading stopped at the limit: the rest of the body is never read, so the connection closes.
      if (!this.open) return;
      this.answered = true;
      this.writeTooLarge(safe);
    } else if (this.format?.fail !== undefined) {
      this.format.fail(this, safe, status ?? statusOf(safe.code), metadata, extra);
    } else {
      this.send(status ?? statusOf(safe.code), encodeError(safe), 'application/json', metadata, extra);
    }
  }

  /** Starts a stream of JSON lines (`application/x-ndjson`), or of server-sent events. */
  startStream(metadata?: ReadonlyArray<[string, string]>): void {
    if (!this.open) return;
    this.answered = true;
    this.streaming = true;
    const headers = this.head(metadata, undefined, false);
    if (!this.events) {
      headers['content-type'] = 'application/x-ndjson';
      this.res.writeHead(200, headers);
      return;
    }
    headers['content-type'] = EVENT_STREAM;
    headers['cache-control'] = 'no-cache';
    this.res.writeHead(200, headers);
    // An EventSource is open once it has the headers, whenever the first item comes.
    this.res.flushHeaders();
    const { res } = this;
    const heartbeat = setInterval(() => {
      if (!res.writableEnded && !res.destroyed) res.write(PING);
    }, this.host.heartbeatMs);
    heartbeat.unref();
    res.once('close', () => clearInterval(heartbeat));
    res.once('finish', () => clearInterval(heartbeat));
  }

  /**
   * Writes one encoded item: a line, or an event's data with its `id` if it has one. Resolves once
   * the client can take more (or has gone).
   */
  async item(data: Uint8Array, id?: string): Promise<void> {
    if (this.res.writableEnded || this.res.destroyed) return;
    let room: boolean;
    if (this.events) {
      this.res.write(eventHead(id));
      this.res.write(data);
      room = this.res.write(EVENT_END);
    } else {
      this.res.write(data);
      room = this.res.write(NEWLINE);
    }
    if (room) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  /** Ends a stream, with a last `{"error": …}` line (or `error` event) if it failed. */
  endStream(error?: RpcError): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    if (this.events) {
      if (error === undefined) {
        this.res.end(END_EVENT);
      } else {
        this.res.write(ERROR_EVENT_HEAD);
        this.res.write(encodeError(error));
        this.res.end(EVENT_END);
      }
      this.finish();
      return;
    }
    if (error !== undefined) {
      const body = encodeError(error);
      this.res.write(`{"error":`);
      this.res.write(body);
      this.res.write('}\n');
    }
    this.res.end();
    this.finish();
  }

  /** Whether the request has a body that nothing has read. */
  private bodyUnread(): boolean {
    const { req } = this;
    if (req.readableEnded) return false;
    const length = req.headers['content-length'];
    return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
  }

  /** 413, and the connection closes: the rest of the body is never read. */
  private writeTooLarge(error: BodyTooLarge): void {
    const body = encodeError(error);
    this.write(413, body, body.byteLength, 'application/json', undefined, undefined, true);
  }

  private write(status: number, body: Uint8Array | string | undefined, bytes: number, contentType: string, metadata: ReadonlyArray<[string, string]> | undefined, extra: OutgoingHttpHeaders | undefined, close: boolean): void {
    if (this.res.headersSent || this.res.destroyed) return;
    const headers = this.head(metadata, extra, close);
    if (body !== undefined) {
      headers['content-type'] = contentType;
      headers['content-length'] = bytes;
    }
    this.res.writeHead(status, headers);
    this.res.end(body);
    this.finish();
  }

  private finish(): void {
    if (this.over) return;
    this.over = true;
    this.host.closed(this);
  }

  private head(metadata: ReadonlyArray<[string, string]> | undefined, extra: OutgoingHttpHeaders | undefined, close: boolean): OutgoingHttpHeaders {
    const headers: OutgoingHttpHeaders = {};
    const { cors, draining } = this.host;
    if (this.origin !== undefined && cors !== undefined) {
      for (const [name, value] of cors.headers(this.origin, metadata?.map(([name]) => name) ?? [])) headers[name] = value;
    }
    if (extra !== undefined) Object.assign(headers, extra);
    if (metadata !== undefined) for (const [name, value] of metadata) headers[name] = value;
    if (draining) headers[Header.draining] = '1';
    if (close || draining) {
      headers.connection = 'close';
      this.connection.closing = true;
      closeAfterAnswer(this.req.socket);
    }
    return headers;
  }
}
