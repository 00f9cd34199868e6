import type { Context, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import { otelApi } from '../otel-api.js';
import type { Metadata } from '../../core/metadata.js';
import { traceContextPropagator } from './trace-context.js';

/*
 * How a span's context rides in a call's metadata. The process's global propagator decides the
 * format (W3C trace context, B3, baggage, …); when none is registered the API's stand-in has no
 * fields, and the W3C codec takes its place, so that a trace crosses processes even when only a
 * tracer provider was registered.
 */

/** Reads text metadata for a propagator; a binary value under a trace key is no trace context. */
const metadataGetter: TextMapGetter<Metadata> = {
  keys(metadata) {
    return Array.from(metadata, ([key]) => key);
  },
  get(metadata, key) {
    const value = metadata.get(key);
    return typeof value === 'string' ? value : undefined;
  },
};

/** Writes text metadata for a propagator; a key metadata cannot carry is left out, not a failed call. */
const metadataSetter: TextMapSetter<Metadata> = {
  set(metadata, key, value) {
    try {
      metadata.set(key, value);
    } catch {
      // An invalid key (a propagator's own header name with characters metadata refuses): skip it.
    }
  },
};

/** The propagator in force: the global one, or W3C trace context when the global one does nothing. */
function propagator(): TextMapPropagator {
  const { propagation } = otelApi();
  return propagation.fields().length === 0 ? traceContextPropagator : propagation;
}

/**
 * The context a server call continues: the remote parent (and baggage) its metadata carries, on a
 * root context, so a server span never inherits what happened to be current on the socket.
 *
 * ```ts
 * const parent = extractContext(call.metadata);
 * ```
 */
export function extractContext(metadata: Metadata): Context {
  return propagator().extract(otelApi().ROOT_CONTEXT, metadata, metadataGetter);
}

/**
 * Writes `context` (its span, and baggage) into request metadata about to leave.
 *
 * ```ts
 * injectContext(trace.setSpan(context.active(), span), sent.metadata);
 * ```
 */
export function injectContext(context: Context, metadata: Metadata): void {
  propagator().inject(context, metadata, metadataSetter);
}
