import { clientObservers, serverObservers, type ClientObserver, type ServerObserver } from '../core/observer.js';
import { otelInUse } from './otel-api.js';
import type { AdminOptions } from '../admin/sources.js';
import { MetricsRegistry, clientMetrics, defaultMetrics, otelMetrics, serverMetrics } from './metrics/index.js';
import { clientTracing, serverTracing, tracingOptionsOf, type TracingOptions } from './tracing/index.js';

/** What a server or a client shows of its calls: traces, metrics and the admin endpoints. */
export interface ObservabilityOptions {
  /**
   * OpenTelemetry spans for every call, when an SDK has registered a tracer provider (checked per
   * call, so one registered later is used too); `false` never makes any. Default `true`.
   */
  tracing?: boolean | TracingOptions;
  /**
   * Calls, errors, latencies, calls in flight and bytes per service, method (and provider, on a
   * client), kept for Prometheus (`/metrics` of the admin listener): `true` in the process-wide
   * registry, or a `MetricsRegistry` of your own. Default: on when `admin` is set. OpenTelemetry
   * metrics are recorded whenever an SDK has registered a meter provider, whatever this says.
   */
  metrics?: boolean | MetricsRegistry;
  /**
   * An HTTP listener for operators (`'http://127.0.0.1:9464'`): `/metrics`, `/health`, `/status`,
   * `/connections`, `/providers` (client), `POST /offline` and `/online` (server). Loopback only,
   * unless `{ url, public: true }`. See docs/observability.md.
   */
  admin?: string | AdminOptions;
}

/** The registry calls are counted in, or undefined when metrics are off. */
export function metricsRegistryOf(options: ObservabilityOptions): MetricsRegistry | undefined {
  const setting = options.metrics ?? options.admin !== undefined;
  if (setting === false) return undefined;
  return setting === true ? defaultMetrics : setting;
}

/** The admin option in its object form, or undefined for none. */
export function adminOptionsOf(options: ObservabilityOptions): AdminOptions | undefined {
  return typeof options.admin === 'string' ? { url: options.admin } : options.admin;
}

/** One OpenTelemetry metrics observer per process: it follows the global meter provider. */
let sharedOtelMetrics: ReturnType<typeof otelMetrics> | undefined;

/*
 * Tracing and OpenTelemetry metrics follow what an SDK registers, so they are installed always; a
 * process that registers nothing pays for both one property read per call and per attempt (the
 * OpenTelemetry observers are asked only once something has registered with the API).
 */

export function clientObserversOf(options: ObservabilityOptions): ClientObserver[] {
  const observers: ClientObserver[] = [];
  const tracing = tracingOptionsOf(options.tracing);
  const registry = metricsRegistryOf(options);
  if (registry !== undefined) observers.push(clientMetrics(registry));
  const otel: ClientObserver[] = [(sharedOtelMetrics ??= otelMetrics())];
  // A provider given to the client is used whether or not anything registered globally.
  if (tracing?.tracerProvider !== undefined) observers.push(clientTracing(tracing));
  else if (tracing !== undefined) otel.unshift(clientTracing(tracing));
  const watched = clientObservers(otel)!;
  observers.push({
    clientCall: (call) => (otelInUse() ? watched.clientCall(call) : undefined),
    attempt: (call, target) => (otelInUse() ? watched.attempt(call, target) : undefined),
  });
  return observers;
}

export function serverObserversOf(options: ObservabilityOptions): ServerObserver[] {
  const observers: ServerObserver[] = [];
  const tracing = tracingOptionsOf(options.tracing);
  const registry = metricsRegistryOf(options);
  if (registry !== undefined) observers.push(serverMetrics(registry));
  const otel: ServerObserver[] = [(sharedOtelMetrics ??= otelMetrics())];
  if (tracing?.tracerProvider !== undefined) observers.push(serverTracing(tracing));
  else if (tracing !== undefined) otel.unshift(serverTracing(tracing));
  const watched = serverObservers(otel)!;
  observers.push({ serverCall: (entry, call) => (otelInUse() ? watched.serverCall(entry, call) : undefined) });
  return observers;
}
