import type { BalancerName } from './cluster/balancers/index.js';
import type { ClusterName } from './cluster/fault-tolerance/index.js';
import type { Logger } from './core/logger.js';
import { silentLogger } from './core/logger.js';
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
  logger?: Logger;
}

/** Every default in one place. */
export const defaults = {
  maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
  heartbeatIntervalMs: 5_000,
  idleTimeoutMs: 15_000,
  connectTimeoutMs: 5_000,
  closeTimeoutMs: 5_000,
  /** Client routing (see `RoutingOptions`), where neither the method, the reference nor the client sets it. */
  loadBalance: 'random' as BalancerName,
  cluster: 'failover' as ClusterName,
  retries: 2,
  forks: 2,
  failbackRetries: 3,
  failbackDelayMs: 1_000,
  waitForProvidersMs: 3_000,
  warmupMs: 30_000,
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
