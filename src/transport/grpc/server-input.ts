import type { ServerHttp2Stream } from 'node:http2';
import { Code } from '../../core/code.js';
import { InboundStream, STREAM_WINDOW } from '../../core/inbound-stream.js';
import { RpcError } from '../../core/rpc-error.js';
import type { DecompressionLimits } from '../limits/server-limits.js';
import type { MethodCodec } from './codec.js';
import { decompress, type Encoding } from './compression.js';
import type { ReceivedMessage } from './message.js';

/** What the request stream of one call needs from its exchange. */
export interface InputEnv {
  readonly codec: MethodCodec;
  /** `grpc-encoding` of the request's compressed messages. */
  readonly encoding: Encoding;
  readonly maxMessageSize: number;
  readonly decompression?: DecompressionLimits;
  /** A message could not be read: the call ends with `error`. */
  fail(error: RpcError): void;
  /** One item went to the handler, `bytes` long as it was decoded. */
  received(bytes: number): void;
  /** The HTTP/2 stream was paused (true) or resumed (false) for the reader. */
  paused(paused: boolean): void;
}

/**
 * The server's end of a client- or bidi-streaming call over gRPC: each request message becomes one
 * item of the `InboundStream` the handler reads. Messages are decoded only once `open()` says the
 * call was admitted, and in order (a compressed one is inflated before those after it). When a
 * window of items waits unread, the HTTP/2 stream is paused: the peer's flow-control window then
 * fills and holds it back, until the handler reads and the stream resumes.
 */
export class ServerInput {
  readonly stream: InboundStream;
  /** Messages received and not yet items: before `open()`, or behind one being inflated. */
  private readonly held: ReceivedMessage[] = [];
  private admitted = false;
  private inflating = false;
  private ended = false;
  private isPaused = false;

  constructor(
    private readonly http: ServerHttp2Stream,
    private readonly env: InputEnv,
  ) {
    // The grant says the reader took items: room again, perhaps.
    this.stream = new InboundStream(() => this.resumeIfRoom(), () => {
      // The handler stopped reading: what is left arrives unread until the call's answer closes the stream.
      this.held.length = 0;
    });
  }

  /** The call was admitted: messages become items from now on. */
  open(): void {
    this.admitted = true;
    this.flush();
  }

  /** One request message arrived. */
  receive(message: ReceivedMessage): void {
    if (this.stream.closed) return;
    if (!this.admitted || this.inflating || this.held.length > 0) this.held.push(message);
    else this.deliver(message);
    if (!this.isPaused && this.waiting() >= STREAM_WINDOW) {
      this.isPaused = true;
      this.http.pause();
      this.env.paused(true);
    }
  }

  /** The caller half-closed: the handler's loop ends after the items before. */
  end(): void {
    this.ended = true;
    this.flush();
  }

  /** The call ended early (reset, deadline, error): a handler still reading hears why. */
  fail(reason: RpcError): void {
    this.held.length = 0;
    this.stream.fail(reason);
  }

  private waiting(): number {
    return this.stream.buffered + this.held.length;
  }

  private resumeIfRoom(): void {
    if (!this.isPaused || this.waiting() >= STREAM_WINDOW || this.http.destroyed) return;
    this.isPaused = false;
    this.env.paused(false);
    this.http.resume();
  }

  /** Turns held messages into items while nothing stops it, then the end into the end. */
  private flush(): void {
    while (this.admitted && !this.inflating && this.held.length > 0 && !this.stream.closed) this.deliver(this.held.shift()!);
    if (this.ended && this.admitted && !this.inflating && this.held.length === 0) this.stream.finish();
    this.resumeIfRoom();
  }

  private deliver(message: ReceivedMessage): void {
    if (!message.compressed) {
      this.push(message.data);
      return;
    }
    this.inflating = true;
    decompress(this.env.encoding, message.data, this.env.maxMessageSize, this.env.decompression).then((data) => {
      this.inflating = false;
      this.push(data);
      this.flush();
    }, (error: unknown) => {
      this.inflating = false;
      this.env.fail(RpcError.from(error, Code.INTERNAL));
    });
  }

  private push(bytes: Uint8Array): void {
    if (this.stream.closed) return;
    let item: unknown;
    try {
      item = this.env.codec.decodeRequestItem(bytes);
    } catch (error) {
      this.env.fail(RpcError.from(error, Code.INVALID_ARGUMENT));
      return;
    }
    this.env.received(bytes.length);
    this.stream.push(item);
  }
}
