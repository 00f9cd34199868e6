import type { CallTable } from '../core/call-table.js';
import type { CallGate } from '../core/gate.js';
import type { Invocation } from '../core/invocation.js';
import type { Logger } from '../core/logger.js';
import type { Refusals } from '../core/refusals.js';
import type { SerializerSet } from '../serialization/registry.js';
import type { ServerLimits } from './limits/server-limits.js';

/** What a server transport needs from its server: the calls it may run and how to read them. */
export interface ServerContext {
  readonly table: CallTable;
  readonly serializers: SerializerSet;
  readonly logger: Logger;
  /** Who may call what, asked before a call's arguments are decoded; undefined lets every call in. */
  readonly gate?: CallGate;
  /** What the server's limits refused, by limit name (`server.refusals()`). */
  readonly refusals?: Refusals;
  /**
   * The limits that protect the process (connections, first request, metadata, decompression);
   * undefined applies none of them, which only a transport made outside a server sees.
   */
  readonly limits?: ServerLimits;
}

/** One listening address of a server, on one protocol. */
export interface ServerTransport {
  /** Starts listening; resolves with the address actually bound, e.g. `tcp://127.0.0.1:41234`. */
  listen(): Promise<string>;
  /** Stops accepting, tells connected clients to go away; resolves once every connection has closed. */
  drain(): Promise<void>;
  /** Ends every call and connection now. */
  forceClose(): void;
  /** The connections open now, with their traffic; for `GET /connections` and the connection gauges. */
  connections?(): ConnectionInfo[];
}

/**
 * One open connection of a server transport. Bytes are what the socket counts: over TLS, the
 * decrypted bytes of the protocol (the records of TLS itself are not counted).
 *
 * ```ts
 * for (const c of transport.connections?.() ?? []) console.log(c.peer, c.calls, c.bytesIn);
 * ```
 */
export interface ConnectionInfo {
  /** The listener's scheme: tcp, tls, http, https, grpc, grpcs, amqp or amqps. */
  protocol: string;
  /** The listening address, as `listen()` resolved it. */
  listener: string;
  /** The other end as host:port: the client, or for amqp the broker. */
  peer: string;
  /** `draining` once the server's drain has begun. */
  state: 'open' | 'draining';
  /** When the connection was accepted (epoch ms). */
  openedAt: number;
  bytesIn: number;
  bytesOut: number;
  /** Requests received on it (amqp: request messages delivered to this server). */
  calls: number;
  /** Calls on it whose handlers have not finished. */
  active: number;
}

/**
 * What a channel has carried, for a client's `GET /connections`. Bytes count over the channel's
 * life, the connections it has closed included, and stay 0 where the socket is out of reach
 * (http: `fetch` does not show its sockets).
 */
export interface ChannelInfo {
  address: string;
  /** The address's scheme. */
  protocol: string;
  state: ChannelState;
  draining: boolean;
  bytesIn: number;
  bytesOut: number;
  /** Calls sent through the channel. */
  calls: number;
  /** Calls waiting for their answer (a stream until it ends). */
  active: number;
}

/** Connectivity of a channel, as gRPC names it. */
export type ChannelState = 'IDLE' | 'CONNECTING' | 'READY' | 'TRANSIENT_FAILURE' | 'SHUTDOWN';

/** The client side of one provider address: sends calls, keeps its connection alive. */
export interface Channel {
  readonly address: string;
  readonly state: ChannelState;
  /** True from a GOAWAY until a new connection succeeds: the provider is leaving. */
  readonly draining: boolean;
  /**
   * Sends a call to the service `serviceId` (the provider's own id, which may name another version
   * than the caller's definition), in the request serializer the channel was made with; resolves
   * with the decoded result, or rejects with an `RpcError`. Its deadline and signal are watched by
   * `core/call-watch.ts`, so every transport fails them with the same codes and messages.
   */
  call(invocation: Invocation, serviceId: string): Promise<unknown>;
  close(timeoutMs?: number): Promise<void>;
  /** What the channel has carried so far. */
  info?(): ChannelInfo;
}
