import type { Attributes, Histogram, Meter, MeterProvider } from '@opentelemetry/api';
import { otelApi, otelRegistered } from '../otel-api.js';
import { codeName } from '../../core/code.js';
import type { MethodEntry } from '../../core/call-table.js';
import type { Invocation } from '../../core/invocation.js';
import type { AttemptProbe, AttemptTarget, CallProbe, ClientObserver, ServerObserver } from '../../core/observer.js';
import type { RpcError } from '../../core/rpc-error.js';
import type { ServerCall } from '../../core/server-call.js';
import type { ServiceDefinition } from '../../core/service.js';
import { endpointOf } from '../tracing/endpoint.js';
import { ATTR_RPC_GRPC_STATUS_CODE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_SWITCHYARD_CODE, SYSTEM_GRPC, SYSTEM_SWITCHYARD, callAttributes, systemOf } from '../tracing/span-attributes.js';

/*
 * Calls recorded as OpenTelemetry metrics, named as the RPC semantic conventions name them
 * (https://opentelemetry.io/docs/specs/semconv/rpc/rpc-metrics/): durations in milliseconds, sizes
 * in bytes, with the attributes the spans of tracing have. Nothing is recorded, and nothing
 * allocated, until an SDK registers a global MeterProvider: without one, the API hands out its
 * no-op meter, and a call costs a comparison with it.
 */

/** The instrumentation scope of Switchyard's metrics. */
export const METER_NAME = 'switchyard';

// The store's bounds in milliseconds: from half a millisecond, for calls on one machine, to 10 s.
const DURATION_BOUNDS_MS = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
const SIZE_BOUNDS_BYTES = [0, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];

/** The instruments of one meter; made again only when the global provider changes. */
class Instruments {
  readonly serverDuration: Histogram;
  readonly serverRequestSize: Histogram;
  readonly serverResponseSize: Histogram;
  readonly clientDuration: Histogram;
  readonly clientCallDuration: Histogram;

  constructor(meter: Meter) {
    const duration = { unit: 'ms', advice: { explicitBucketBoundaries: DURATION_BOUNDS_MS } };
    const size = { unit: 'By', advice: { explicitBucketBoundaries: SIZE_BOUNDS_BYTES } };
    this.serverDuration = meter.createHistogram('rpc.server.duration', { ...duration, description: 'Duration of calls a server ran.' });
    this.serverRequestSize = meter.createHistogram('rpc.server.request.size', { ...size, description: 'Size of the encoded arguments of calls a server ran.' });
    this.serverResponseSize = meter.createHistogram('rpc.server.response.size', { ...size, description: 'Size of the encoded answers of calls a server ran.' });
    this.clientDuration = meter.createHistogram('rpc.client.duration', { ...duration, description: 'Duration of calls a client sent to one provider (each attempt).' });
    this.clientCallDuration = meter.createHistogram('switchyard.client.call.duration', { ...duration, description: 'Duration of calls as the caller saw them, retries and failover included.' });
  }
}

/** The instruments to record to now, or undefined while no MeterProvider is registered. */
class InstrumentSource {
  private provider: MeterProvider | undefined;
  private instruments: Instruments | undefined;

  constructor(private readonly fixed: MeterProvider | undefined) {}

  current(): Instruments | undefined {
    // Nothing registered: the API stays unloaded (see otel-api.ts).
    if (this.fixed === undefined && !otelRegistered('metrics')) return undefined;
    const api = otelApi();
    const provider = this.fixed ?? api.metrics.getMeterProvider();
    if (provider !== this.provider) {
      this.provider = provider;
      const meter = provider.getMeter(METER_NAME);
      // The API's no-op meter is one object, handed out while no SDK is registered.
      this.instruments = meter === api.createNoopMeter() ? undefined : new Instruments(meter);
    }
    return this.instruments;
  }
}

/** The attributes of one kind of call, one object per code, each made once, on first use. */
class CodeAttributes {
  private readonly byCode: Array<Attributes | undefined> = [];

  constructor(
    private readonly common: Attributes,
    private readonly system: string,
  ) {}

  of(error: RpcError | undefined): Attributes {
    const code = error === undefined ? 0 : error.code;
    return this.byCode[code] ?? (this.byCode[code] = this.system === SYSTEM_GRPC
      ? { ...this.common, [ATTR_RPC_GRPC_STATUS_CODE]: code }
      : { ...this.common, [ATTR_SWITCHYARD_CODE]: codeName(code) });
  }
}

class RecordedCall implements CallProbe {
  private readonly startedAt = performance.now();
  private open = true;

  constructor(
    private readonly duration: Histogram,
    protected readonly attributes: CodeAttributes,
  ) {}

  end(error: RpcError | undefined): void {
    if (!this.open) return;
    this.open = false;
    this.recorded(this.attributes.of(error), performance.now() - this.startedAt);
  }

  protected recorded(attributes: Attributes, ms: number): void {
    this.duration.record(ms, attributes);
  }
}

class RecordedServerCall extends RecordedCall {
  constructor(
    private readonly instruments: Instruments,
    attributes: CodeAttributes,
    private readonly call: ServerCall,
  ) {
    super(instruments.serverDuration, attributes);
  }

  protected override recorded(attributes: Attributes, ms: number): void {
    super.recorded(attributes, ms);
    // 0 is what a transport leaves when it does not know the size: nothing to record then.
    if (this.call.requestBytes > 0) this.instruments.serverRequestSize.record(this.call.requestBytes, attributes);
    if (this.call.responseBytes > 0) this.instruments.serverResponseSize.record(this.call.responseBytes, attributes);
  }
}

/** Options of `otelMetrics`. */
export interface OtelMetricsOptions {
  /** A provider to record to instead of the global one (the global one is looked up per call). */
  meterProvider?: MeterProvider;
}

/**
 * Records a server's and a client's calls as OpenTelemetry metrics when a MeterProvider is
 * registered: `rpc.server.duration`, `rpc.server.request.size`, `rpc.server.response.size`,
 * `rpc.client.duration` (per attempt, with `server.address` and `server.port`) and
 * `switchyard.client.call.duration` (per call as the caller saw it).
 *
 * ```ts
 * metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
 * const observer = otelMetrics(); // a ServerObserver and a ClientObserver
 * ```
 */
export function otelMetrics(options: OtelMetricsOptions = {}): ServerObserver & ClientObserver {
  const source = new InstrumentSource(options.meterProvider);
  const byEntry = new WeakMap<MethodEntry, CodeAttributes>();
  const byMethod = new Map<ServiceDefinition, Map<string, CodeAttributes>>();
  const byProvider = new Map<string, Map<ServiceDefinition, Map<string, CodeAttributes>>>();
  return {
    serverCall(entry: MethodEntry, call: ServerCall): CallProbe | undefined {
      const instruments = source.current();
      if (instruments === undefined) return undefined;
      let attributes = byEntry.get(entry);
      if (attributes === undefined) {
        // The server does not see which transport brought the call: the system is Switchyard's.
        byEntry.set(entry, (attributes = new CodeAttributes(callAttributes(entry.service, entry.method, SYSTEM_SWITCHYARD), SYSTEM_SWITCHYARD)));
      }
      return new RecordedServerCall(instruments, attributes, call);
    },
    clientCall(call: Invocation): CallProbe | undefined {
      const instruments = source.current();
      if (instruments === undefined) return undefined;
      const attributes = attributesIn(byMethod, call, () => new CodeAttributes(callAttributes(call.service, call.method, SYSTEM_SWITCHYARD), SYSTEM_SWITCHYARD));
      return new RecordedCall(instruments.clientCallDuration, attributes);
    },
    attempt(call: Invocation, target: AttemptTarget): AttemptProbe | undefined {
      const instruments = source.current();
      if (instruments === undefined) return undefined;
      let methods = byProvider.get(target.address);
      if (methods === undefined) byProvider.set(target.address, (methods = new Map()));
      const attributes = attributesIn(methods, call, () => attemptAttributes(call, target));
      return new RecordedCall(instruments.clientDuration, attributes);
    },
  };
}

function attributesIn(byService: Map<ServiceDefinition, Map<string, CodeAttributes>>, call: Invocation, make: () => CodeAttributes): CodeAttributes {
  let methods = byService.get(call.service);
  if (methods === undefined) byService.set(call.service, (methods = new Map()));
  let attributes = methods.get(call.method);
  if (attributes === undefined) methods.set(call.method, (attributes = make()));
  return attributes;
}

function attemptAttributes(call: Invocation, target: AttemptTarget): CodeAttributes {
  const system = systemOf(target.protocol);
  const common = callAttributes(call.service, call.method, system);
  const { host, port } = endpointOf(target.address);
  common[ATTR_SERVER_ADDRESS] = host;
  if (port !== undefined) common[ATTR_SERVER_PORT] = port;
  return new CodeAttributes(common, system);
}
