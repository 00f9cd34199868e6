import type { MethodEntry } from '../../core/call-table.js';
import type { CallGate } from '../../core/gate.js';
import type { Logger } from '../../core/logger.js';
import type { ConnectionRecord } from '../connection-record.js';
import type { DecompressionLimits } from '../limits/server-limits.js';
import type { Metadata } from '../../core/metadata.js';
import type { RpcError } from '../../core/rpc-error.js';
import type { MethodCodec } from './codec.js';
import type { Encoding } from './compression.js';
import type { GrpcServerSettings } from './options.js';
import type { SessionGuard } from './session-guard.js';

/** What one call needs from its listener and connection. */
export interface ExchangeEnv {
  readonly settings: GrpcServerSettings;
  readonly guard: SessionGuard;
  /** The connection's traffic and calls, for `connections()`. */
  readonly stats: ConnectionRecord;
  readonly logger: Logger;
  /** The server's gate, asked before a call's message is decoded. */
  readonly gate?: CallGate;
  /** The server's limit on how far a compressed message may inflate; the default where undefined. */
  readonly decompression?: DecompressionLimits;
  /** Why calls end when their stream closes early: the caller cancelled, or the server was cut off. */
  abortReason(): RpcError;
  /** The client reset too many streams: its connection goes. */
  punish(): void;
}

/** A request accepted for dispatch: its method, how its messages are written, how to answer. */
export interface Accepted {
  readonly entry: MethodEntry;
  readonly codec: MethodCodec;
  readonly metadata: Metadata | undefined;
  readonly deadline: number | undefined;
  /** The time `grpc-timeout` granted, in ms; 0 without a deadline. */
  readonly timeoutMs: number;
  /** `grpc-encoding` of the request's compressed messages. */
  readonly encoding: Encoding;
  /** How responses are compressed: the listener's choice if the client accepts it, else identity. */
  readonly responseEncoding: Encoding;
}
