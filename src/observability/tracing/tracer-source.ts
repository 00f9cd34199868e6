import type { ProxyTracerProvider, Tracer, TracerProvider } from '@opentelemetry/api';
import { otelRegistered, otelApi } from '../otel-api.js';

/** The name spans of Switchyard are recorded under (the instrumentation scope). */
export const TRACER_NAME = 'switchyard';

/*
 * Until an SDK registers a tracer provider, the API answers with a proxy whose delegate is its own
 * no-op provider, one object for the life of the API module; a fresh proxy shows which object that
 * is. Asking the API costs about 60 ns a call (a global symbol lookup and a version check); reading
 * the registration record first (otel-api.ts) makes "no tracer provider" one property read, and
 * leaves the API unloaded until something registers.
 */
let noopProvider: TracerProvider | undefined;

/**
 * The tracer for a call, or undefined when nothing would record its spans.
 *
 * ```ts
 * const source = new TracerSource();
 * const tracer = source.current();
 * if (tracer === undefined) return undefined; // no SDK: no spans, no allocations
 * ```
 */
export class TracerSource {
  private provider: TracerProvider | undefined;
  private tracer: Tracer | undefined;

  /** `fixed`: a provider to use always, instead of the global one. */
  constructor(private readonly fixed?: TracerProvider) {}

  current(): Tracer | undefined {
    const provider = this.fixed ?? registeredProvider();
    if (provider === undefined) return undefined;
    // The global provider changes only when an SDK is registered or disabled: keep its tracer.
    if (provider !== this.provider) {
      this.tracer = provider.getTracer(TRACER_NAME);
      this.provider = provider;
    }
    return this.tracer;
  }
}

/** The provider an SDK registered globally, or undefined when none is. */
function registeredProvider(): TracerProvider | undefined {
  if (!otelRegistered('trace')) return undefined;
  // Registered: let the API say what, checking versions as it does.
  const api = otelApi();
  noopProvider ??= new api.ProxyTracerProvider().getDelegate();
  const global = api.trace.getTracerProvider();
  // The registered object is a proxy (of this API module or of another copy in the process).
  const provider = typeof (global as Partial<ProxyTracerProvider>).getDelegate === 'function'
    ? (global as ProxyTracerProvider).getDelegate()
    : global;
  return provider === noopProvider ? undefined : provider;
}
