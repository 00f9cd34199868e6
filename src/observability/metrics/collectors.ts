import type { CircuitState } from '../../cluster/circuit-breaker.js';
import { LIMIT_NAMES, type RefusalCounts } from '../../core/refusals.js';
import type { WorkerPoolStats } from '../../executor/worker-pool.js';
import type { MetricsRegistry } from './registry.js';

/*
 * Metrics read from where their values already live, each time the registry is read: nothing is
 * counted twice and nothing runs per call. Each function returns what removes its collector (when
 * the server or client it reads closes). Sources are plain functions, so that anything able to list
 * its breakers or connections can feed them.
 */

const CIRCUIT_STATES: readonly CircuitState[] = ['CLOSED', 'OPEN', 'HALF_OPEN'];

/**
 * `switchyard_limit_refusals_total{limit}`: what a server's limits refused, from its `refusals()`
 * counts; `labels` are added to every series (to tell two servers apart in one registry, say).
 *
 * ```ts
 * registerRefusals(registry, { counts: () => server.refusals() }, { server: 'orders' });
 * ```
 */
export function registerRefusals(registry: MetricsRegistry, refusals: { counts(): RefusalCounts }, labels: Readonly<Record<string, string>> = {}): () => void {
  if ('limit' in labels) throw new RangeError('the label "limit" is the limit\'s name; choose another for yours');
  return registry.addCollector((sink) => {
    const counts = refusals.counts();
    for (const limit of LIMIT_NAMES) {
      sink.counter('switchyard_limit_refusals_total', 'Connections, requests or messages refused by a limit of the server, by limit.', { limit, ...labels }, counts[limit]);
    }
  });
}

/**
 * `switchyard_worker_pool_queue{pool}`, `switchyard_worker_pool_busy{pool}` and
 * `switchyard_worker_pool_restarts_total{pool}` of a worker pool, under the name given.
 *
 * ```ts
 * registerWorkerPool(registry, 'primes', pool);
 * ```
 */
export function registerWorkerPool(registry: MetricsRegistry, name: string, pool: { readonly stats: WorkerPoolStats }): () => void {
  const labels = { pool: name };
  return registry.addCollector((sink) => {
    const stats = pool.stats;
    sink.gauge('switchyard_worker_pool_queue', 'Calls waiting for a worker of the pool.', labels, stats.queued);
    sink.gauge('switchyard_worker_pool_busy', 'Workers of the pool running a call.', labels, stats.busy);
    sink.counter('switchyard_worker_pool_restarts_total', 'Workers of the pool replaced after a crash or an ignored cancellation.', labels, stats.restarts);
  });
}

/** A circuit breaker as `registerBreakers` reads it. */
export interface BreakerInfo {
  readonly provider: string;
  readonly method: string;
  readonly state: CircuitState;
}

/**
 * `switchyard_circuit_breaker_state{provider,method,state}`: 1 for the state each breaker is in,
 * 0 for the other two, so that a query can select `state="OPEN"` and see zeros as well as ones.
 *
 * ```ts
 * registerBreakers(registry, () => client.breakers());
 * ```
 */
export function registerBreakers(registry: MetricsRegistry, source: () => Iterable<BreakerInfo>): () => void {
  return registry.addCollector((sink) => {
    for (const { provider, method, state } of source()) {
      for (const each of CIRCUIT_STATES) {
        sink.gauge('switchyard_circuit_breaker_state', 'Circuit breakers by provider and method: 1 for the state a breaker is in.', { provider, method, state: each }, each === state ? 1 : 0);
      }
    }
  });
}

/** A connection as `registerConnections` counts it. */
export interface ConnectionState {
  readonly protocol: string;
  readonly state: string;
}

/**
 * `switchyard_connections{protocol,state}`: how many connections are in each state, by protocol.
 *
 * ```ts
 * registerConnections(registry, () => server.connections());
 * ```
 */
export function registerConnections(registry: MetricsRegistry, source: () => Iterable<ConnectionState>): () => void {
  return registry.addCollector((sink) => {
    for (const { protocol, state } of source()) {
      sink.gauge('switchyard_connections', 'Connections by protocol and state.', { protocol, state }, 1);
    }
  });
}
