import type { CallTable } from '../core/call-table.js';
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { peekCurrentCall } from '../core/server-call.js';
import type { Health, HealthStatus } from '../transport/grpc/health.js';
import type { ServerHealth } from './server-health.js';
import { answersTo } from './service-name.js';

/** How often a `watch` of a service not provided yet looks again: `server.provide` tells no one. */
const UNKNOWN_SERVICE_POLL_MS = 1000;

/**
 * `grpc.health.v1.Health` for one server, the same on every transport: `''` is the whole server,
 * a provided service's name or id (`group/name:version`) is that service; either is SERVING while
 * the server is ready (registered, not offline, not draining) and NOT_SERVING otherwise. Another
 * name is NOT_FOUND for `check`; `watch` reports it SERVICE_UNKNOWN until it is provided. `watch`
 * sends the status, then each change, and ends after NOT_SERVING once the server drains, so that
 * it never holds up a drain.
 *
 * ```ts
 * table.provide(HealthService, healthService(table, health), [], { builtin: true });
 * ```
 */
export function healthService(table: CallTable, health: ServerHealth): Health {
  const status = (service: string): HealthStatus => {
    if (service !== '' && !provides(table, service)) return 'SERVICE_UNKNOWN';
    return health.ready ? 'SERVING' : 'NOT_SERVING';
  };
  return {
    async check(request) {
      const service = serviceOf(request);
      const current = status(service);
      if (current === 'SERVICE_UNKNOWN') throw new RpcError(Code.NOT_FOUND, `unknown service ${JSON.stringify(service)}`);
      return { status: current };
    },
    watch(request) {
      // Read now, while the call is current: the generator's body runs later, in the transport's next().
      return follow(serviceOf(request), status, health, peekCurrentCall()?.signal);
    },
  };
}

async function* follow(service: string, status: (service: string) => HealthStatus, health: ServerHealth, signal: AbortSignal | undefined): AsyncGenerator<{ status: HealthStatus }> {
  let last: HealthStatus | undefined;
  while (signal?.aborted !== true) {
    const current = status(service);
    if (current !== last) {
      last = current;
      yield { status: current };
    }
    if (health.reason === 'draining') return;
    await changed(health, signal, current === 'SERVICE_UNKNOWN' ? UNKNOWN_SERVICE_POLL_MS : undefined);
  }
}

/** Resolves at the next change of the server's health, when `signal` fires, or after `pollMs`. */
function changed(health: ServerHealth, signal: AbortSignal | undefined, pollMs: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stop();
      signal?.removeEventListener('abort', done);
      if (timer !== undefined) clearTimeout(timer);
      resolve();
    };
    const stop = health.onChange(done);
    const timer = pollMs === undefined ? undefined : setTimeout(done, pollMs);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Whether the table has a service of the user's with this id or name. */
function provides(table: CallTable, service: string): boolean {
  return table.serviceIds.some((id) => !table.isBuiltin(id) && answersTo(id, service));
}

function serviceOf(request: { service?: unknown } | undefined): string {
  const service = request?.service;
  return typeof service === 'string' ? service : '';
}

