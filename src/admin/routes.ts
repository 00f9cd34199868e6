import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { PROMETHEUS_CONTENT_TYPE } from '../observability/metrics/exposition.js';
import type { AdminEndpoint } from './auth.js';
import type { AdminAnswer } from './respond.js';
import type { AdminHealth, AdminSources } from './sources.js';

/** One admin path: the HTTP method it takes (GET also answers HEAD), its name for the gate, and what it answers. */
export interface AdminRoute {
  readonly verb: 'GET' | 'POST';
  readonly endpoint: AdminEndpoint;
  run(sources: AdminSources): Promise<AdminAnswer>;
}

/** Every admin path, and nothing else: a path not in this table is 404. */
export const ADMIN_ROUTES: ReadonlyMap<string, AdminRoute> = new Map<string, AdminRoute>([
  ['/metrics', get('metrics', async (s) => ({ status: 200, text: await need(s.metrics, 'metrics are off in this process').call(s), contentType: PROMETHEUS_CONTENT_TYPE }))],
  ['/health', get('health', async (s) => healthAnswer(await s.health(), wholeHealth, (h) => h.ready))],
  ['/health/live', get('health', async (s) => healthAnswer(await s.health(), (h) => ({ live: h.live }), (h) => h.live))],
  ['/health/ready', get('health', async (s) => healthAnswer(await s.health(), (h) => ({ ready: h.ready, reason: h.reason }), (h) => h.ready))],
  ['/status', get('status', async (s) => ({ status: 200, json: await need(s.status, 'this process reports no status').call(s) }))],
  ['/connections', get('connections', async (s) => ({ status: 200, json: await s.connections() }))],
  ['/providers', get('providers', async (s) => ({ status: 200, json: await need(s.providers, 'providers are a client\'s view; this process has none').call(s) }))],
  ['/offline', post('offline', async (s) => {
    await need(s.offline, 'this process has no registry to leave').call(s);
    return healthAnswer(await s.health(), wholeHealth, () => true);
  })],
  ['/online', post('online', async (s) => {
    await need(s.online, 'this process has no registry to join').call(s);
    return healthAnswer(await s.health(), wholeHealth, () => true);
  })],
]);

/** The paths, for the 404 message. */
export const ADMIN_PATHS = [...ADMIN_ROUTES.keys()];

function get(endpoint: AdminEndpoint, run: AdminRoute['run']): AdminRoute {
  return { verb: 'GET', endpoint, run };
}

function post(endpoint: AdminEndpoint, run: AdminRoute['run']): AdminRoute {
  return { verb: 'POST', endpoint, run };
}

/** The fields of a health report, and no others: a health object may be a class with listeners. */
function wholeHealth(health: AdminHealth): object {
  return { live: health.live, ready: health.ready, reason: health.reason };
}

/** 200 while `up` holds, 503 otherwise, so that a probe reading only the status gets it right. */
function healthAnswer(health: AdminHealth, shape: (health: AdminHealth) => object, up: (health: AdminHealth) => boolean): AdminAnswer {
  return { status: up(health) ? 200 : 503, json: shape(health) };
}

/** The source (call it with `.call(sources)`: it may be a method), or a NOT_FOUND saying why this process has none. */
function need<F extends (this: AdminSources) => unknown>(source: F | undefined, why: string): F {
  if (source === undefined) throw new RpcError(Code.NOT_FOUND, why);
  return source;
}
