import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { RpcError } from '../../core/rpc-error.js';
import type { Serializer } from '../../serialization/serializer.js';
import type { Cors } from './cors.js';
import { encodeError } from './errors.js';
import { Header } from './headers.js';
import { statusOf } from './status-map.js';

const NEWLINE = new Uint8Array([0x0a]);

/**
 * One request and its response: writes exactly one answer (a result, an error or a stream), with
 * the CORS and metadata headers it needs. Everything written after the first answer, or after the
 * client has gone, is dropped.
 */
export class Exchange {
  private streaming = false;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    private readonly cors: Cors | undefined,
    private readonly origin: string | undefined,
    private readonly closeAfter: () => boolean,
  ) {}

  /** Nothing has been answered yet and the client is still there. */
  get open(): boolean {
    return !this.res.headersSent && !this.res.destroyed;
  }

  /** Answers with `status` and, if given, a body of `contentType`. */
  send(status: number, body: Uint8Array | undefined, contentType: string, metadata?: ReadonlyArray<[string, string]>, extra?: OutgoingHttpHeaders): void {
    if (!this.open) return;
    const headers = this.head(metadata, extra);
    if (body !== undefined) {
      headers['content-type'] = contentType;
      headers['content-length'] = body.byteLength;
    }
    this.res.writeHead(status, headers);
    this.res.end(body);
  }

  /** Answers with the error body; `status` defaults to the code's row in the status table. */
  fail(error: RpcError, status = statusOf(error.code), metadata?: ReadonlyArray<[string, string]>, extra?: OutgoingHttpHeaders): void {
    if (this.streaming) {
      this.endStream(error);
      return;
    }
    // A body left unread (refused before it was read) would have to be read to reuse the connection.
    const unread = !this.req.readableEnded && (Number(this.req.headers['content-length'] ?? 0) > 0 || this.req.headers['transfer-encoding'] !== undefined);
    this.send(status, encodeError(error), 'application/json', metadata, unread ? { ...extra, connection: 'close' } : extra);
  }

  /** Starts a stream of JSON lines (`application/x-ndjson`). */
  startStream(metadata?: ReadonlyArray<[string, string]>): void {
    if (!this.open) return;
    this.streaming = true;
    const headers = this.head(metadata, undefined);
    headers['content-type'] = 'application/x-ndjson';
    this.res.writeHead(200, headers);
  }

  /** Writes one line; resolves once the client can take more (or has gone). */
  async item(serializer: Serializer, value: unknown): Promise<void> {
    if (this.res.writableEnded || this.res.destroyed) return;
    this.res.write(serializer.encode({ value }));
    if (this.res.write(NEWLINE)) return;
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

  /** Ends a stream, with a last `{"error": …}` line if it failed. */
  endStream(error?: RpcError): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    if (error !== undefined) {
      const body = encodeError(error);
      this.res.write(`{"error":`);
      this.res.write(body);
      this.res.write('}\n');
    }
    this.res.end();
  }

  private head(metadata: ReadonlyArray<[string, string]> | undefined, extra: OutgoingHttpHeaders | undefined): OutgoingHttpHeaders {
    const headers: OutgoingHttpHeaders = { ...extra };
    if (metadata !== undefined) for (const [name, value] of metadata) headers[name] = value;
    if (this.origin !== undefined && this.cors !== undefined) {
      for (const [name, value] of this.cors.headers(this.origin, metadata?.map(([name]) => name) ?? [])) headers[name] = value;
    }
    if (this.closeAfter()) {
      headers.connection = 'close';
      headers[Header.draining] = '1';
    }
    return headers;
  }
}
