import { Code } from '../../core/code.js';
import type { StreamSink } from '../../core/request-stream.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';

const NEWLINE = new Uint8Array([0x0a]);
/**
 * Encoded lines held for the sender before the source is pulled no more: enough to fill a socket
 * write with many small items, little next to the socket's own buffers.
 */
const QUEUE_LIMIT = 16 * 1024;

/**
 * The request body of a client-streaming call over HTTP: NDJSON, one JSON value per line, made as
 * the HTTP client asks for it. It is the `StreamSink` that `pumpRequestStream` writes the caller's
 * items into, and the `AsyncIterable` of chunks the HTTP client sends: the client asks for the next
 * chunk once the socket has taken the last one, and only then is the source pulled again (after at
 * most QUEUE_LIMIT bytes queued here). So a server that stops reading holds the caller's source
 * back through TCP alone.
 */
export class NdjsonBody implements StreamSink, AsyncIterableIterator<Uint8Array> {
  private readonly lines: Uint8Array[] = [];
  private queued = 0;
  private ended = false;
  private closed = false;
  private failure: RpcError | undefined;
  private started = false;
  /** The HTTP client waiting for the next chunk. */
  private reader: { resolve(result: IteratorResult<Uint8Array>): void; reject(error: RpcError): void } | undefined;
  /** The pump waiting for room. */
  private room: (() => void) | undefined;

  constructor(
    private readonly encode: (item: unknown) => Uint8Array,
    /** The HTTP client asked for the body's first chunk: the source may be pulled from now on. */
    private readonly onStart: (body: NdjsonBody) => void,
    /** The source threw or an item could not be encoded: the call fails with `error`. */
    private readonly onFail: (error: RpcError) => void,
  ) {}

  // The StreamSink side: the pump writes the caller's items.
  isOpen(): boolean {
    return !this.closed;
  }

  write(item: unknown): Promise<void> | undefined {
    let line: Uint8Array;
    try {
      line = this.encode(item);
    } catch (error) {
      throw new RpcError(Code.INVALID_ARGUMENT, `cannot send a request stream item: ${errorMessage(error)}`, { cause: error });
    }
    if (this.closed) return undefined;
    this.lines.push(line, NEWLINE);
    this.queued += line.byteLength + 1;
    this.deliver();
    if (this.queued < QUEUE_LIMIT || this.closed) return undefined;
    return new Promise<void>((resolve) => (this.room = resolve));
  }

  end(): void {
    this.ended = true;
    this.deliver();
  }

  fail(error: RpcError): void {
    if (this.closed) return;
    this.onFail(error);
    this.abort(error);
  }

  /** The call is over (answered, or failed): the source is pulled no more, and the body ends where it is. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lines.length = 0;
    this.queued = 0;
    this.wakeWriter();
    const reader = this.reader;
    this.reader = undefined;
    reader?.resolve({ value: undefined, done: true });
  }

  /** The call was given up: the body fails with `error`, so that the request is not ended cleanly. */
  abort(error: RpcError): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.closed = true;
    this.lines.length = 0;
    this.queued = 0;
    this.wakeWriter();
    const reader = this.reader;
    this.reader = undefined;
    reader?.reject(error);
  }

  // The AsyncIterator side: the HTTP client reads the body.
  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (!this.started) {
      this.started = true;
      this.onStart(this);
    }
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.queued > 0) return Promise.resolve({ value: this.take(), done: false });
    if (this.ended || this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.reader = { resolve, reject };
    });
  }

  /** The HTTP client stopped reading (its connection failed). */
  return(): Promise<IteratorResult<Uint8Array>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Hands what is queued to a waiting reader, or the end once nothing is. */
  private deliver(): void {
    const reader = this.reader;
    if (reader === undefined) return;
    if (this.queued > 0) {
      this.reader = undefined;
      reader.resolve({ value: this.take(), done: false });
    } else if (this.ended) {
      this.reader = undefined;
      reader.resolve({ value: undefined, done: true });
    }
  }

  /** Everything queued as one chunk; the pump may go on. */
  private take(): Uint8Array {
    const { lines } = this;
    const chunk = join(lines, this.queued);
    lines.length = 0;
    this.queued = 0;
    this.wakeWriter();
    return chunk;
  }

  private wakeWriter(): void {
    const room = this.room;
    this.room = undefined;
    room?.();
  }
}

function join(parts: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** A whole NDJSON body, for a client that cannot stream a request (the browser's `fetch` over HTTP/1.1). */
export async function collectBody(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.byteLength;
  }
  return chunks.length === 1 ? chunks[0]! : join(chunks, size);
}
