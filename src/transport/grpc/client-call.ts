import { constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { CallWatch } from '../../core/call-watch.js';
import { Code } from '../../core/code.js';
import type { Invocation } from '../../core/invocation.js';
import { pumpRequestStream, RequestStream } from '../../core/request-stream.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';
import { RequestSink, type InputCall } from './client-input.js';
import type { MethodCodec } from './codec.js';
import { decompress, isEncoding, type Encoding } from './compression.js';
import { parseContentType } from './content-type.js';
import { MessageReader, type ReceivedMessage } from './message.js';
import { readMetadata } from './metadata.js';
import { ResponseStream } from './response-stream.js';
import { codeForHttpStatus, readStatus } from './status.js';

// The call rides on its stream, so that the stream's listeners are shared functions, not closures.
const kCall = Symbol('call');
type Carrier = ClientHttp2Stream & { [kCall]?: ClientCallStream };

function onStreamResponse(this: Carrier, headers: IncomingHttpHeaders): void {
  this[kCall]!.onResponse(headers);
}
function onStreamData(this: Carrier, chunk: Buffer): void {
  this[kCall]!.onData(chunk);
}
function onStreamTrailers(this: Carrier, trailers: IncomingHttpHeaders): void {
  this[kCall]!.onTrailers(trailers);
}
function onStreamEnd(this: Carrier): void {
  this[kCall]!.onEnd();
}
function onStreamClose(this: Carrier): void {
  this[kCall]!.onClose();
}

/** What a call needs besides its invocation. */
export interface CallPlan {
  readonly codec: MethodCodec;
  readonly headers: OutgoingHttpHeaders;
  /** The answer is a stream (server and bidi streaming). */
  readonly streaming: boolean;
  readonly maxMessageSize: number;
  /** How request messages over 1 KiB are compressed (`grpc-encoding` of the request). */
  readonly compression: Encoding;
  readonly address: string;
  /** The channel's count of calls whose streams are open, kept by each call. */
  readonly streams: { active: number };
}

// gRPC's reading of RST_STREAM codes for a stream that ended without a status.
const resetCodes = new Map<number, [Code, string]>([
  [constants.NGHTTP2_REFUSED_STREAM, [Code.UNAVAILABLE, 'stream refused by the server']],
  [constants.NGHTTP2_CANCEL, [Code.CANCELLED, 'stream cancelled by the server']],
  [constants.NGHTTP2_ENHANCE_YOUR_CALM, [Code.RESOURCE_EXHAUSTED, 'server asked to enhance your calm']],
  [constants.NGHTTP2_INADEQUATE_SECURITY, [Code.PERMISSION_DENIED, 'inadequate security']],
]);

/** What a call sends: its one framed request message, or the request stream of a client- or bidi-streaming call. */
export type RequestBody = Buffer | [Buffer, Uint8Array] | RequestStream;

/**
 * One call on one HTTP/2 stream: sends the request message (or the messages of a request stream,
 * as they come), then reads response headers, messages and trailers. Unary and client-streaming
 * calls resolve with the one response message; server- and bidi-streaming calls resolve, once the
 * response headers arrive, with a `ResponseStream`.
 */
export class ClientCallStream extends CallWatch implements InputCall {
  private readonly reader: MessageReader;
  private stream: ClientHttp2Stream | undefined;
  private session: ClientHttp2Session | undefined;
  private message: ReceivedMessage | undefined;
  private responses: ResponseStream | undefined;
  private encoding: Encoding = 'identity';
  private status: RpcError | null | undefined; // null: OK
  /**
   * The response headers decided the call (an HTTP error, Trailers-Only, not gRPC): DATA that
   * follows is not read. A status from the trailers is no such thing: DATA received before them
   * may still wait, unread, behind a paused stream, and every message of it is the caller's.
   */
  private ignoreBody = false;
  private settled = false;
  private finished = false;
  /** Client and bidi streaming: the caller's request stream. */
  private input: RequestStream | undefined;
  /**
   * Client and bidi streaming: resets the stream with CANCEL and nothing else. `close(CANCEL)` would
   * end the request first (END_STREAM, then RST_STREAM), which a server reads as a request stream
   * that ended normally; an aborted request's stream is destroyed at once.
   */
  private aborter: AbortController | undefined;

  constructor(
    private readonly invocation: Invocation,
    private readonly plan: CallPlan,
    private readonly resolve: (value: unknown) => void,
    private readonly reject: (error: RpcError) => void,
  ) {
    super();
    this.reader = new MessageReader(plan.maxMessageSize);
  }

  /**
   * Opens the stream and writes the request: `body` is the framed request message, or a request
   * stream, whose items are sent as they come. Throws if no stream can be opened.
   */
  start(session: ClientHttp2Session, body: RequestBody): void {
    const { invocation } = this;
    let stream: ClientHttp2Stream;
    try {
      if (body instanceof RequestStream) this.aborter = new AbortController();
      stream = session.request(this.plan.headers, this.aborter === undefined ? undefined : { signal: this.aborter.signal });
    } catch (error) {
      // The connection takes no more streams (closing, or out of stream ids): the call never left.
      throw new RpcError(Code.UNAVAILABLE, `cannot open a stream to ${this.plan.address}: ${errorMessage(error)}`, { unprocessed: true, cause: error });
    }
    this.stream = stream;
    this.plan.streams.active++;
    this.session = session; // a closed stream forgets its session; 'close' needs to know its state
    (stream as Carrier)[kCall] = this;
    stream.on('error', noop);
    stream.on('response', onStreamResponse);
    stream.on('data', onStreamData);
    stream.on('trailers', onStreamTrailers);
    stream.on('end', onStreamEnd);
    stream.on('close', onStreamClose);
    this.watch(invocation, this.plan.address);
    if (body instanceof RequestStream) {
      this.input = body;
      const { codec, maxMessageSize, compression } = this.plan;
      void pumpRequestStream(body, new RequestSink(this, stream, codec, maxMessageSize, compression));
    } else if (Array.isArray(body)) {
      stream.write(body[0]);
      stream.end(body[1]);
    } else {
      stream.end(body);
    }
    if (invocation.oneWay) this.settle(undefined, undefined);
  }

  isOpen(): boolean {
    return !this.finished;
  }

  /** The request stream failed (its source threw, an item could not be sent): cancel the call. */
  giveUp(error: RpcError): void {
    this.abandon(error);
  }

  /** The caller gave up (deadline, signal): fail now and reset the stream. */
  protected override abandon(error: RpcError): void {
    if (this.finished) return;
    this.cancelStream();
    this.finish(error);
  }

  private cancelStream(): void {
    if (this.aborter !== undefined) this.aborter.abort();
    else this.stream?.close(constants.NGHTTP2_CANCEL);
  }

  // The on* methods below are called by the stream's listeners and the message reader; nothing else calls them.
  onResponse(headers: IncomingHttpHeaders): void {
    const httpStatus = Number(headers[':status']);
    this.keepMetadata(headers);
    if (httpStatus !== 200) {
      this.status = new RpcError(codeForHttpStatus(httpStatus), `HTTP status ${httpStatus} from ${this.plan.address}`);
      this.ignoreBody = true;
      return;
    }
    if (headers['grpc-status'] !== undefined) {
      this.status = readStatus(headers) ?? null; // Trailers-Only
      this.ignoreBody = true;
      return;
    }
    if (parseContentType(headers['content-type'] as string | undefined) === undefined) {
      this.status = new RpcError(Code.UNKNOWN, `response content-type ${JSON.stringify(headers['content-type'])} is not gRPC`);
      this.ignoreBody = true;
      return;
    }
    const encoding = headers['grpc-encoding'];
    if (typeof encoding === 'string' && encoding !== 'identity') {
      if (!isEncoding(encoding)) return this.abandon(new RpcError(Code.INTERNAL, `response in unsupported grpc-encoding ${encoding}`));
      this.encoding = encoding;
    }
    if (this.plan.streaming) {
      this.responses = new ResponseStream(this.stream!, () => this.abandon(new RpcError(Code.CANCELLED, 'response stream closed by the caller')));
      this.settle(this.responses, undefined);
    }
  }

  onData(chunk: Buffer): void {
    if (this.finished || this.ignoreBody) return;
    try {
      this.reader.push(chunk, this);
    } catch (error) {
      this.abandon(RpcError.from(error, Code.INTERNAL));
    }
  }

  onMessage(message: ReceivedMessage): void {
    const responses = this.responses;
    if (responses !== undefined) {
      responses.push(() => this.decode(message));
      return;
    }
    if (this.message !== undefined) throw new RpcError(Code.INTERNAL, 'unary response carries more than one message');
    this.message = message;
  }

  onTrailers(trailers: IncomingHttpHeaders): void {
    this.keepMetadata(trailers);
    this.status = readStatus(trailers) ?? null;
  }

  onEnd(): void {
    if (this.finished) return;
    const status = this.status;
    if (status === undefined) return; // no status: 'close' tells what happened to the stream
    if (status !== null) return this.finish(status);
    if (this.reader.partial) return this.finish(new RpcError(Code.INTERNAL, 'response ended inside a message'));
    if (this.plan.streaming || this.invocation.oneWay) return this.finish(undefined);
    const message = this.message;
    if (message === undefined) return this.finish(new RpcError(Code.INTERNAL, 'unary response carries no message'));
    this.decode(message).then(
      (value) => {
        this.settle(value, undefined);
        this.finish(undefined);
      },
      (error: unknown) => this.finish(RpcError.from(error, Code.INTERNAL)),
    );
  }

  onClose(): void {
    if (this.finished) return;
    const stream = this.stream!;
    const status = this.status;
    // A status arrived and the stream was reset after it (as servers do to stop a request): done,
    // unless an OK answer lost messages to the reset (received, and not read yet, or cut short).
    if (status !== undefined && status !== null) return this.finish(status);
    if (status === null) {
      if (this.ignoreBody || (!this.reader.partial && stream.readableLength === 0)) return this.onEnd();
      return this.finish(new RpcError(Code.INTERNAL, `stream reset with HTTP/2 error ${stream.rstCode} before its response was read whole (call to ${this.plan.address})`));
    }
    const rst = stream.rstCode ?? constants.NGHTTP2_NO_ERROR;
    const known = resetCodes.get(rst);
    const session = this.session!;
    let error: RpcError;
    if (rst === constants.NGHTTP2_REFUSED_STREAM || stream.id === undefined) {
      // Items pulled from a request stream are gone: such a call cannot be sent again.
      error = new RpcError(Code.UNAVAILABLE, `stream refused by ${this.plan.address}`, { unprocessed: this.input?.pulled !== true });
    } else if (session.destroyed || (known === undefined && session.closed)) {
      error = new RpcError(Code.UNAVAILABLE, `connection to ${this.plan.address} lost`);
    } else {
      const [code, text] = known ?? [Code.INTERNAL, rst === constants.NGHTTP2_NO_ERROR ? 'response ended without a grpc-status' : `stream closed with HTTP/2 error ${rst} and no grpc-status`];
      error = new RpcError(code, `${text} (call to ${this.plan.address})`);
    }
    this.finish(error);
  }

  private keepMetadata(headers: IncomingHttpHeaders): void {
    const received = readMetadata(headers);
    if (received === undefined) return;
    const into = this.invocation.responseMetadata;
    for (const [key, value] of received) into.set(key, value);
  }

  private decode(message: ReceivedMessage): Promise<unknown> {
    const { codec, maxMessageSize } = this.plan;
    if (!message.compressed) {
      try {
        return Promise.resolve(codec.decodeResponse(message.data));
      } catch (error) {
        return Promise.reject(RpcError.from(error, Code.INTERNAL));
      }
    }
    return decompress(this.encoding, message.data, maxMessageSize).then((data) => codec.decodeResponse(data));
  }

  /** Resolves or rejects the call's promise, once. */
  private settle(value: unknown, error: RpcError | undefined): void {
    if (this.settled) return;
    this.settled = true;
    if (error !== undefined) this.reject(error);
    else this.resolve(value);
  }

  /** The call is over: release its timer and listener, and report how it ended. */
  private finish(error: RpcError | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.plan.streams.active--;
    this.unwatch();
    // Answered while the request stream was still being sent: the server needs no more of it.
    const stream = this.stream;
    if (this.input !== undefined && stream !== undefined && !stream.writableEnded && !stream.destroyed) this.cancelStream();
    if (this.responses !== undefined) this.responses.close(error);
    if (error !== undefined) this.settle(undefined, error);
    else if (this.plan.streaming && !this.settled) {
      const empty = new ResponseStream(this.stream!, noop); // Trailers-Only OK: a stream of nothing
      empty.close(undefined);
      this.settle(empty, undefined);
    }
  }
}

function noop(): void {}
