import { constants, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { MethodEntry } from '../../core/call-table.js';
import { Code } from '../../core/code.js';
import type { Metadata, MetadataValue } from '../../core/metadata.js';
import { RpcError } from '../../core/rpc-error.js';
import { ServerCall } from '../../core/server-call.js';
import type { MethodCodec } from './codec.js';
import { compress, decompress, type Encoding } from './compression.js';
import { frameMessage, MessageReader, type ReceivedMessage } from './message.js';
import type { GrpcServerSettings } from './options.js';
import { lateMetadata, responseHeaders, trailersOnly } from './response.js';
import type { SessionGuard } from './session-guard.js';
import { OK_TRAILERS, writeErrorStatus } from './status.js';

// Messages this large or larger are worth compressing when compression is on.
const COMPRESS_FROM = 1024;

// The exchange rides on its stream, so that the stream's listeners are shared functions, not closures.
const kExchange = Symbol('exchange');
type Carrier = ServerHttp2Stream & { [kExchange]?: Exchange };

function onStreamData(this: Carrier, chunk: Buffer): void {
  this[kExchange]!.onData(chunk);
}
function onStreamEnd(this: Carrier): void {
  this[kExchange]!.onEnd();
}
function onStreamClose(this: Carrier): void {
  this[kExchange]!.onClose();
}
function onStreamWantTrailers(this: Carrier): void {
  this[kExchange]!.onWantTrailers();
}
function expireExchange(exchange: Exchange): void {
  exchange.expire();
}

/** What one call needs from its listener and connection. */
export interface ExchangeEnv {
  readonly settings: GrpcServerSettings;
  readonly guard: SessionGuard;
  /** Why calls end when their stream closes early: the caller cancelled, or the server was cut off. */
  abortReason(): RpcError;
  /** The client reset too many streams: its connection goes. */
  punish(): void;
}

/** A request accepted for dispatch: its method, how its messages are written, how to answer. */
export interface Accepted {
  readonly entry: MethodEntry;
  readonly codec: MethodCodec;
  readonly metadata: Metadata | undefined;
  readonly deadline: number | undefined;
  /** `grpc-encoding` of the request's compressed messages. */
  readonly encoding: Encoding;
  /** How responses are compressed: the listener's choice if the client accepts it, else identity. */
  readonly responseEncoding: Encoding;
}

/**
 * One call on one HTTP/2 stream: reads the single request message, runs the handler, and answers
 * with response headers, the message (or a stream of them) and the status in trailers.
 */
export class Exchange {
  private readonly reader: MessageReader;
  private request: ReceivedMessage | undefined;
  private call: ServerCall | undefined;
  private timer: NodeJS.Timeout | undefined;
  private headersSent = false;
  private sentMetadata: Map<string, MetadataValue> | undefined;
  private trailers: OutgoingHttpHeaders = OK_TRAILERS;
  /** The status is decided (sent, or the stream is gone): nothing more is written. */
  private done = false;
  private running = true;

  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly accepted: Accepted,
    private readonly env: ExchangeEnv,
  ) {
    env.guard.running++;
    env.guard.activity++;
    this.reader = new MessageReader(env.settings.maxMessageSize, env.guard);
    (stream as Carrier)[kExchange] = this;
    stream.on('data', onStreamData);
    stream.on('end', onStreamEnd);
    stream.on('close', onStreamClose);
    if (accepted.deadline !== undefined) {
      const left = accepted.deadline - Date.now();
      if (left <= 0) this.expire();
      else this.timer = setTimeout(expireExchange, left, this);
    }
  }

  // onData, onMessage, onEnd, onClose, expire and onWantTrailers are called by the stream's
  // listeners, the message reader and the deadline timer above; nothing else calls them.
  onData(chunk: Buffer): void {
    if (this.done) return;
    try {
      this.reader.push(chunk, this);
    } catch (error) {
      this.fail(RpcError.from(error, Code.INTERNAL), true);
    }
  }

  onMessage(message: ReceivedMessage): void {
    if (this.request !== undefined) throw new RpcError(Code.INTERNAL, `${this.accepted.entry.method} takes one request message, not several`);
    this.request = message;
  }

  onEnd(): void {
    if (this.done) return;
    const request = this.request;
    if (this.reader.partial) return this.fail(new RpcError(Code.INTERNAL, 'request ended inside a message'), true);
    if (request === undefined) return this.fail(new RpcError(Code.INTERNAL, 'request carries no message'), true);
    if (!request.compressed) return this.dispatch(request.data);
    decompress(this.accepted.encoding, request.data, this.env.settings.maxMessageSize).then(
      (data) => this.dispatch(data),
      (error: unknown) => this.fail(RpcError.from(error, Code.INTERNAL), true),
    );
  }

  onClose(): void {
    this.reader.release();
    if (this.done) return; // answered before the stream closed: the normal end
    this.done = true;
    this.clearTimer();
    if (this.call !== undefined) this.call.abort(this.env.abortReason());
    else this.stopRunning();
    // A reset of a stream this server had not answered yet: what rapid reset is made of.
    if (this.stream.rstCode !== constants.NGHTTP2_NO_ERROR && this.env.guard.reset()) this.env.punish();
  }

  expire(): void {
    this.fail(new RpcError(Code.DEADLINE_EXCEEDED, 'deadline exceeded'), true);
  }

  private dispatch(bytes: Uint8Array): void {
    if (this.done) return;
    const { entry, codec } = this.accepted;
    let args: unknown[];
    try {
      args = codec.decodeRequest(bytes);
    } catch (error) {
      return this.fail(RpcError.from(error, Code.INVALID_ARGUMENT), true);
    }
    const call = new ServerCall(entry.service, entry.method, args, this.accepted.metadata, this.accepted.deadline, false);
    this.call = call;
    entry.handler(call).then((result) => this.onResult(result), (error: unknown) => this.onError(error));
  }

  private onResult(result: unknown): void {
    if (this.accepted.entry.options.stream === 'server') {
      void this.streamOut(result).finally(() => this.settleCall());
      return;
    }
    this.settleCall();
    if (this.done) return;
    const zip = this.accepted.responseEncoding;
    let bytes: Uint8Array;
    let headers: OutgoingHttpHeaders;
    try {
      bytes = this.encode(result);
      headers = this.headersFor(zip !== 'identity' && bytes.length >= COMPRESS_FROM);
    } catch (error) {
      return this.fail(RpcError.from(error, Code.INTERNAL), false);
    }
    this.done = true;
    this.clearTimer();
    if (zip !== 'identity' && bytes.length >= COMPRESS_FROM) {
      compress(zip, bytes).then((zipped) => this.sendLast(headers, zipped, true), () => this.sendLast(headers, bytes, false));
    } else {
      this.sendLast(headers, bytes, false);
    }
  }

  private onError(error: unknown): void {
    this.settleCall();
    this.fail(RpcError.from(error), false);
  }

  /** A unary answer: headers, the message and the trailers in one go. */
  private sendLast(headers: OutgoingHttpHeaders, bytes: Uint8Array, compressed: boolean): void {
    const stream = this.stream;
    if (stream.closed || stream.destroyed) return;
    this.respond(headers);
    const framed = frameMessage(bytes, compressed);
    if (Array.isArray(framed)) {
      stream.write(framed[0]);
      stream.end(framed[1]);
    } else {
      stream.end(framed);
    }
  }

  /** Writes the items of a server stream as they come, waiting whenever the client reads slowly. */
  private async streamOut(result: unknown): Promise<void> {
    if (this.done) return;
    if (typeof result !== 'object' || result === null || typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function') {
      return this.fail(new RpcError(Code.INTERNAL, `server-streaming method ${this.accepted.entry.method} returned no AsyncIterable`), false);
    }
    const zip = this.accepted.responseEncoding;
    const iterator = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    let exhausted = false;
    try {
      for (;;) {
        let next: IteratorResult<unknown>;
        try {
          next = await iterator.next();
        } catch (error) {
          exhausted = true;
          throw error;
        }
        if (next.done === true) exhausted = true;
        if (this.done || exhausted) break;
        let bytes = this.encode(next.value);
        const compressed = zip !== 'identity' && bytes.length >= COMPRESS_FROM;
        if (compressed) {
          bytes = await compress(zip, bytes);
          if (this.done) break;
        }
        if (!this.headersSent) this.respond(this.headersFor(zip !== 'identity'));
        if (!this.write(bytes, compressed)) await this.drained();
      }
      if (this.done) return;
      if (!this.headersSent) this.respond(this.headersFor(false));
    } catch (error) {
      this.fail(RpcError.from(error), false);
      return;
    } finally {
      if (!exhausted) await Promise.resolve(iterator.return?.()).catch(() => {});
    }
    this.done = true;
    this.clearTimer();
    if (this.stream.closed || this.stream.destroyed) return;
    this.trailers = lateMetadata(OK_TRAILERS, this.call, this.sentMetadata);
    this.stream.end();
  }

  private encode(value: unknown): Uint8Array {
    let bytes: Uint8Array;
    try {
      bytes = this.accepted.codec.encodeResponse(value);
    } catch (error) {
      throw new RpcError(Code.INTERNAL, `cannot encode the result: ${(error as Error).message}`);
    }
    if (bytes.length > this.env.settings.maxMessageSize) {
      throw new RpcError(Code.RESOURCE_EXHAUSTED, `response message of ${bytes.length} bytes exceeds the limit of ${this.env.settings.maxMessageSize}`);
    }
    return bytes;
  }

  private write(bytes: Uint8Array, compressed: boolean): boolean {
    const framed = frameMessage(bytes, compressed);
    if (!Array.isArray(framed)) return this.stream.write(framed);
    this.stream.write(framed[0]);
    return this.stream.write(framed[1]);
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.stream.off('drain', done);
        this.stream.off('close', done);
        resolve();
      };
      this.stream.on('drain', done);
      this.stream.on('close', done);
    });
  }

  /** Response headers with the metadata the handler has set so far, which are then remembered as sent. */
  private headersFor(compressed: boolean): OutgoingHttpHeaders {
    const metadata = this.call?.hasResponseMetadata === true ? this.call.responseMetadata : undefined;
    if (metadata !== undefined) this.sentMetadata = new Map(metadata);
    return responseHeaders(this.accepted.codec.name, compressed ? this.accepted.responseEncoding : 'identity', metadata);
  }

  private respond(headers: OutgoingHttpHeaders): void {
    this.headersSent = true;
    this.stream.respond(headers, { waitForTrailers: true });
    this.stream.once('wantTrailers', onStreamWantTrailers);
  }

  onWantTrailers(): void {
    try {
      this.stream.sendTrailers(this.trailers);
    } catch {
      this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    }
  }

  /** Ends the call with an error status; `abort` when the handler may still run and must stop. */
  private fail(error: RpcError, abort: boolean): void {
    if (this.done) return;
    this.done = true;
    this.clearTimer();
    if (abort) this.call?.abort(error);
    if (this.call === undefined) this.stopRunning();
    const stream = this.stream;
    if (stream.closed || stream.destroyed) return;
    if (!this.headersSent) {
      trailersOnly(stream, this.accepted.codec.name, error, this.call?.hasResponseMetadata === true ? this.call.responseMetadata : undefined);
      return;
    }
    const trailers: OutgoingHttpHeaders = {};
    writeErrorStatus(error, trailers);
    this.trailers = lateMetadata(trailers, this.call, this.sentMetadata);
    stream.end();
  }

  private settleCall(): void {
    this.call?.finish();
    this.stopRunning();
  }

  private stopRunning(): void {
    if (!this.running) return;
    this.running = false;
    this.env.guard.running--;
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
