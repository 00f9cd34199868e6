import { Code } from '../../core/code.js';
import { STREAM_WINDOW } from '../../core/inbound-stream.js';
import type { StreamSink } from '../../core/request-stream.js';
import { RpcError, errorMessage } from '../../core/rpc-error.js';
import type { Serializer } from '../../serialization/serializer.js';
import type { Connection } from './connection.js';
import { FrameType } from './frame.js';
import { StreamCredit } from './stream-credit.js';

/**
 * Items of a request stream a caller may send before the server grants more: the server reads at
 * most this many ahead of its handler (docs/protocol.md, "Request streams").
 */
export const INPUT_WINDOW = STREAM_WINDOW;

/**
 * Where a client- or bidi-streaming call's request stream goes on a connection: STREAM_ITEM frames
 * while the server's credit lasts, then STREAM_END. The server grants credit as its handler reads.
 */
export class RequestSink implements StreamSink {
  readonly credit = new StreamCredit(INPUT_WINDOW);

  constructor(
    private readonly connection: Connection,
    private readonly serializer: Serializer,
    private readonly id: number,
    /** Whether the call still waits for its answer on this connection. */
    private readonly open: () => boolean,
    /** Gives the call up with `error`, telling the server to stop. */
    private readonly abandon: (error: RpcError) => void,
  ) {}

  isOpen(): boolean {
    return this.open() && !this.connection.isClosed;
  }

  write(item: unknown): Promise<void> | undefined {
    let body: Uint8Array;
    try {
      body = this.serializer.encode(item);
    } catch (error) {
      throw new RpcError(Code.INVALID_ARGUMENT, `cannot encode a request stream item: ${errorMessage(error)}`);
    }
    const limit = this.connection.sendLimit;
    if (body.byteLength > limit) throw new RpcError(Code.RESOURCE_EXHAUSTED, `request stream item of ${body.byteLength} bytes exceeds the frame limit of ${limit}`);
    this.credit.spend();
    this.connection.send(FrameType.STREAM_ITEM, 0, this.serializer.id, this.id, undefined, body);
    return this.credit.ready();
  }

  end(): void {
    this.connection.send(FrameType.STREAM_END, 0, 0, this.id, undefined, undefined);
  }

  fail(error: RpcError): void {
    this.abandon(error);
  }
}
