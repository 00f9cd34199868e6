import type { BalancerName } from './cluster/balancers/index.js';
import type { ClusterName } from './cluster/fault-tolerance/index.js';
import type { RetryBudgetOptions } from './cluster/retry-budget.js';
import { Code } from './core/code.js';
import type { Logger } from './core/logger.js';
import { silentLogger } from './core/logger.js';
import { RpcError } from './core/rpc-error.js';
import { DEFAULT_DECODE_LIMITS, type DecodeLimits } from './serialization/serializer.js';
import { DEFAULT_MAX_DECOMPRESSION_RATIO } from './transport/limits/server-limits.js';
import type { BackoffOptions } from './transport/backoff.js';
import { defaultBackoff } from './transport/backoff.js';
import { DEFAULT_MAX_FRAME_SIZE } from './transport/tcp/frame.js';

/** Connection settings shared by servers and clients. */
export interface ConnectionSettings {
  /** Largest frame accepted (metadata + body), in bytes. Default 16 MiB. */
  maxFrameSize?: number;
  /** Send a heartbeat after this long without hearing from the peer. Default 5000 ms. */
  heartbeatIntervalMs?: number;
  /** Close a connection whose peer has been silent this long. Default 15000 ms. */
  idleTimeoutMs?: number;
  /**
   * Deepest nesting of arrays and maps (objects) a received message may have, a call's argument
   * array being the first level; deeper ones are refused before they are decoded. Default 100.
   */
  maxDecodeDepth?: number;
  /** Most array items and map entries one received message may hold, over all its levels. Default 1,000,000. */
  maxDecodeItems?: number;
  logger?: Logger;
}

/**
 * Limits that protect a server process from its peers, on every listener (docs/security.md,
 * Limits). A refusal is counted under the option's name in `server.refusals()`.
 */
export interface ServerLimitSettings {
  /** Connections open at once to the server, over all its listeners; more are closed at once. Default 10,000. */
  maxConnections?: number;
  /** Connections open at once from one remote IP address, over all listeners. Default 1,000. */
  maxConnectionsPerAddress?: number;
  /**
   * Time a new connection (after its TLS handshake) has to deliver its first request: on TCP its
   * first frame, on HTTP/1.1 a whole request head (and every later head, as Node's `headersTimeout`),
   * on gRPC a stream. Default 10000 ms.
   */
  firstRequestTimeoutMs?: number;
  /** Metadata entries one request may carry. Default 64. */
  maxMetadataEntries?: number;
  /** Bytes of metadata (keys and values) one request may carry; on HTTP/1.1, of its whole request head. Default 16 KiB. */
  maxMetadataBytes?: number;
  /** How many times its compressed size a gRPC message may grow when decompressed, beyond its first MiB. Default 200. */
  maxDecompressionRatio?: number;
}

/** Every default in one place. */
export const defaults = {
  maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
  heartbeatIntervalMs: 5_000,
  idleTimeoutMs: 15_000,
  maxDecodeDepth: DEFAULT_DECODE_LIMITS.maxDepth,
  maxDecodeItems: DEFAULT_DECODE_LIMITS.maxItems,
  maxConnections: 10_000,
  maxConnectionsPerAddress: 1_000,
  firstRequestTimeoutMs: 10_000,
  maxMetadataEntries: 64,
  maxMetadataBytes: 16 * 1024,
  maxDecompressionRatio: DEFAULT_MAX_DECOMPRESSION_RATIO,
  connectTimeoutMs: 5_000,
  closeTimeoutMs: 5_000,
  /** Client routing (see `RoutingOptions`), where neither the method, the reference nor the client sets it. */
  loadBalance: 'random' as BalancerName,
  cluster: 'failover' as ClusterName,
  retries: 2,
  forks: 2,
  failbackRetries: 3,
  failbackDelayMs: 1_000,
  /**
   * Retries may add a fifth to the calls a proxy makes, plus 10 a second (over 10 s windows): enough
   * for the failures of a healthy system, too little for retries to multiply the load of an outage.
   */
  retryBudget: { ratio: 0.2, minPerSecond: 10, ttlMs: 10_000 } as RetryBudgetOptions,
  waitForProvidersMs: 3_000,
  warmupMs: 30_000,
  /**
   * How long a server waits, before it first announces its services, and a client holds a new
   * provider list, for the traffic rules that apply to be read from the registry (docs/rules.md).
   */
  rulesSettleMs: 1_000,
  serializer: 'msgpack',
  backoff: defaultBackoff as BackoffOptions,
  logger: silentLogger as Logger,
};

export function connectionOptions(settings: ConnectionSettings) {
  return {
    maxFrameSize: settings.maxFrameSize ?? defaults.maxFrameSize,
    heartbeatIntervalMs: settings.heartbeatIntervalMs ?? defaults.heartbeatIntervalMs,
    idleTimeoutMs: settings.idleTimeoutMs ?? defaults.idleTimeoutMs,
    logger: settings.logger ?? defaults.logger,
  };
}

/** The decode limits of a server or client. */
export function decodeLimits(settings: ConnectionSettings): DecodeLimits {
  return {
    maxDepth: limit(settings, 'maxDecodeDepth', defaults.maxDecodeDepth),
    maxItems: limit(settings, 'maxDecodeItems', defaults.maxDecodeItems),
  };
}

/** Every server limit, checked, with the defaults filled in. */
export function serverLimitSettings(settings: ServerLimitSettings): Required<ServerLimitSettings> {
  return {
    maxConnections: limit(settings, 'maxConnections', defaults.maxConnections),
    maxConnectionsPerAddress: limit(settings, 'maxConnectionsPerAddress', defaults.maxConnectionsPerAddress),
    firstRequestTimeoutMs: limit(settings, 'firstRequestTimeoutMs', defaults.firstRequestTimeoutMs),
    maxMetadataEntries: limit(settings, 'maxMetadataEntries', defaults.maxMetadataEntries),
    maxMetadataBytes: limit(settings, 'maxMetadataBytes', defaults.maxMetadataBytes),
    maxDecompressionRatio: limit(settings, 'maxDecompressionRatio', defaults.maxDecompressionRatio),
  };
}

/** A limit is a whole number of at least 1, or `Infinity` for none. */
function limit<K extends string>(settings: Partial<Record<K, number>>, name: K, fallback: number): number {
  const value = settings[name];
  if (value === undefined) return fallback;
  if (value === Number.POSITIVE_INFINITY || (Number.isSafeInteger(value) && value >= 1)) return value;
  throw new RpcError(Code.INVALID_ARGUMENT, `${name} must be a whole number of at least 1, or Infinity, not ${String(value)}`);
}
