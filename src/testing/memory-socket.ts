import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { FaultControl, LinkFaults } from './faults.js';
import { Link } from './link.js';

/**
 * One end of a connection inside this process: a duplex byte stream with the few members of a
 * `net.Socket` that the TCP protocol code reads (addresses, byte counts, `setNoDelay`). Bytes are
 * copied on their way, as a socket would: neither end can see the other's buffers.
 */
export class MemorySocket extends Duplex {
  bytesRead = 0;
  bytesWritten = 0;
  #outbound: Link | undefined;
  #ended = false;

  constructor(
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {
    // As a net.Socket: when the peer ends its side, this side ends too.
    super({ allowHalfOpen: false });
  }

  /** Where this end's writes go. */
  connectTo(outbound: Link): void {
    this.#outbound = outbound;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  /** This end as the `net.Socket` the protocol code takes: it uses only what is above. */
  asSocket(): Socket {
    return this as unknown as Socket;
  }

  /** Bytes from the peer. */
  receive(chunk: Buffer): void {
    if (this.#ended || this.destroyed) return;
    this.bytesRead += chunk.length;
    this.push(chunk);
  }

  /** The peer closed its side. */
  receiveEnd(): void {
    if (this.#ended || this.destroyed) return;
    this.#ended = true;
    this.push(null);
  }

  /** Torn down at once, as by a TCP reset: the reader hears ECONNRESET. */
  reset(): void {
    this.#outbound?.close();
    this.destroy(Object.assign(new Error('read ECONNRESET (reset by a fault)'), { code: 'ECONNRESET' }));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytesWritten += chunk.length;
    this.#outbound?.send(Buffer.from(chunk));
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#outbound?.end();
    callback();
  }

  override _read(): void {
    // Bytes are pushed as they arrive; the protocol code reads in flowing mode.
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // What was already sent still arrives, then the end: a closed socket sends its FIN.
    this.#outbound?.end();
    callback(error);
  }
}

/** Both ends of one connection, and what a fault does to it. */
export interface MemoryConnection {
  readonly client: MemorySocket;
  readonly server: MemorySocket;
  /** Resets both ends (the `dead` fault, or the proxy's `reset()`). */
  reset(): void;
  /** The faults changed: released what a blackhole held. */
  wake(): void;
}

/**
 * A connection between a client named `clientName` and a server at `serverHost:serverPort`, its
 * two directions shaped by `faults`.
 */
export function memoryConnection(clientName: string, clientPort: number, serverHost: string, serverPort: number, faults: FaultControl<LinkFaults>): MemoryConnection {
  const client = new MemorySocket(serverHost, serverPort);
  const server = new MemorySocket(clientName, clientPort);
  const read = () => faults.current;
  const random = () => faults.random();
  const up = new Link(read, random, { data: (chunk) => server.receive(chunk), end: () => server.receiveEnd() });
  const down = new Link(read, random, { data: (chunk) => client.receive(chunk), end: () => client.receiveEnd() });
  client.connectTo(up);
  server.connectTo(down);
  // An end that has closed takes nothing more: what was on its way to it is dropped, timers and all.
  server.once('close', () => up.close());
  client.once('close', () => down.close());
  return {
    client,
    server,
    reset() {
      up.close();
      down.close();
      client.reset();
      server.reset();
    },
    wake() {
      up.wake();
      down.wake();
    },
  };
}
