import { constants, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { Code } from '../../core/code.js';
import type { MetadataValue } from '../../core/metadata.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';
import { dispatch, type CallResponder } from '../../core/dispatch.js';
import { passGate, type CallGate } from '../../core/gate.js';
import type { Principal } from '../../core/principal.js';
import { ServerCall } from '../../core/server-call.js';
import { takesStream } from '../../core/service.js';
import { startTimer, stopTimer, type Timer } from '../../core/timer.js';
import { COMPRESS_FROM, compress, decompress } from './compression.js';
import type { Accepted, ExchangeEnv } from './exchange-env.js';
import { MessageReader, type ReceivedMessage } from './message.js';
import { drained, endWithMessage, lateMetadata, responseHeaders, trailersOnly, writeMessage } from './response.js';
import { ServerInput, type InputEnv } from './server-input.js';
import { sessionPeer } from './session-peer.js';
import { OK_TRAILERS, writeErrorStatus } from './status.js';

/** What a handler still reading the request stream of a call already answered hears. */
const answered = new RpcError(Code.CANCELLED, 'the call was answered before its request stream ended');

/** How much later than its caller's this server may start a deadline: a request read late. */
const READ_LAG_MS = 1000;

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
/** RST_STREAM NO_ERROR once the trailers are out: closing in the same tick would drop them. */
function stopRequest(stream: ServerHttp2Stream): void {
  if (!stream.destroyed && !stream.readableEnded) stream.close(constants.NGHTTP2_NO_ERROR);
}
function expireExchange(exchange: Exchange): void {
  exchange.expire();
}
function messageTooSlow(exchange: Exchange): void {
  exchange.tooSlow();
}

/**
 * One call on one HTTP/2 stream: reads the single request message (or, for client and bidi
 * streaming, hands each message to the handler as it arrives), runs the handler, and answers with
 * response headers, the message (or a stream of them) and the status in trailers.
 */
export class Exchange implements CallResponder, InputEnv {
  private readonly reader: MessageReader;
  /** Client and bidi streaming: the request stream the handler reads. */
  private readonly input: ServerInput | undefined;
  private request: ReceivedMessage | undefined;
  private call: ServerCall | undefined;
  private timer: Timer | undefined;
  /** Runs while a request message has begun and not ended, so that it cannot hold its buffer for ever. */
  private arrival: Timer | undefined;
  private headersSent = false;
  private sentMetadata: Map<string, MetadataValue> | undefined;
  private trailers: OutgoingHttpHeaders = OK_TRAILERS;
  /** The status is decided (sent, or the stream is gone): nothing more is written. */
  private done = false;
  private running = true;
  /** Who the caller is, once the gate (or its certificate) says so. */
  private principal: Principal | undefined;
  /** True while the gate decides; a request message that arrives meanwhile waits, undecoded, in `held`. */
  private gated = false;
  private held: Uint8Array | undefined;

  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly accepted: Accepted,
    private readonly env: ExchangeEnv,
  ) {
    env.guard.running++;
    env.guard.activity++;
    env.stats.calls++;
    env.stats.active++;
    this.reader = new MessageReader(env.settings.maxMessageSize, env.guard);
    if (takesStream(accepted.entry.options)) this.input = new ServerInput(stream, this);
    (stream as Carrier)[kExchange] = this;
    stream.on('data', onStreamData);
    stream.on('end', onStreamEnd);
    stream.on('close', onStreamClose);
    if (accepted.deadline !== undefined) {
      const left = accepted.deadline - Date.now();
      if (left <= 0) this.expire();
      else this.timer = startTimer(left, expireExchange, this);
    }
    const session = stream.session;
    if (session?.encrypted === true) this.principal = sessionPeer(session);
    if (env.gate !== undefined && !this.done) this.askGate(env.gate, session?.encrypted === true ? 'grpcs' : 'grpc');
    else if (this.input !== undefined && !this.done) this.startStreaming(this.input);
  }

  // InputEnv: what the request stream of a client- or bidi-streaming call needs.
  get codec(): InputEnv['codec'] {
    return this.accepted.codec;
  }

  get encoding(): InputEnv['encoding'] {
    return this.accepted.encoding;
  }

  get maxMessageSize(): number {
    return this.env.settings.maxMessageSize;
  }

  get decompression(): InputEnv['decompression'] {
    return this.env.decompression;
  }

  received(bytes: number): void {
    if (this.call !== undefined) this.call.requestBytes += bytes;
  }

  paused(paused: boolean): void {
    // A message cut off by a pause is late because of the reader, not the caller: its clock stops.
    if (paused) this.stopArrival();
    else if (this.reader.partial && !this.done) this.arrival ??= startTimer(this.env.settings.messageTimeoutMs, messageTooSlow, this);
  }

  /** A client- or bidi-streaming call runs at once, its handler reading messages as they come. */
  private startStreaming(input: ServerInput): void {
    const { entry } = this.accepted;
    const call = new ServerCall(entry.service, entry.method, [input.stream], this.accepted.metadata, this.accepted.deadline, false);
    call.principal = this.principal;
    call.requestBytes = 0;
    this.call = call;
    input.open();
    dispatch(entry, call, this, this.env.logger);
  }

  /** Asks the gate on the headers alone, while the message may still be arriving; it is decoded only once admitted. */
  private askGate(gate: CallGate, protocol: string): void {
    this.gated = true;
    const { entry, metadata } = this.accepted;
    passGate(gate, { service: entry.service, method: entry.method, metadata, peer: this.principal, protocol }, (principal) => {
      this.gated = false;
      this.principal = principal;
      if (this.input !== undefined) {
        if (!this.done) this.startStreaming(this.input);
        return;
      }
      const held = this.held;
      this.held = undefined;
      if (held !== undefined) this.dispatch(held);
    }, (error) => {
      this.held = undefined;
      this.fail(error, false);
    });
  }

  // onData, onMessage, onEnd, onClose, expire, tooSlow and onWantTrailers are called by the
  // stream's listeners, the message reader and the timers; nothing else calls them.
  onData(chunk: Buffer): void {
    if (this.done) return;
    try {
      this.reader.push(chunk, this);
    } catch (error) {
      return this.fail(RpcError.from(error, Code.INTERNAL), true);
    }
    // Only a message split across chunks gets a timer: one that came in a single chunk needs none.
    if (this.reader.partial) this.arrival ??= startTimer(this.env.settings.messageTimeoutMs, messageTooSlow, this);
    else if (this.arrival !== undefined) this.stopArrival();
  }

  onMessage(message: ReceivedMessage): void {
    if (this.input !== undefined) {
      this.input.receive(message);
      return;
    }
    if (this.request !== undefined) throw new RpcError(Code.INTERNAL, `${this.accepted.entry.method} takes one request message, not several`);
    this.request = message;
  }

  onEnd(): void {
    if (this.done) return;
    const request = this.request;
    if (this.reader.partial) return this.fail(new RpcError(Code.INTERNAL, 'request ended inside a message'), true);
    if (this.input !== undefined) {
      // Node ends the request of a stream the caller reset, before its 'close': that is no end of
      // the request stream, and 'close' fails it.
      if (!this.stream.closed) this.input.end();
      return;
    }
    if (request === undefined) return this.fail(new RpcError(Code.INTERNAL, 'request carries no message'), true);
    if (!request.compressed) return this.dispatch(request.data);
    decompress(this.accepted.encoding, request.data, this.env.settings.maxMessageSize, this.env.decompression).then(
      (data) => this.dispatch(data),
      (error: unknown) => this.fail(RpcError.from(error, Code.INTERNAL), true),
    );
  }

  onClose(): void {
    this.reader.release();
    if (this.done) return; // answered before the stream closed: the normal end
    this.done = true;
    this.clearTimer();
    const reason = this.env.abortReason();
    this.input?.fail(reason);
    if (this.call !== undefined) this.call.abort(reason);
    else this.stopRunning();
    if (this.stream.rstCode !== constants.NGHTTP2_NO_ERROR && this.resetEarly() && this.env.guard.reset()) this.env.punish();
  }

  /**
   * Whether a reset is what rapid reset is made of: one before this server began its answer and
   * early in the caller's budget. A caller giving up at its deadline resets as gRPC prescribes, and
   * its deadline is earlier than ours by the time we took to read the request (much of a short
   * budget on a busy server); a reset after the response began is a caller leaving a stream. The
   * allowance for that lag is at most a quarter of the budget, so that a reset at once counts
   * whatever budget the caller claims.
   */
  private resetEarly(): boolean {
    if (this.headersSent) return false;
    // A caller leaving a request stream it has begun sending is no more a flood than one leaving a server stream.
    if (this.input !== undefined && this.call !== undefined && this.call.requestBytes > 0) return false;
    const { deadline, timeoutMs } = this.accepted;
    return deadline === undefined || deadline - Date.now() > timeoutMs / 2 + Math.min(READ_LAG_MS, timeoutMs / 4);
  }

  expire(): void {
    this.fail(new RpcError(Code.DEADLINE_EXCEEDED, 'deadline exceeded'), true);
  }

  tooSlow(): void {
    this.arrival = undefined;
    this.fail(new RpcError(Code.RESOURCE_EXHAUSTED, `request message not complete ${this.env.settings.messageTimeoutMs} ms after its first bytes`), true);
  }

  private dispatch(bytes: Uint8Array): void {
    if (this.done) return;
    if (this.gated) {
      this.held = bytes;
      return;
    }
    const { entry, codec } = this.accepted;
    let args: unknown[];
    try {
      args = codec.decodeRequest(bytes);
    } catch (error) {
      return this.fail(RpcError.from(error, Code.INVALID_ARGUMENT), true);
    }
    const call = new ServerCall(entry.service, entry.method, args, this.accepted.metadata, this.accepted.deadline, false);
    call.principal = this.principal;
    call.requestBytes = bytes.length;
    this.call = call;
    dispatch(entry, call, this, this.env.logger);
  }

  // The CallResponder side: the dispatcher says how the call ended.
  settled(): void {
    this.stopRunning();
  }

  isOpen(): boolean {
    return !this.done;
  }

  result(call: ServerCall, result: unknown): void {
    if (this.done) return;
    const zip = this.accepted.responseEncoding;
    let bytes: Uint8Array;
    let headers: OutgoingHttpHeaders;
    try {
      bytes = this.encode(result);
      call.responseBytes = bytes.length;
      headers = this.headersFor(zip !== 'identity' && bytes.length >= COMPRESS_FROM);
    } catch (error) {
      return this.fail(RpcError.from(error, Code.INTERNAL), false);
    }
    this.done = true;
    this.clearTimer();
    this.input?.fail(answered);
    if (zip !== 'identity' && bytes.length >= COMPRESS_FROM) {
      compress(zip, bytes).then((zipped) => this.sendLast(headers, zipped, true), () => this.sendLast(headers, bytes, false));
    } else {
      this.sendLast(headers, bytes, false);
    }
  }

  error(_call: ServerCall, error: RpcError): void {
    this.fail(error, false);
  }

  /** One message of a server stream, compressed first when it is large enough. */
  item(call: ServerCall, value: unknown): Promise<void> | undefined {
    const bytes = this.encode(value);
    call.responseBytes += bytes.length;
    const zip = this.accepted.responseEncoding;
    if (zip === 'identity' || bytes.length < COMPRESS_FROM) return this.writeItem(bytes, false);
    return compress(zip, bytes).then((zipped) => {
      if (!this.done) return this.writeItem(zipped, true);
    });
  }

  end(): void {
    this.endStream();
  }

  /** A unary answer: headers, the message and the trailers in one go. */
  private sendLast(headers: OutgoingHttpHeaders, bytes: Uint8Array, compressed: boolean): void {
    const stream = this.stream;
    if (stream.closed || stream.destroyed) return;
    try {
      this.respond(headers);
      endWithMessage(stream, bytes, compressed);
    } catch {
      // Node refused the response (the stream went away meanwhile): what is left is to reset it.
      if (!stream.destroyed) stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    }
  }

  private writeItem(bytes: Uint8Array, compressed: boolean): Promise<void> | undefined {
    if (!this.headersSent) this.respond(this.headersFor(this.accepted.responseEncoding !== 'identity'));
    return writeMessage(this.stream, bytes, compressed) ? undefined : drained(this.stream);
  }

  private endStream(): void {
    if (!this.headersSent) this.respond(this.headersFor(false));
    this.done = true;
    this.clearTimer();
    this.input?.fail(answered);
    if (this.stream.closed || this.stream.destroyed) return;
    this.trailers = lateMetadata(OK_TRAILERS, this.call, this.sentMetadata);
    this.stream.end();
  }

  private encode(value: unknown): Uint8Array {
    let bytes: Uint8Array;
    try {
      bytes = this.accepted.codec.encodeResponse(value);
    } catch (error) {
      throw new RpcError(Code.INTERNAL, `cannot encode the result: ${errorMessage(error)}`);
    }
    if (bytes.length > this.env.settings.maxMessageSize) {
      throw new RpcError(Code.RESOURCE_EXHAUSTED, `response message of ${bytes.length} bytes exceeds the limit of ${this.env.settings.maxMessageSize}`);
    }
    return bytes;
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
      return;
    }
    // Answered while the caller still sends its request stream: RST_STREAM NO_ERROR after the
    // trailers tells it to stop, as gRPC allows (a caller that stops by itself comes first).
    if (this.input !== undefined && !this.stream.readableEnded) setImmediate(stopRequest, this.stream);
  }

  /**
   * Ends the call with an error status; `abort` when the handler may still run and must stop (a
   * request message that cannot be read, say).
   */
  fail(error: RpcError, abort = true): void {
    if (this.done) return;
    this.done = true;
    this.clearTimer();
    this.input?.fail(error);
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

  private stopRunning(): void {
    if (!this.running) return;
    this.running = false;
    this.env.guard.running--;
    this.env.stats.active--;
  }

  private clearTimer(): void {
    stopTimer(this.timer);
    this.timer = undefined;
    if (this.arrival !== undefined) this.stopArrival();
  }

  private stopArrival(): void {
    stopTimer(this.arrival);
    this.arrival = undefined;
  }
}

