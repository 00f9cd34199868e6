import type { Context, Span, SpanKind, TracerProvider } from '@opentelemetry/api';
import { otelApi } from '../otel-api.js';
import { withOwnMetadata } from '../../core/client-call.js';
import type { Invocation } from '../../core/invocation.js';
import type { AttemptProbe, AttemptTarget, CallProbe, ClientObserver, ServerObserver } from '../../core/observer.js';
import type { RpcError } from '../../core/rpc-error.js';
import { peekCurrentCall } from '../../core/server-call.js';
import { endpointOf } from './endpoint.js';
import { extractContext, injectContext } from './propagation.js';
import {
  ATTR_NETWORK_TRANSPORT, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_SWITCHYARD_ATTEMPTS, ATTR_SWITCHYARD_PROTOCOL,
  ATTR_SWITCHYARD_REQUEST_BYTES, ATTR_SWITCHYARD_RESPONSE_BYTES, SYSTEM_SWITCHYARD,
  callAttributes, networkTransportOf, recordOutcome, spanNameOf, systemOf,
} from './span-attributes.js';
import { TracerSource } from './tracer-source.js';

/*
 * Spans for calls, through the observer hook of src/core/observer.ts. A server call is one SERVER
 * span, child of the caller's attempt. A client call is one INTERNAL span for the logical call
 * (the whole fault-tolerance strategy), with a CLIENT span for each attempt at a provider under
 * it, so retries, failover and forking show as several attempts of one call. Spans are made only
 * while a tracer provider is registered (or one was given): until then every probe is undefined.
 */

/** How a server or client traces its calls. */
export interface TracingOptions {
  /** `false`: no spans, even with an OpenTelemetry SDK registered. Default `true`. */
  enabled?: boolean;
  /**
   * Records spans to this provider instead of the global one, whether or not a global one is
   * registered. Default: the provider an OpenTelemetry SDK registered, checked per call.
   */
  tracerProvider?: TracerProvider;
}

/**
 * The tracing options of a `tracing` setting, or undefined when it turns tracing off.
 *
 * ```ts
 * const tracing = tracingOptionsOf(options.tracing); // undefined | true → {}; false → undefined
 * if (tracing !== undefined) observers.push(serverTracing(tracing));
 * ```
 */
export function tracingOptionsOf(setting: boolean | TracingOptions | undefined): TracingOptions | undefined {
  if (setting === false || (typeof setting === 'object' && setting.enabled === false)) return undefined;
  return typeof setting === 'object' ? setting : {};
}

// The context each traced server call runs in, for the calls its handler makes when no context
// manager carries it there (the current call still names it; see callerContext).
const servedContexts = new WeakMap<Invocation, Context>();

/**
 * An observer that gives every call a server runs a SERVER span, continuing the trace its
 * metadata carries (`traceparent`), with the span current while the handler runs.
 *
 * ```ts
 * const observer = serverTracing();                                  // the global provider
 * const observer = serverTracing({ tracerProvider: myProvider });    // always this one
 * ```
 */
export function serverTracing(options: TracingOptions = {}): ServerObserver {
  if (options.enabled === false) return { serverCall: () => undefined };
  const source = new TracerSource(options.tracerProvider);
  return {
    serverCall(entry, call) {
      const tracer = source.current();
      if (tracer === undefined) return undefined;
      const parent = extractContext(call.metadata);
      const span = tracer.startSpan(spanNameOf(entry.service, entry.method), {
        kind: 1 as SpanKind.SERVER,
        attributes: callAttributes(entry.service, entry.method, SYSTEM_SWITCHYARD),
      }, parent);
      const current = otelApi().trace.setSpan(parent, span);
      servedContexts.set(call, current);
      return {
        run: <T>(fn: () => T): T => otelApi().context.with(current, fn),
        end(error: RpcError | undefined) {
          // Sizes are known only now: the transport set them as it decoded and encoded.
          if (call.requestBytes > 0) span.setAttribute(ATTR_SWITCHYARD_REQUEST_BYTES, call.requestBytes);
          if (call.responseBytes > 0) span.setAttribute(ATTR_SWITCHYARD_RESPONSE_BYTES, call.responseBytes);
          recordOutcome(span, SYSTEM_SWITCHYARD, 'server', error);
          span.end();
        },
      };
    },
  };
}

// The API's createContextKey is Symbol.for of its description; made here without loading the API.
const LOGICAL_CALL = Symbol.for('switchyard logical call');
// The same, by call, for attempts made where no context manager carried the logical call's context.
const logicalCalls = new WeakMap<Invocation, LogicalCall>();

/** A logical call in progress: its span's context, and how many attempts it made. */
class LogicalCall implements CallProbe {
  attempts = 0;
  /** The context with the call's span current, carrying this call so that its attempts find it. */
  readonly current: Context;

  constructor(private readonly span: Span, parent: Context) {
    this.current = otelApi().trace.setSpan(parent, span).setValue(LOGICAL_CALL, this);
  }

  run<T>(fn: () => T): T {
    return otelApi().context.with(this.current, fn);
  }

  end(error: RpcError | undefined): void {
    this.span.setAttribute(ATTR_SWITCHYARD_ATTEMPTS, this.attempts);
    recordOutcome(this.span, SYSTEM_SWITCHYARD, 'client', error);
    this.span.end();
  }
}

/** One attempt's CLIENT span, and the call as it leaves for it: a copy carrying the span's `traceparent`. */
class Attempt implements AttemptProbe {
  constructor(readonly call: Invocation, private readonly span: Span, private readonly current: Context, private readonly system: string) {}

  run<T>(fn: () => T): T {
    return otelApi().context.with(this.current, fn);
  }

  end(error: RpcError | undefined): void {
    recordOutcome(this.span, this.system, 'client', error);
    this.span.end();
  }
}

/**
 * An observer that gives every call a client makes an INTERNAL span, and each attempt at a
 * provider a CLIENT span under it whose context leaves with the attempt's request metadata.
 *
 * ```ts
 * const observer = clientTracing();
 * ```
 */
export function clientTracing(options: TracingOptions = {}): ClientObserver {
  if (options.enabled === false) return { clientCall: () => undefined, attempt: () => undefined };
  const source = new TracerSource(options.tracerProvider);
  return {
    clientCall(call) {
      const tracer = source.current();
      if (tracer === undefined) return undefined;
      const parent = callerContext();
      const span = tracer.startSpan(spanNameOf(call.service, call.method), {
        kind: 0 as SpanKind.INTERNAL,
        attributes: callAttributes(call.service, call.method, SYSTEM_SWITCHYARD),
      }, parent);
      const logical = new LogicalCall(span, parent);
      logicalCalls.set(call, logical);
      return logical;
    },

    attempt(call, target) {
      const tracer = source.current();
      if (tracer === undefined) return undefined;
      const active = otelApi().context.active();
      const carried = active.getValue(LOGICAL_CALL) as LogicalCall | undefined;
      const logical = carried ?? logicalCalls.get(call);
      if (logical !== undefined) logical.attempts++;
      const parent = carried !== undefined || logical === undefined ? active : logical.current;
      const system = systemOf(target.protocol);
      const span = tracer.startSpan(spanNameOf(call.service, call.method), {
        kind: 2 as SpanKind.CLIENT,
        attributes: attemptAttributes(call, target, system),
      }, parent);
      const current = otelApi().trace.setSpan(parent, span);
      const sent = withOwnMetadata(call);
      injectContext(current, sent.metadata);
      return new Attempt(sent, span, current, system);
    },
  };
}

/**
 * The parent of a logical call's span: the current context when it holds a span (a context
 * manager carries the handler's server span, or the application's own); else, inside a handler,
 * the span of the call it serves, which the current call still names without a context manager.
 */
function callerContext(): Context {
  const active = otelApi().context.active();
  if (otelApi().trace.getSpan(active) !== undefined) return active;
  const serving = peekCurrentCall();
  return (serving === undefined ? undefined : servedContexts.get(serving)) ?? active;
}

function attemptAttributes(call: Invocation, target: AttemptTarget, system: string) {
  const attributes = callAttributes(call.service, call.method, system);
  attributes[ATTR_SWITCHYARD_PROTOCOL] = target.protocol;
  const endpoint = endpointOf(target.address);
  attributes[ATTR_SERVER_ADDRESS] = endpoint.host;
  if (endpoint.port !== undefined) attributes[ATTR_SERVER_PORT] = endpoint.port;
  const transport = networkTransportOf(target.protocol);
  if (transport !== undefined) attributes[ATTR_NETWORK_TRANSPORT] = transport;
  return attributes;
}
