import type { MethodEntry } from '../../core/call-table.js';
import type { CallProbe, ServerObserver } from '../../core/observer.js';
import type { RpcError } from '../../core/rpc-error.js';
import type { ServerCall } from '../../core/server-call.js';
import { CallSeries, TimedCall, type CallFamilies } from './call-series.js';
import type { MetricsRegistry } from './registry.js';
import type { CounterSeries } from './series.js';

/** A server method's series: those of every call, and the bytes it read and wrote. */
class ServerMethodSeries extends CallSeries {
  constructor(
    families: CallFamilies,
    labelValues: readonly string[],
    readonly requestBytes: CounterSeries,
    readonly responseBytes: CounterSeries,
  ) {
    super(families, labelValues);
  }
}

class ServerTimedCall extends TimedCall {
  constructor(
    protected override readonly series: ServerMethodSeries,
    private readonly call: ServerCall,
  ) {
    super(series);
  }

  override end(error: RpcError | undefined): void {
    super.end(error);
    // Read at the end: the transport sets the response's size as it encodes it, after the handler.
    this.series.requestBytes.value += this.call.requestBytes;
    this.series.responseBytes.value += this.call.responseBytes;
  }
}

/**
 * Counts a server's calls into `registry`: calls by service, method and code, their durations,
 * calls in flight and bytes read and written. Hand it to the server as an observer.
 *
 * ```ts
 * const registry = new MetricsRegistry();
 * const observer = serverMetrics(registry);
 * registry.prometheusText(); // switchyard_server_calls_total{service="demo.Calculator",method="add",code="OK"} 1 …
 * ```
 */
export function serverMetrics(registry: MetricsRegistry): ServerObserver {
  const families: CallFamilies = {
    calls: registry.counter('switchyard_server_calls_total', 'Calls a server has run, by service, method and status code.', ['service', 'method', 'code']),
    duration: registry.histogram('switchyard_server_call_duration_seconds', 'How long a server took to run and answer a call, in seconds.', ['service', 'method']),
    inFlight: registry.gauge('switchyard_server_calls_in_flight', 'Calls a server is running now.', ['service', 'method']),
  };
  const requestBytes = registry.counter('switchyard_server_request_bytes_total', 'Bytes of encoded arguments a server has received.', ['service', 'method']);
  const responseBytes = registry.counter('switchyard_server_response_bytes_total', 'Bytes of encoded answers a server has sent.', ['service', 'method']);
  const byEntry = new WeakMap<MethodEntry, ServerMethodSeries>();
  const seriesOf = (entry: MethodEntry): ServerMethodSeries => {
    const labelValues = [entry.service.id, entry.method];
    const series = new ServerMethodSeries(families, labelValues, requestBytes.labels(...labelValues), responseBytes.labels(...labelValues));
    byEntry.set(entry, series);
    return series;
  };
  return {
    serverCall(entry: MethodEntry, call: ServerCall): CallProbe {
      return new ServerTimedCall(byEntry.get(entry) ?? seriesOf(entry), call);
    },
  };
}
