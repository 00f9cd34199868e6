import type { Agent, OutgoingHttpHeaders } from 'node:http';
import type { TestContext } from 'node:test';
import { startAdmin, type AdminListener, type AdminSources, type AdminStartOptions } from '../../src/admin/index.js';
import { silentLogger } from '../../src/core/logger.js';
import { Refusals } from '../../src/core/refusals.js';
import { ServerHealth } from '../../src/introspection/server-health.js';
import { MetricsRegistry } from '../../src/observability/metrics/registry.js';
import { onCleanup } from './calculator.js';
import { rawRequest, type RawResponse } from './http.js';

export type AdminReply = RawResponse;

/** One request to an admin listener, on a connection of its own unless `agent` is given. */
export function adminRequest(admin: AdminListener, path: string, init: { method?: string; headers?: OutgoingHttpHeaders; agent?: Agent } = {}): Promise<AdminReply> {
  return rawRequest(admin.address, init.method ?? 'GET', path, { headers: init.headers, agent: init.agent });
}

/** An admin listener on a free loopback port (or `url`), closed when the test ends. */
export async function startTestAdmin(t: TestContext, sources: AdminSources, options?: AdminStartOptions, url = 'http://127.0.0.1:0'): Promise<AdminListener> {
  const listener = await startAdmin(url, sources, options);
  onCleanup(t, () => listener.close());
  return listener;
}

export interface RealSources {
  sources: AdminSources;
  health: ServerHealth;
  refusals: Refusals;
  registry: MetricsRegistry;
  /** `offline` and `online`, in the order the actions ran. */
  moves: string[];
}

/**
 * Admin sources made of the real pieces a server has: its health, its refusal counts, a metrics
 * registry holding `switchyard_server_calls_total{service="demo.Calculator",method="add",code="OK"} 2`.
 */
export function realSources(): RealSources {
  const health = new ServerHealth();
  const refusals = new Refusals(silentLogger);
  const registry = new MetricsRegistry();
  registry.counter('switchyard_server_calls_total', 'Calls served.', ['service', 'method', 'code']).labels('demo.Calculator', 'add', 'OK').inc(2);
  const startedAt = Date.now();
  const moves: string[] = [];
  const sources: AdminSources = {
    metrics: () => registry.prometheusText(),
    health: () => health,
    status: () => ({ services: ['demo.Calculator'], uptimeMs: Date.now() - startedAt, refusals: refusals.counts() }),
    connections: () => [],
    async offline() {
      moves.push('offline');
      health.markOffline();
    },
    async online() {
      moves.push('online');
      health.markOnline();
    },
  };
  return { sources, health, refusals, registry, moves };
}
