/**
 * Baseline: the least a request/response protocol over `node:net` needs, written plainly.
 *
 * Frame: u32 payload length | u32 request id | payload (big-endian). A request payload starts with
 * one method byte; `add` carries JSON `[a, b]` and answers JSON `result`, `echo` carries raw bytes
 * and answers them. Each frame is one `socket.write`; Nagle is off; no batching, no delays.
 */
import { connect as netConnect, createServer, type AddressInfo, type Socket } from 'node:net';
import type { BenchClient, Handlers, System } from './index.js';

const HEADER = 8;
const ADD = 1;
const ECHO = 2;
const NO_METHOD = 0;

/** One frame in one buffer: header, optional method byte, then `body` (bytes or a string). */
function frame(id: number, method: number, body: Uint8Array | string): Buffer {
  const prefix = method === NO_METHOD ? 0 : 1;
  const bodyLength = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  const out = Buffer.allocUnsafe(HEADER + prefix + bodyLength);
  out.writeUInt32BE(prefix + bodyLength, 0);
  out.writeUInt32BE(id, 4);
  if (prefix === 1) out[HEADER] = method;
  if (typeof body === 'string') out.write(body, HEADER + prefix);
  else out.set(body, HEADER + prefix);
  return out;
}

/** Cuts a byte stream into frames; a frame inside one chunk is a view of it, a split one is joined once. */
class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private needed = HEADER;

  constructor(private readonly onFrame: (id: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    if (this.buffered === 0) {
      this.read(chunk);
      return;
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.needed) return;
    const joined = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    this.read(joined);
  }

  private read(bytes: Buffer): void {
    let at = 0;
    this.needed = HEADER;
    while (bytes.length - at >= HEADER) {
      const size = HEADER + bytes.readUInt32BE(at);
      if (bytes.length - at < size) {
        this.needed = size;
        break;
      }
      this.onFrame(bytes.readUInt32BE(at + 4), bytes.subarray(at + HEADER, at + size));
      at += size;
    }
    if (at < bytes.length) {
      this.chunks = [bytes.subarray(at)];
      this.buffered = bytes.length - at;
    }
  }
}

function serveSocket(socket: Socket, handlers: Handlers): void {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  const reader = new FrameReader((id, payload) => {
    const method = payload[0];
    const body = payload.subarray(1);
    if (method === ADD) {
      const [a, b] = JSON.parse(body.toString('utf8')) as [number, number];
      socket.write(frame(id, NO_METHOD, JSON.stringify(handlers.add(a, b))));
    } else if (method === ECHO) {
      socket.write(frame(id, NO_METHOD, handlers.echo(body)));
    } else {
      socket.destroy(new Error(`unknown method ${method}`));
    }
  });
  socket.on('data', (chunk: Buffer) => reader.push(chunk));
}

interface Waiter {
  resolve(payload: Buffer): void;
  reject(error: Error): void;
}

class RawClient implements BenchClient {
  private readonly pending = new Map<number, Waiter>();
  private nextId = 1;

  constructor(private readonly socket: Socket) {
    const reader = new FrameReader((id, payload) => {
      const waiter = this.pending.get(id);
      if (waiter === undefined) return;
      this.pending.delete(id);
      waiter.resolve(payload);
    });
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('close', () => {
      for (const waiter of this.pending.values()) waiter.reject(new Error('connection closed'));
      this.pending.clear();
    });
  }

  async add(a: number, b: number): Promise<number> {
    const payload = await this.call(ADD, JSON.stringify([a, b]));
    return JSON.parse(payload.toString('utf8')) as number;
  }

  echo(data: Uint8Array): Promise<Uint8Array> {
    return this.call(ECHO, data);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.end(resolve));
  }

  private call(method: number, body: Uint8Array | string): Promise<Buffer> {
    const id = this.nextId;
    this.nextId = id === 0xffffffff ? 1 : id + 1;
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.write(frame(id, method, body));
    });
  }
}

export const raw: System = {
  serve(handlers) {
    const server = createServer((socket) => serveSocket(socket, handlers));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        resolve({
          address: `127.0.0.1:${port}`,
          close: () => new Promise<void>((done) => server.close(() => done())),
        });
      });
    });
  },

  connect(address) {
    const [host, port] = address.split(':');
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host, port: Number(port) });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.setNoDelay(true);
        socket.on('error', () => socket.destroy());
        resolve(new RawClient(socket));
      });
    });
  },
};
