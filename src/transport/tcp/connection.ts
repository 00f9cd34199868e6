import type { Socket } from 'node:net';
import { Code } from '../../core/code.js';
import type { Logger } from '../../core/logger.js';
import { RpcError, errorMessage } from '../../core/rpc-error.js';
import { bodyLength, type Body } from '../../serialization/serializer.js';
import { FrameDecoder } from './frame-decoder.js';
import { FrameType, HEADER_SIZE, ProtocolError, SETTINGS_PING_ID, encodeMetadata, encodeSettings, readSettings, writeHeader, type Frame } from './frame.js';

export interface ConnectionOptions {
  maxFrameSize: number;
  /** Send PING after this long without hearing from the peer. */
  heartbeatIntervalMs: number;
  /** Close the connection after this long without hearing from the peer. */
  idleTimeoutMs: number;
  logger: Logger;
}

export interface ConnectionEvents {
  /** A data frame (anything but PING/PONG, which the connection answers itself). */
  onFrame(frame: Frame): void;
  /** Called once, when the connection is gone; `reason` says why if it did not end cleanly. */
  onClose(reason: RpcError): void;
  /**
   * Called once the peer's limits are known: it announced them, or it answered this side's
   * settings without announcing any (a peer of protocol revision 1.0).
   */
  onReady?(): void;
}

// Bodies up to this size are copied next to their header; larger ones are written as they are.
const INLINE_BODY_LIMIT = 16 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * One TCP connection speaking the Switchyard protocol, on either side: frames in, frames out
 * (coalesced into one write per tick), heartbeats, and a clean or logged close.
 */
export class Connection {
  /** Counts flushes; a frame queued in the current generation has not reached the socket yet. */
  flushGeneration = 0;
  /**
   * The largest frame this side may send: the smaller of its own limit and the one the peer
   * announced. A peer that announces none is held to this side's own limit, as in revision 1.0.
   */
  sendLimit: number;
  readonly remote: string;
  private readonly decoder: FrameDecoder;
  private queue: Buffer[] = [];
  private flushScheduled = false;
  private lastReceived = Date.now();
  private pingCounter = 0;
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;
  private ready = false;

  constructor(
    private readonly socket: Socket,
    private readonly options: ConnectionOptions,
    private readonly events: ConnectionEvents,
  ) {
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.decoder = new FrameDecoder(options.maxFrameSize);
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('error', (error) => this.close(new RpcError(Code.UNAVAILABLE, `connection to ${this.remote} failed: ${error.message}`, { cause: error })));
    socket.on('close', () => this.close(new RpcError(Code.UNAVAILABLE, `connection to ${this.remote} closed`)));
    const tick = Math.max(10, Math.min(options.heartbeatIntervalMs, options.idleTimeoutMs / 3));
    this.heartbeat = setInterval(this.checkLiveness, tick).unref();
    this.sendLimit = options.maxFrameSize;
    // First on the wire, so the peer knows this side's limit before any call reaches it.
    this.send(FrameType.PING, 0, 0, SETTINGS_PING_ID, encodeSettings(options.maxFrameSize), undefined);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Queues a frame; all frames queued in one tick go out in one write. */
  send(type: number, flags: number, serializer: number, requestId: number, metadata: Buffer | undefined, body: Body | undefined): void {
    if (this.closed) return;
    const metaLength = metadata?.length ?? 0;
    const length = bodyLength(body);
    const single = body instanceof Uint8Array ? body : undefined;
    const inline = single !== undefined && length <= INLINE_BODY_LIMIT;
    const head = Buffer.allocUnsafe(HEADER_SIZE + metaLength + (inline ? length : 0));
    writeHeader(head, 0, { type, flags, serializer, requestId, metadataLength: metaLength, bodyLength: length });
    if (metadata !== undefined) metadata.copy(head, HEADER_SIZE);
    if (inline) head.set(single, HEADER_SIZE + metaLength);
    this.queue.push(head);
    if (!inline && body !== undefined) {
      const pieces: readonly Uint8Array[] = single !== undefined ? [single] : (body as readonly Uint8Array[]);
      for (const chunk of pieces) {
        this.queue.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      }
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flush);
    }
  }

  /** Tells the peer this side is going away, with a reason for its logs. */
  goAway(reason: string): void {
    this.send(FrameType.GOAWAY, 0, 0, 0, encodeMetadata([[':reason', reason]]), undefined);
  }

  /** Writes what is queued and closes the connection after it. */
  end(): void {
    if (this.closed) return;
    this.flush();
    this.socket.end();
    // A peer that never closes its side must not keep the socket open.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Closes at once; `reason` reaches `onClose` (and the calls waiting on this connection). */
  close(reason: RpcError): void {
    if (this.closed) return;
    this.markClosed(reason);
    this.socket.destroy();
  }

  private markClosed(reason: RpcError): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    this.queue = [];
    this.events.onClose(reason);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.closed || this.queue.length === 0) return;
    const chunks = this.queue;
    this.queue = [];
    this.flushGeneration++;
    if (chunks.length === 1) {
      this.socket.write(chunks[0]!);
      return;
    }
    this.socket.cork();
    let run: Buffer[] = [];
    let runBytes = 0;
    for (const chunk of chunks) {
      if (chunk.length > INLINE_BODY_LIMIT) {
        if (run.length > 0) this.socket.write(run.length === 1 ? run[0]! : Buffer.concat(run, runBytes));
        this.socket.write(chunk);
        run = [];
        runBytes = 0;
      } else {
        run.push(chunk);
        runBytes += chunk.length;
      }
    }
    if (run.length > 0) this.socket.write(run.length === 1 ? run[0]! : Buffer.concat(run, runBytes));
    this.socket.uncork();
  };

  private readonly onData = (chunk: Buffer): void => {
    if (this.closed) return;
    this.lastReceived = Date.now();
    try {
      this.decoder.push(chunk, this.onFrame);
    } catch (error) {
      const reason = error instanceof ProtocolError ? error.message : `frame handling failed: ${errorMessage(error)}`;
      this.fail(reason);
    }
  };

  private readonly onFrame = (frame: Frame): void => {
    if (this.closed) return;
    if (frame.type === FrameType.PING) {
      if (frame.metadata.length > 0) this.applySettings(frame.metadata);
      this.send(FrameType.PONG, 0, 0, frame.requestId, undefined, undefined);
    } else if (frame.type === FrameType.PONG) {
      if (frame.requestId === SETTINGS_PING_ID) this.markReady();
    } else {
      this.events.onFrame(frame);
    }
  };

  private applySettings(metadata: Buffer): void {
    const peerLimit = readSettings(metadata);
    if (peerLimit !== undefined) this.sendLimit = Math.min(this.options.maxFrameSize, peerLimit);
    this.markReady();
  }

  private markReady(): void {
    if (this.ready) return;
    this.ready = true;
    this.events.onReady?.();
  }

  /** Ends the connection because the peer broke the protocol, telling it and the logs why. */
  private fail(reason: string): void {
    this.options.logger.warn({ remote: this.remote, reason }, 'closing connection: protocol error');
    const goAway = encodeMetadata([[':reason', reason]]);
    const head = Buffer.allocUnsafe(HEADER_SIZE + goAway.length);
    writeHeader(head, 0, { type: FrameType.GOAWAY, flags: 0, serializer: 0, requestId: 0, metadataLength: goAway.length, bodyLength: 0 });
    goAway.copy(head, HEADER_SIZE);
    this.markClosed(new RpcError(Code.UNAVAILABLE, `protocol error on connection ${this.remote}: ${reason}`));
    // Half-close after the GOAWAY so it is delivered; destroy in any case soon after.
    this.socket.end(head);
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  private readonly checkLiveness = (): void => {
    const silentFor = Date.now() - this.lastReceived;
    if (silentFor >= this.options.idleTimeoutMs) {
      this.options.logger.warn({ remote: this.remote, silentFor }, 'closing connection: peer silent');
      this.close(new RpcError(Code.UNAVAILABLE, `peer ${this.remote} silent for ${silentFor} ms`));
    } else if (silentFor >= this.options.heartbeatIntervalMs) {
      this.send(FrameType.PING, 0, 0, ++this.pingCounter, undefined, EMPTY);
    }
  };
}
