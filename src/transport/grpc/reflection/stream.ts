import { constants, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { Code } from '../../../core/code.js';
import { passGate } from '../../../core/gate.js';
import { RpcError } from '../../../core/rpc-error.js';
import { startTimer, stopTimer, type Timer } from '../../../core/timer.js';
import { decompress } from '../compression.js';
import type { Accepted, ExchangeEnv } from '../exchange-env.js';
import { MessageReader, type MessageSink, type ReceivedMessage } from '../message.js';
import { responseHeaders, trailersOnly, writeMessage } from '../response.js';
import { sessionPeer } from '../session-peer.js';
import { OK_TRAILERS, writeErrorStatus } from '../status.js';
import type { ReflectionCatalog } from './catalog.js';
import { decodeReflectionRequest, encodeReflectionResponse, type ReflectionResponse } from './message-codec.js';

const OK_ONLY: OutgoingHttpHeaders = Object.freeze({ ...responseHeaders('proto', 'identity', undefined), ...OK_TRAILERS });

/**
 * One `ServerReflectionInfo` call: a bidirectional stream, served here on its HTTP/2 stream, since
 * it exists on gRPC listeners only (not as a `bidi` method of the call table). Each request message is answered by one response message,
 * in order; when the client half-closes, the status `OK` follows in trailers. The server's gate
 * admits the stream once, on its headers, before any message is read; a deadline, the message
 * size limit and the time a message may take to arrive apply as to any call.
 */
export class ReflectionStream implements MessageSink {
  private readonly reader: MessageReader;
  private readonly queue: ReceivedMessage[] = [];
  /** Files sent on this stream, which later answers leave out as imports. */
  private readonly sent = new Set<string>();
  private trailers: OutgoingHttpHeaders = OK_TRAILERS;
  private timer: Timer | undefined;
  /** Runs while a request message has begun and not ended. */
  private arrival: Timer | undefined;
  private gated = false;
  /** A compressed request is being inflated: later ones wait, so that answers keep their order. */
  private busy = false;
  /** The client has half-closed. */
  private ended = false;
  private draining = false;
  private headersSent = false;
  private done = false;
  private running = true;

  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly accepted: Accepted,
    private readonly env: ExchangeEnv,
    private readonly catalog: ReflectionCatalog,
    private readonly open: Set<ReflectionStream>,
  ) {
    env.guard.running++;
    env.guard.activity++;
    env.stats.calls++;
    env.stats.active++;
    open.add(this);
    this.reader = new MessageReader(env.settings.maxMessageSize, env.guard);
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('end', () => this.onEnd());
    stream.on('close', () => this.onClose());
    if (accepted.codec.name !== 'proto') {
      this.fail(new RpcError(Code.UNIMPLEMENTED, `server reflection speaks Protobuf (application/grpc), not ${accepted.codec.name}`));
      return;
    }
    if (accepted.deadline !== undefined) {
      this.timer = startTimer(accepted.deadline - Date.now(), (self) => self.fail(new RpcError(Code.DEADLINE_EXCEEDED, 'deadline exceeded')), this);
    }
    const gate = env.gate;
    if (gate === undefined) return;
    this.gated = true;
    const session = stream.session;
    const secure = session?.encrypted === true;
    const { entry, metadata } = accepted;
    passGate(gate, { service: entry.service, method: entry.method, metadata, peer: secure ? sessionPeer(session) : undefined, protocol: secure ? 'grpcs' : 'grpc' }, () => {
      this.gated = false;
      this.pump();
    }, (error) => this.fail(error));
  }

  onMessage(message: ReceivedMessage): void {
    this.queue.push(message);
  }

  /** The server drains: requests already received are answered, then the stream ends UNAVAILABLE. */
  drain(): void {
    this.draining = true;
    this.pump();
  }

  private onData(chunk: Buffer): void {
    if (this.done) return;
    try {
      this.reader.push(chunk, this);
    } catch (error) {
      return this.fail(RpcError.from(error, Code.INTERNAL));
    }
    if (!this.reader.partial) this.stopArrival();
    else this.arrival ??= startTimer(this.env.settings.messageTimeoutMs, (self) => self.tooSlow(), this);
    this.pump();
  }

  private tooSlow(): void {
    this.arrival = undefined;
    this.fail(new RpcError(Code.RESOURCE_EXHAUSTED, `request message not complete ${this.env.settings.messageTimeoutMs} ms after its first bytes`));
  }

  private onEnd(): void {
    this.ended = true;
    if (this.reader.partial) return this.fail(new RpcError(Code.INTERNAL, 'request ended inside a message'));
    this.pump();
  }

  private onClose(): void {
    this.reader.release();
    this.open.delete(this);
    this.stopRunning();
    if (this.done) return;
    this.done = true;
    this.clearTimers();
    // A stream reset before any answer is what rapid reset is made of, as for any other call.
    if (this.stream.rstCode !== constants.NGHTTP2_NO_ERROR && !this.headersSent && this.env.guard.reset()) this.env.punish();
  }

  /** Answers the requests received, in order, then ends the stream if the client has half-closed. */
  private pump(): void {
    while (!this.done && !this.gated && !this.busy) {
      const message = this.queue.shift();
      if (message === undefined) break;
      if (!message.compressed) {
        this.answer(message.data);
        continue;
      }
      this.busy = true;
      decompress(this.accepted.encoding, message.data, this.env.settings.maxMessageSize, this.env.decompression).then((data) => {
        this.busy = false;
        this.answer(data);
        this.pump();
      }, (error: unknown) => this.fail(RpcError.from(error, Code.INTERNAL)));
      return;
    }
    if (this.done || this.gated || this.busy || this.queue.length > 0) return;
    if (this.ended) this.finish();
    else if (this.draining) this.fail(new RpcError(Code.UNAVAILABLE, 'server is shutting down'));
  }

  private answer(bytes: Uint8Array): void {
    if (this.done) return;
    let response: ReflectionResponse;
    try {
      response = this.catalog.answer(decodeReflectionRequest(bytes), this.sent);
    } catch (error) {
      return this.fail(RpcError.from(error, Code.INVALID_ARGUMENT));
    }
    let out: Uint8Array;
    try {
      out = this.encode(response);
    } catch (error) {
      return this.fail(RpcError.from(error, Code.INTERNAL));
    }
    const stream = this.stream;
    if (stream.closed || stream.destroyed) return;
    try {
      if (!this.headersSent) this.respond();
      // A client that sends faster than it reads is not read until the answers have gone out.
      if (!writeMessage(stream, out, false)) {
        stream.pause();
        stream.once('drain', () => stream.resume());
      }
    } catch {
      this.reset(); // Node refused the write: the stream went away meanwhile
    }
  }

  /** The response message; an answer beyond the size limit becomes an error response. */
  private encode(response: ReflectionResponse): Uint8Array {
    const out = encodeReflectionResponse(response);
    const limit = this.env.settings.maxMessageSize;
    if (out.length <= limit) return out;
    const error_message = `the answer of ${out.length} bytes exceeds the message size limit of ${limit}`;
    return encodeReflectionResponse({ valid_host: response.valid_host, original_request: response.original_request, error_response: { error_code: Code.RESOURCE_EXHAUSTED, error_message } });
  }

  private respond(): void {
    this.headersSent = true;
    this.stream.respond(responseHeaders('proto', 'identity', undefined), { waitForTrailers: true });
    this.stream.once('wantTrailers', () => {
      try {
        this.stream.sendTrailers(this.trailers);
      } catch {
        this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      }
    });
  }

  /** The client half-closed and every request is answered: status OK. */
  private finish(): void {
    this.end();
    const stream = this.stream;
    if (stream.closed || stream.destroyed) return;
    try {
      if (this.headersSent) stream.end();
      else stream.respond(OK_ONLY, { endStream: true });
    } catch {
      this.reset();
    }
  }

  private fail(error: RpcError): void {
    if (this.done) return;
    this.end();
    const stream = this.stream;
    if (stream.closed || stream.destroyed) return;
    if (!this.headersSent) return trailersOnly(stream, 'proto', error);
    const trailers: OutgoingHttpHeaders = {};
    writeErrorStatus(error, trailers);
    this.trailers = trailers;
    try {
      stream.end();
    } catch {
      this.reset();
    }
  }

  private reset(): void {
    this.end();
    if (!this.stream.destroyed) this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  }

  private end(): void {
    this.done = true;
    this.clearTimers();
    this.stopRunning();
  }

  private stopRunning(): void {
    if (!this.running) return;
    this.running = false;
    this.env.guard.running--;
    this.env.stats.active--;
  }

  private clearTimers(): void {
    stopTimer(this.timer);
    this.timer = undefined;
    this.stopArrival();
  }

  private stopArrival(): void {
    stopTimer(this.arrival);
    this.arrival = undefined;
  }
}
