import type { ClientHttp2Stream } from 'node:http2';
import { Code } from '../../core/code.js';
import type { StreamSink } from '../../core/request-stream.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';
import type { MethodCodec } from './codec.js';
import { COMPRESS_FROM, compress, type Encoding } from './compression.js';
import { drained, writeMessage } from './response.js';

/** What a request stream needs from its call. */
export interface InputCall {
  /** Whether the call still waits for its answer. */
  isOpen(): boolean;
  /** Gives the call up with `error`, resetting its HTTP/2 stream (RST_STREAM CANCEL). */
  giveUp(error: RpcError): void;
}

/**
 * Where a client- or bidi-streaming call's request stream goes over gRPC: one length-prefixed
 * message per item on the call's HTTP/2 stream, which is half-closed when the source ends. The
 * next item is pulled only once the stream has taken this one (its 'drain'), so HTTP/2 flow
 * control, which the server's reading drives, holds the source back.
 */
export class RequestSink implements StreamSink {
  constructor(
    private readonly call: InputCall,
    private readonly stream: ClientHttp2Stream,
    private readonly codec: MethodCodec,
    private readonly maxMessageSize: number,
    private readonly compression: Encoding,
  ) {}

  isOpen(): boolean {
    return this.call.isOpen() && !this.stream.destroyed && !this.stream.writableEnded;
  }

  write(item: unknown): Promise<void> | undefined {
    let bytes: Uint8Array;
    try {
      bytes = this.codec.encodeRequestItem(item);
    } catch (error) {
      throw RpcError.from(error, Code.INVALID_ARGUMENT);
    }
    if (bytes.length > this.maxMessageSize) {
      throw new RpcError(Code.RESOURCE_EXHAUSTED, `request stream message of ${bytes.length} bytes exceeds the limit of ${this.maxMessageSize}`);
    }
    const compression = this.compression;
    if (compression === 'identity' || bytes.length < COMPRESS_FROM) return this.send(bytes, false);
    return compress(compression, bytes).then(
      (zipped) => this.send(zipped, true),
      (error: unknown) => {
        throw new RpcError(Code.INTERNAL, `cannot compress a request stream message: ${errorMessage(error)}`);
      },
    );
  }

  end(): void {
    this.stream.end();
  }

  fail(error: RpcError): void {
    this.call.giveUp(error);
  }

  private send(bytes: Uint8Array, compressed: boolean): Promise<void> | undefined {
    if (!this.isOpen()) return undefined;
    return writeMessage(this.stream, bytes, compressed) ? undefined : drained(this.stream);
  }
}
