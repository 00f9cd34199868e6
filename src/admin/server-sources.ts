import type { CallTable } from '../core/call-table.js';
import type { CallGate } from '../core/gate.js';
import type { ServerHealth } from '../introspection/server-health.js';
import type { MetricsRegistry, MetricsSnapshot } from '../observability/metrics/index.js';
import type { ServerTransport } from '../transport/transport.js';
import type { AdminSources } from './sources.js';

/** What a server shows its admin listener; read anew for every request. */
export interface ServerView {
  readonly health: ServerHealth;
  readonly table: CallTable;
  readonly startedAt: number;
  addresses(): readonly string[];
  transports(): readonly ServerTransport[];
  readonly metrics: MetricsRegistry | undefined;
  /** The server's authentication and policy (not its provider token, which guards calls only). */
  readonly gate: CallGate | undefined;
  /** Leave the registry and stay up (Dubbo's QoS `offline`). */
  offline(): Promise<void>;
  /** Join the registry again. */
  online(): Promise<void>;
}

/** The admin endpoints of a server: its metrics, health, services, connections, and offline/online. */
export function serverSources(view: ServerView): AdminSources {
  return {
    metrics: view.metrics === undefined ? undefined : () => view.metrics!.prometheusText(),
    health: () => view.health.snapshot(),
    status: () => serverStatus(view),
    connections: () => ({ connections: view.transports().flatMap((transport) => transport.connections?.() ?? []) }),
    offline: () => view.offline(),
    online: () => view.online(),
    gate: view.gate,
  };
}

function serverStatus(view: ServerView): unknown {
  const counts = view.metrics === undefined ? undefined : methodCounts(view.metrics.snapshot());
  const services = new Map<string, { id: string; name: string; version?: string; group?: string; methods: unknown[] }>();
  for (const entry of view.table.entries()) {
    const { id, key } = entry.service;
    if (view.table.isBuiltin(id)) continue;
    let service = services.get(id);
    if (service === undefined) {
      service = { id, name: key.name, methods: [] };
      if (key.version !== undefined) service.version = key.version;
      if (key.group !== undefined) service.group = key.group;
      services.set(id, service);
    }
    const count = counts?.get(`${id}\0${entry.method}`);
    service.methods.push({
      name: entry.method,
      ...(entry.options.stream === undefined ? {} : { stream: entry.options.stream }),
      ...(entry.options.oneWay === true ? { oneWay: true } : {}),
      inFlight: count?.inFlight ?? 0,
      calls: count?.calls ?? 0,
    });
  }
  const now = Date.now();
  return {
    startedAt: new Date(view.startedAt).toISOString(),
    uptimeMs: now - view.startedAt,
    pid: process.pid,
    addresses: view.addresses(),
    health: view.health.snapshot(),
    metrics: view.metrics !== undefined,
    services: [...services.values()],
  };
}

/** Calls and calls in flight per service and method, from the server's metrics. */
function methodCounts(snapshot: MetricsSnapshot): Map<string, { calls: number; inFlight: number }> {
  const counts = new Map<string, { calls: number; inFlight: number }>();
  const at = (labels: Record<string, string>) => {
    const key = `${labels.service}\0${labels.method}`;
    let count = counts.get(key);
    if (count === undefined) counts.set(key, (count = { calls: 0, inFlight: 0 }));
    return count;
  };
  for (const metric of snapshot.metrics) {
    if (metric.name === 'switchyard_server_calls_total') for (const series of metric.series) at(series.labels).calls += (series as { value: number }).value;
    if (metric.name === 'switchyard_server_calls_in_flight') for (const series of metric.series) at(series.labels).inFlight += (series as { value: number }).value;
  }
  return counts;
}
