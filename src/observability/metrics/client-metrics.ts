import type { Invocation } from '../../core/invocation.js';
import type { AttemptProbe, AttemptTarget, CallProbe, ClientObserver } from '../../core/observer.js';
import { CallSeries, TimedCall, type CallFamilies } from './call-series.js';
import type { MetricsRegistry } from './registry.js';

/** Series by service id, then method: two map lookups per call, no key built from strings. */
type ByMethod = Map<string, Map<string, CallSeries>>;

/** What a client's metrics count besides each attempt at a provider. */
export interface ClientMetricsOptions {
  /**
   * Also count each call as the caller saw it, retries and failover included
   * (`switchyard_client_logical_calls_total`, its duration and calls in flight). Off by default: it
   * times every call a second time and holds a promise per call (measured: a few percent of a
   * small call), and with no failover it shows what the attempts show.
   */
  logicalCalls?: boolean;
}

/**
 * Counts a client's calls into `registry`:
 * - each time a call went to a provider (an attempt):
 *   `switchyard_client_calls_total{service,method,provider,code}`, its duration and calls in flight,
 *   `provider` being the address (`tcp://10.0.0.7:20880`), less any credentials;
 * - with `logicalCalls`, each call the caller made, whatever retries or failover it took:
 *   `switchyard_client_logical_calls_total{service,method,code}`, its duration and calls in flight.
 *
 * ```ts
 * const observer = clientMetrics(defaultMetrics);
 * ```
 */
export function clientMetrics(registry: MetricsRegistry, options: ClientMetricsOptions = {}): ClientObserver {
  const logical: CallFamilies = {
    calls: registry.counter('switchyard_client_logical_calls_total', 'Calls a client was asked to make, by service, method and the status code the caller saw (retries and failover included).', ['service', 'method', 'code']),
    duration: registry.histogram('switchyard_client_logical_call_duration_seconds', 'How long a caller waited for a call, retries and failover included, in seconds.', ['service', 'method']),
    inFlight: registry.gauge('switchyard_client_logical_calls_in_flight', 'Calls a client is making now.', ['service', 'method']),
  };
  const attempts: CallFamilies = {
    calls: registry.counter('switchyard_client_calls_total', 'Calls a client sent to a provider, by service, method, provider address and status code.', ['service', 'method', 'provider', 'code']),
    duration: registry.histogram('switchyard_client_call_duration_seconds', 'How long a provider took to answer a client, in seconds.', ['service', 'method', 'provider']),
    inFlight: registry.gauge('switchyard_client_calls_in_flight', 'Calls a client has sent to a provider and awaits.', ['service', 'method', 'provider']),
  };
  const byMethod: ByMethod = new Map();
  const byProvider = new Map<string, ByMethod>();
  return {
    clientCall(call: Invocation): CallProbe | undefined {
      return options.logicalCalls === true ? new TimedCall(seriesIn(byMethod, logical, call, undefined)) : undefined;
    },
    attempt(call: Invocation, target: AttemptTarget): AttemptProbe {
      let methods = byProvider.get(target.address);
      if (methods === undefined) byProvider.set(target.address, (methods = new Map()));
      return new TimedCall(seriesIn(methods, attempts, call, target));
    },
  };
}

function seriesIn(byService: ByMethod, families: CallFamilies, call: Invocation, target: AttemptTarget | undefined): CallSeries {
  const serviceId = call.service.id;
  let methods = byService.get(serviceId);
  if (methods === undefined) byService.set(serviceId, (methods = new Map()));
  let series = methods.get(call.method);
  if (series === undefined) {
    const labelValues = target === undefined ? [serviceId, call.method] : [serviceId, call.method, providerLabel(target.address)];
    methods.set(call.method, (series = new CallSeries(families, labelValues)));
  }
  return series;
}

/**
 * An address as a label: without the `user:password@` or query an AMQP broker's URL may carry,
 * since metrics are read by whoever can scrape them.
 */
export function providerLabel(address: string): string {
  return address.replace(/\/\/[^/@]*@/, '//').replace(/[?#].*$/, '');
}
