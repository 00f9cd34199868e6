import type { ConnectionInfo } from './transport.js';

/** What a socket counts of its traffic: a net or TLS socket, or the socket proxy of an HTTP/2 session. */
export interface ByteCounters {
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

/**
 * One open connection of a server transport, for `connections()`. Made once per connection; the
 * transport bumps `calls` and `active` as requests come and go, and the bytes are read from the
 * socket only when someone asks.
 *
 * ```ts
 * const record = new ConnectionRecord(peerAddress(socket), socket);
 * record.calls++; record.active++;   // a request arrives
 * record.active--;                   // its handler is done
 * record.info('tcp', 'tcp://127.0.0.1:4000', false);
 * ```
 */
export class ConnectionRecord {
  readonly openedAt = Date.now();
  /** Requests received on the connection. */
  calls = 0;
  /** Calls on the connection whose handlers have not finished. */
  active = 0;
  // The last counts read: an HTTP/2 session's socket proxy throws once its socket has gone.
  private bytesIn = 0;
  private bytesOut = 0;

  constructor(
    readonly peer: string,
    private readonly socket: ByteCounters | undefined,
  ) {}

  info(protocol: string, listener: string, draining: boolean): ConnectionInfo {
    this.readBytes();
    return {
      protocol,
      listener,
      peer: this.peer,
      state: draining ? 'draining' : 'open',
      openedAt: this.openedAt,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      calls: this.calls,
      active: this.active,
    };
  }

  private readBytes(): void {
    const socket = this.socket;
    if (socket === undefined) return;
    try {
      this.bytesIn = socket.bytesRead ?? this.bytesIn;
      this.bytesOut = socket.bytesWritten ?? this.bytesOut;
    } catch {
      // the socket is gone: keep the last counts
    }
  }
}

/** Bytes a channel's closed connections carried, added to those of its open ones. */
export class ByteTally {
  bytesIn = 0;
  bytesOut = 0;

  /** Adds the counts of a socket that has closed (a closed socket keeps its counts). */
  retire(socket: ByteCounters | undefined): void {
    if (socket === undefined) return;
    this.bytesIn += socket.bytesRead ?? 0;
    this.bytesOut += socket.bytesWritten ?? 0;
  }
}

/** `host:port` of a socket's other end, with an IPv6 host in brackets. */
export function peerAddress(socket: { readonly remoteAddress?: string; readonly remotePort?: number }): string {
  const host = socket.remoteAddress ?? 'unknown';
  return `${host.includes(':') ? `[${host}]` : host}:${socket.remotePort ?? 0}`;
}
