import { connect, createServer, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { FrameType, HEADER_SIZE, SETTINGS_PING_ID, decodeMetadata, encodeMetadata, encodeSettings, readHeader, writeHeader, type Frame } from '../../src/transport/tcp/frame.js';

/** The fields of a frame built by hand; lengths come from the sections given. */
export interface FrameSpec {
  type: number;
  flags?: number;
  serializer?: number;
  requestId?: number;
  metadata?: Buffer;
  body?: Uint8Array;
}

export function buildFrame(spec: FrameSpec): Buffer {
  const metadata = spec.metadata ?? Buffer.alloc(0);
  const body = spec.body ?? new Uint8Array(0);
  const out = Buffer.alloc(HEADER_SIZE + metadata.length + body.byteLength);
  writeHeader(out, 0, {
    type: spec.type,
    flags: spec.flags ?? 0,
    serializer: spec.serializer ?? 0,
    requestId: spec.requestId ?? 1,
    metadataLength: metadata.length,
    bodyLength: body.byteLength,
  });
  metadata.copy(out, HEADER_SIZE);
  out.set(body, HEADER_SIZE + metadata.length);
  return out;
}

/** A header alone that announces sections of the given lengths, none of which follow. */
export function headerOnly(type: number, metadataLength: number, bodyLength: number, requestId = 1): Buffer {
  const out = Buffer.alloc(HEADER_SIZE);
  writeHeader(out, 0, { type, flags: 0, serializer: 0, requestId, metadataLength, bodyLength });
  return out;
}

/** A REQUEST (or ONEWAY) naming `service` and `method` by their pseudo-keys, then `extra` entries, with `body` as given. */
export function requestFrame(options: { service: string; method: string; requestId: number; serializer: number; body: Uint8Array; extra?: Array<[string, string]>; type?: number }): Buffer {
  const metadata = encodeMetadata([[':service', options.service], [':method', options.method], ...(options.extra ?? [])]);
  return buildFrame({ type: options.type ?? FrameType.REQUEST, serializer: options.serializer, requestId: options.requestId, metadata, body: options.body });
}

/** The settings PING a peer sends first, announcing the largest frame it accepts. */
export function settingsFrame(maxFrameSize: number): Buffer {
  return buildFrame({ type: FrameType.PING, requestId: SETTINGS_PING_ID, metadata: encodeSettings(maxFrameSize) });
}

/** The `:max-frame-size` a settings PING announces, if the frame is one. */
export function announcedLimit(frame: Frame): number | undefined {
  if (frame.type !== FrameType.PING || frame.requestId !== SETTINGS_PING_ID) return undefined;
  let limit: number | undefined;
  decodeMetadata(frame.metadata, (key, value) => {
    if (key === ':max-frame-size') limit = Number(value);
  });
  return limit;
}

/** The `:reason` a GOAWAY carries, if any. */
export function goAwayReason(frame: Frame): string | undefined {
  let reason: string | undefined;
  decodeMetadata(frame.metadata, (key, value) => {
    if (key === ':reason') reason = value;
  });
  return reason;
}

/** Host and port of a `tcp://host:port` address. */
export function hostPort(address: string): { host: string; port: number } {
  const url = new URL(address);
  return { host: url.hostname, port: Number(url.port) };
}

/**
 * A TCP peer that writes whatever bytes a test gives it and records the frames it receives,
 * so a test can speak (or break) the protocol by hand.
 */
export class RawPeer {
  readonly frames: Frame[] = [];
  /** Resolves when the socket has closed, with the time it closed. */
  readonly closed: Promise<number>;
  errors: Error[] = [];
  /** Called with each frame as it arrives, e.g. to answer PINGs. */
  onFrame: ((frame: Frame) => void) | undefined;
  private pending = Buffer.alloc(0);
  private isClosed = false;
  private readonly listeners = new Set<() => void>();

  private constructor(readonly socket: Socket) {
    socket.on('error', (error) => this.errors.push(error));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.isClosed = true;
        for (const listener of this.listeners) listener();
        resolve(Date.now());
      });
    });
  }

  static connect(address: string): Promise<RawPeer> {
    const { host, port } = hostPort(address);
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawPeer(socket));
      });
      socket.once('error', reject);
    });
  }

  get open(): boolean {
    return !this.isClosed;
  }

  write(bytes: Uint8Array): void {
    if (!this.isClosed) this.socket.write(bytes);
  }

  /** The first received frame that matches, waiting up to `timeoutMs`; rejects if none comes before close. */
  waitFor(match: (frame: Frame) => boolean, timeoutMs = 2000): Promise<Frame> {
    const found = this.frames.find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      const check = (): void => {
        const frame = this.frames.find(match);
        if (frame !== undefined) {
          done();
          resolve(frame);
        } else if (this.isClosed) {
          done();
          reject(new Error(`connection closed without the expected frame (got types ${this.frames.map((f) => f.type).join(',')})`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no expected frame within ${timeoutMs} ms`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  /** Resolves true when the socket closes within `timeoutMs`, false otherwise. */
  async closesWithin(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([this.closed.then(() => true as const), timeout]);
    clearTimeout(timer);
    return result;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= HEADER_SIZE) {
      const header = readHeader(this.pending, 0, Number.MAX_SAFE_INTEGER);
      const size = HEADER_SIZE + header.metadataLength + header.bodyLength;
      if (this.pending.length < size) break;
      const bytes = this.pending.subarray(0, size);
      this.pending = this.pending.subarray(size);
      const metaEnd = HEADER_SIZE + header.metadataLength;
      const frame: Frame = { ...header, metadata: bytes.subarray(HEADER_SIZE, metaEnd), body: bytes.subarray(metaEnd) };
      this.frames.push(frame);
      this.onFrame?.(frame);
    }
    for (const listener of this.listeners) listener();
  }
}

/** A TCP forwarder in front of `target` that counts the connections made through it; closed when the test ends. */
export async function countingForwarder(t: TestContext, target: string): Promise<{ address: string; connections: () => number }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const forwarder = createServer((downstream) => {
    accepted++;
    const upstream = connect(hostPort(target));
    for (const socket of [downstream, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {
        downstream.destroy();
        upstream.destroy();
      });
      socket.on('close', () => sockets.delete(socket));
    }
    downstream.pipe(upstream).pipe(downstream);
  });
  await new Promise<void>((resolve) => forwarder.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    forwarder.close();
    for (const socket of sockets) socket.destroy();
  });
  const { port } = forwarder.address() as { port: number };
  return { address: `tcp://127.0.0.1:${port}`, connections: () => accepted };
}
