import { Code } from '../../core/code.js';
import { RpcError } from '../../core/rpc-error.js';

/**
 * gRPC's Length-Prefixed-Message: one flag byte (1 = compressed), a big-endian u32 length, then
 * the message bytes.
 */
export const PREFIX_SIZE = 5;

// Messages up to this size are copied behind their prefix into one buffer: one write, one frame.
const COPY_LIMIT = 16 * 1024;

/** The message with its prefix: one buffer for small messages, prefix and message for large ones. */
export function frameMessage(message: Uint8Array, compressed: boolean): Buffer | [Buffer, Uint8Array] {
  const length = message.byteLength;
  if (length > COPY_LIMIT) {
    const prefix = Buffer.allocUnsafe(PREFIX_SIZE);
    prefix[0] = compressed ? 1 : 0;
    prefix.writeUInt32BE(length, 1);
    return [prefix, message];
  }
  const framed = Buffer.allocUnsafe(PREFIX_SIZE + length);
  framed[0] = compressed ? 1 : 0;
  framed.writeUInt32BE(length, 1);
  framed.set(message, PREFIX_SIZE);
  return framed;
}

/** Where a reader hands the messages it completes: an object, so that no closure is made per call. */
export interface MessageSink {
  onMessage(message: ReceivedMessage): void;
}

/** Bytes shared by the readers of one connection, so that many streams cannot add up to too much. */
export interface ByteBudget {
  take(bytes: number): boolean;
  give(bytes: number): void;
}

/** One message as received: still compressed when the flag says so. */
export interface ReceivedMessage {
  compressed: boolean;
  data: Buffer;
}

/**
 * Cuts the DATA of one stream into messages. A message inside one chunk is handed out as a view
 * of it; one that spans chunks is copied once into a buffer of its declared size, which is checked
 * against the limit before anything is allocated.
 */
export class MessageReader {
  // Made only for a prefix split across chunks, which small messages never are.
  private header: Buffer | undefined;
  private headerFill = 0;
  private body: Buffer | undefined;
  private bodyFill = 0;
  private compressed = false;

  private held = 0;

  constructor(
    private readonly maxMessageSize: number,
    private readonly budget?: ByteBudget,
  ) {}

  /** Returns the bytes taken from the budget for messages that spanned chunks, and drops a partial one. */
  release(): void {
    if (this.held > 0) this.budget?.give(this.held);
    this.held = 0;
    this.body = undefined;
  }

  /** True while a message has begun and not ended: a stream that ends now was cut short. */
  get partial(): boolean {
    return this.headerFill > 0 || this.body !== undefined;
  }

  /** Feeds a chunk; hands each message it completes to `sink`; throws an `RpcError` on bad framing. */
  push(chunk: Buffer, sink: MessageSink): void {
    let offset = 0;
    while (offset < chunk.length) {
      const body = this.body;
      if (body !== undefined) {
        const n = Math.min(body.length - this.bodyFill, chunk.length - offset);
        chunk.copy(body, this.bodyFill, offset, offset + n);
        this.bodyFill += n;
        offset += n;
        if (this.bodyFill === body.length) {
          this.body = undefined;
          // Received whole, it is no longer partly received: a long stream of such messages holds only one at a time.
          if (this.held > 0) {
            this.held -= body.length;
            this.budget?.give(body.length);
          }
          sink.onMessage({ compressed: this.compressed, data: body });
        }
        continue;
      }
      let length: number;
      if (this.headerFill === 0 && chunk.length - offset >= PREFIX_SIZE) {
        this.compressed = this.flag(chunk[offset]!);
        length = chunk.readUInt32BE(offset + 1);
        offset += PREFIX_SIZE;
      } else {
        const header = (this.header ??= Buffer.alloc(PREFIX_SIZE));
        const n = Math.min(PREFIX_SIZE - this.headerFill, chunk.length - offset);
        chunk.copy(header, this.headerFill, offset, offset + n);
        this.headerFill += n;
        offset += n;
        if (this.headerFill < PREFIX_SIZE) return;
        this.headerFill = 0;
        this.compressed = this.flag(header[0]!);
        length = header.readUInt32BE(1);
      }
      if (length > this.maxMessageSize) {
        throw new RpcError(Code.RESOURCE_EXHAUSTED, `message of ${length} bytes exceeds the limit of ${this.maxMessageSize}`);
      }
      if (chunk.length - offset >= length) {
        sink.onMessage({ compressed: this.compressed, data: chunk.subarray(offset, offset + length) });
        offset += length;
      } else {
        if (this.budget !== undefined) {
          if (!this.budget.take(length)) throw new RpcError(Code.RESOURCE_EXHAUSTED, `connection has too many bytes of partly received messages to take ${length} more`);
          this.held += length;
        }
        this.body = Buffer.allocUnsafe(length);
        this.bodyFill = 0;
      }
    }
  }

  private flag(byte: number): boolean {
    if (byte > 1) throw new RpcError(Code.INTERNAL, `invalid message flag ${byte}`);
    return byte === 1;
  }
}
