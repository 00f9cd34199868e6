import type { Context, SpanContext, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import { otelApi } from '../otel-api.js';

// SAMPLED of the API, which this module does not load before it is used.
const SAMPLED = 1;

/*
 * W3C Trace Context (https://www.w3.org/TR/trace-context/), the `traceparent` and `tracestate`
 * headers, for a process that registered a tracer provider but no propagator: the API's global
 * propagator then does nothing, and a trace would stop at every process boundary.
 */

const TRACEPARENT = 'traceparent';
const TRACESTATE = 'tracestate';

// version "-" trace-id "-" parent-id "-" trace-flags, lower-case hex; a later version may append "-" and more.
const traceparentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The remote parent a `traceparent` names, or undefined when the value is malformed. */
export function parseTraceparent(value: string): SpanContext | undefined {
  const match = traceparentPattern.exec(value.trim());
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  // Version ff is forbidden; version 00 has exactly four fields.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (!otelApi().isValidTraceId(traceId) || !otelApi().isValidSpanId(spanId)) return undefined;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) & SAMPLED, isRemote: true };
}

/**
 * The `traceparent` of a span: version 00, and of the flags only `sampled`, the one this version
 * defines for every receiver.
 *
 * ```ts
 * formatTraceparent(span.spanContext()); // '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
 * ```
 */
export function formatTraceparent(spanContext: SpanContext): string {
  const sampled = (spanContext.traceFlags & SAMPLED) === SAMPLED;
  return `00-${spanContext.traceId}-${spanContext.spanId}-${sampled ? '01' : '00'}`;
}

/**
 * A propagator of W3C trace context alone, written to any carrier through its getter and setter.
 *
 * ```ts
 * traceContextPropagator.inject(trace.setSpan(context.active(), span), headers, setter);
 * ```
 */
export const traceContextPropagator: TextMapPropagator = {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = otelApi().trace.getSpanContext(context);
    if (spanContext === undefined || !otelApi().isSpanContextValid(spanContext)) return;
    setter.set(carrier, TRACEPARENT, formatTraceparent(spanContext));
    const state = spanContext.traceState?.serialize();
    if (state !== undefined && state !== '') setter.set(carrier, TRACESTATE, state);
  },

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const traceparent = single(getter.get(carrier, TRACEPARENT));
    if (traceparent === undefined) return context;
    const parent = parseTraceparent(traceparent);
    if (parent === undefined) return context;
    // Several tracestate headers are one list, in order (the W3C text allows splitting it).
    const state = getter.get(carrier, TRACESTATE);
    const joined = Array.isArray(state) ? state.join(',') : state;
    if (joined !== undefined && joined !== '') parent.traceState = otelApi().createTraceState(joined);
    return otelApi().trace.setSpanContext(context, parent);
  },

  fields(): string[] {
    return [TRACEPARENT, TRACESTATE];
  },
};

/** A header that must appear once: two `traceparent` values name no parent. */
function single(value: string | string[] | undefined): string | undefined {
  if (!Array.isArray(value)) return value;
  return value.length === 1 ? value[0] : undefined;
}
