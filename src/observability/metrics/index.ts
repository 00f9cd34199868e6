/*
 * Metrics of calls, connections, breakers, limits and worker pools: kept in a `MetricsRegistry`
 * (Prometheus text or JSON), and recorded to OpenTelemetry when an SDK registers a MeterProvider.
 */
export { MetricsRegistry, defaultMetrics, type Collector, type CollectorSink } from './registry.js';
export { MetricFamily, type Counter, type Gauge, type Histogram, type MetricType } from './family.js';
export { CounterSeries, GaugeSeries, HistogramSeries, DEFAULT_BUCKETS } from './series.js';
export { PROMETHEUS_CONTENT_TYPE, type MetricsSnapshot, type MetricSnapshot, type ValueSnapshot, type HistogramSnapshot } from './exposition.js';
export { serverMetrics } from './server-metrics.js';
export { clientMetrics, type ClientMetricsOptions } from './client-metrics.js';
export { registerRefusals, registerWorkerPool, registerBreakers, registerConnections, type BreakerInfo, type ConnectionState } from './collectors.js';
export { otelMetrics, METER_NAME, type OtelMetricsOptions } from './otel-metrics.js';
