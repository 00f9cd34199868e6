import type { MetricsRegistry } from '../observability/metrics/registry.js';
import type { AdaptiveConcurrencyStats } from '../interceptors/adaptive-concurrency.js';
import type { Invoker } from './invoker.js';
import type { RetryBudget } from './retry-budget.js';

/*
 * Metrics of retry budgets, adaptive limits and outlier ejection, read from the objects that keep
 * them when the registry is read (collectors): nothing is counted twice and nothing runs per call.
 */

/** One reference as `registerClientResilience` reads it. */
export interface ResilienceSource {
  readonly service: string;
  readonly retryBudget: RetryBudget | undefined;
  readonly providers: readonly Invoker[];
}

/**
 * On a client: `switchyard_retry_budget_retries_total{service,outcome}` (retries the budget allowed
 * or refused), `switchyard_provider_concurrency_limit{service,provider}` (adaptive limits) and
 * `switchyard_outlier_ejected{service,provider}` (1 while ejected), with
 * `switchyard_outlier_ejections_total{service,provider}`.
 */
export function registerClientResilience(registry: MetricsRegistry, source: () => Iterable<ResilienceSource>): () => void {
  return registry.addCollector((sink) => {
    const budgets = new Set<RetryBudget>();
    for (const { service, retryBudget, providers } of source()) {
      // A budget shared by several references is counted once, under the first that has it.
      if (retryBudget !== undefined && !budgets.has(retryBudget)) {
        budgets.add(retryBudget);
        const { retries, refused } = retryBudget.stats();
        const help = 'Retries, failback resends and their refusals by the retry budget.';
        sink.counter('switchyard_retry_budget_retries_total', help, { service, outcome: 'allowed' }, retries);
        sink.counter('switchyard_retry_budget_retries_total', help, { service, outcome: 'refused' }, refused);
      }
      for (const invoker of providers) {
        const provider = invoker.provider.address;
        if (invoker.limiter !== undefined) {
          sink.gauge('switchyard_provider_concurrency_limit', 'Adaptive limit of this client\'s calls in flight to a provider.', { service, provider }, invoker.limiter.limit);
        }
        if (invoker.outlier !== undefined) {
          sink.gauge('switchyard_outlier_ejected', 'Providers taken out of load balancing by outlier ejection: 1 while ejected.', { service, provider }, invoker.outlier.ejected ? 1 : 0);
          sink.counter('switchyard_outlier_ejections_total', 'Ejections of a provider by outlier ejection.', { service, provider }, invoker.outlier.timesEjected);
        }
      }
    }
  });
}

/**
 * On a server: `switchyard_adaptive_concurrency_limit`, `switchyard_adaptive_concurrency_in_flight`
 * and `switchyard_adaptive_concurrency_refusals_total` of its adaptive limit.
 */
export function registerServerAdaptiveLimit(registry: MetricsRegistry, stats: () => AdaptiveConcurrencyStats): () => void {
  return registry.addCollector((sink) => {
    const { limit, inFlight, rejected } = stats();
    sink.gauge('switchyard_adaptive_concurrency_limit', 'Calls the server\'s adaptive limit lets run at once.', {}, limit);
    sink.gauge('switchyard_adaptive_concurrency_in_flight', 'Calls running under the server\'s adaptive limit.', {}, inFlight);
    sink.counter('switchyard_adaptive_concurrency_refusals_total', 'Calls refused by the server\'s adaptive limit.', {}, rejected);
  });
}
