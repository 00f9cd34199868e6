import type { IncomingMessage } from 'node:http';
import { Code } from '../../core/code.js';
import { InboundStream, STREAM_WINDOW } from '../../core/inbound-stream.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';
import { BodyTooLarge } from './body.js';

/** What the request stream of one call needs from it. */
export interface LinesEnv {
  /** Decodes one line's JSON value. */
  decode(line: Uint8Array): unknown;
  /** A line could not be read (malformed, too long): the call ends with `error`. */
  fail(error: RpcError): void;
  /** One item went to the handler, `bytes` long. */
  received(bytes: number): void;
}

/**
 * The server's end of a client-streaming call over HTTP: the request body is NDJSON, one JSON value
 * per line, and each line becomes one item of the `InboundStream` the handler reads as soon as it
 * has arrived. When a window of items waits unread the request is paused; TCP then holds the caller
 * back, until the handler reads and the request resumes. A line may be as long as a whole request
 * body (`maxBodyBytes`); the stream as a whole has no limit.
 */
export class RequestLines {
  readonly stream: InboundStream;
  /** Bytes of a line not ended yet. */
  private pending: Buffer[] = [];
  private pendingSize = 0;
  private lineCount = 0;
  private paused = false;
  private stopped = false;

  constructor(
    private readonly req: IncomingMessage,
    private readonly limit: number,
    private readonly env: LinesEnv,
  ) {
    this.stream = new InboundStream(() => this.resumeIfRoom(), () => {
      // The handler stopped reading: what still arrives is not decoded, and its answer ends the request.
      this.stop();
    });
  }

  /** The call runs: lines are read from now on. */
  start(): void {
    const { req } = this;
    req.on('data', this.onData);
    req.on('end', this.onEnd);
    req.on('error', this.onCut);
    req.on('close', this.onCut);
    // Node emits a request's 'error' (the client went away) only to a listener there when it checks,
    // which a stop() in between would leave with none: this one stays.
    req.on('error', ignore);
  }

  /** The call is over (answered, cut off, expired): nothing more is read, and a handler still reading hears `reason`. */
  stop(reason?: RpcError): void {
    if (!this.stopped) {
      this.stopped = true;
      const { req } = this;
      req.off('data', this.onData);
      req.off('end', this.onEnd);
      req.off('error', this.onCut);
      req.off('close', this.onCut);
      this.pending = [];
    }
    if (reason !== undefined) this.stream.fail(reason);
  }

  private readonly onData = (chunk: Buffer): void => {
    let start = 0;
    for (let at = chunk.indexOf(0x0a); at >= 0 && !this.stopped; at = chunk.indexOf(0x0a, start)) {
      const size = this.pendingSize + at - start;
      if (size > this.limit) return this.tooLong();
      const line = this.pendingSize === 0 ? chunk.subarray(start, at) : Buffer.concat([...this.pending, chunk.subarray(start, at)], size);
      this.pending = [];
      this.pendingSize = 0;
      start = at + 1;
      this.line(line);
    }
    if (this.stopped) return;
    if (start < chunk.byteLength) {
      this.pending.push(chunk.subarray(start));
      this.pendingSize += chunk.byteLength - start;
      if (this.pendingSize > this.limit) return this.tooLong();
    }
    if (!this.paused && this.stream.buffered >= STREAM_WINDOW) {
      this.paused = true;
      this.req.pause();
    }
  };

  private readonly onEnd = (): void => {
    // NDJSON's last line may end without a newline.
    if (this.pendingSize > 0) {
      const line = Buffer.concat(this.pending, this.pendingSize);
      this.pending = [];
      this.pendingSize = 0;
      this.line(line);
    }
    if (this.stopped) return;
    this.stop();
    this.stream.finish();
  };

  /** The request stopped before its end: the caller gave up (its source failed) or went away. */
  private readonly onCut = (): void => {
    if (this.req.readableEnded) return;
    this.stop(new RpcError(Code.CANCELLED, 'the request stream was cut off: the client went away'));
  };

  private line(bytes: Uint8Array): void {
    this.lineCount++;
    // A blank line (or a CRLF's carriage return alone) carries no item.
    const end = bytes.byteLength > 0 && bytes[bytes.byteLength - 1] === 0x0d ? bytes.byteLength - 1 : bytes.byteLength;
    if (end === 0) return;
    let item: unknown;
    try {
      item = this.env.decode(end === bytes.byteLength ? bytes : bytes.subarray(0, end));
    } catch (error) {
      this.refuse(new RpcError(Code.INVALID_ARGUMENT, `line ${this.lineCount} of the request stream is not a JSON value: ${errorMessage(error)}`));
      return;
    }
    this.env.received(bytes.byteLength + 1);
    this.stream.push(item);
  }

  private tooLong(): void {
    this.refuse(new BodyTooLarge(this.limit, undefined, `line ${this.lineCount + 1} of the request stream`));
  }

  private refuse(error: RpcError): void {
    this.stop(error);
    this.env.fail(error);
  }

  private resumeIfRoom(): void {
    if (!this.paused || this.stopped || this.stream.buffered >= STREAM_WINDOW) return;
    this.paused = false;
    this.req.resume();
  }
}

function ignore(): void {}
