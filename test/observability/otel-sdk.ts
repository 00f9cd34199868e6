import { context, propagation, trace, type TextMapPropagator } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** An OpenTelemetry SDK as an application would set it up, recording spans in memory. */
export interface TestSdk {
  readonly exporter: InMemorySpanExporter;
  readonly provider: BasicTracerProvider;
  /** Finished spans, in the order they ended. */
  spans(): ReadableSpan[];
  /** Unregisters everything it registered and shuts the provider down. */
  uninstall(): Promise<void>;
}

export interface TestSdkOptions {
  /** Register the provider globally. Default true. */
  global?: boolean;
  /** Register an AsyncLocalStorage context manager. Default true. */
  contextManager?: boolean;
  /** A global propagator; default none, so Switchyard's own W3C codec is used. */
  propagator?: TextMapPropagator;
}

/** Sets up a provider with an in-memory exporter, and (by default) registers it and a context manager. */
export function installSdk(options: TestSdkOptions = {}): TestSdk {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  if (options.global !== false && !trace.setGlobalTracerProvider(provider)) throw new Error('a global tracer provider is already registered');
  if (options.contextManager !== false) context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  if (options.propagator !== undefined) propagation.setGlobalPropagator(options.propagator);
  return {
    exporter,
    provider,
    spans: () => exporter.getFinishedSpans(),
    async uninstall() {
      trace.disable();
      context.disable();
      propagation.disable();
      await provider.shutdown();
    },
  };
}

/** The one finished span with `name` and `kind`; fails when there is not exactly one. */
export function onlySpan(spans: readonly ReadableSpan[], name: string, kind: number): ReadableSpan {
  const found = spans.filter((span) => span.name === name && span.kind === kind);
  if (found.length !== 1) throw new Error(`expected one span ${name} of kind ${kind}, found ${found.length}: ${spans.map((span) => `${span.name}/${span.kind}`).join(', ')}`);
  return found[0]!;
}

/** Whether `child` was started with `parent` as its parent span. */
export function isChildOf(child: ReadableSpan, parent: ReadableSpan): boolean {
  return child.parentSpanContext?.spanId === parent.spanContext().spanId && child.spanContext().traceId === parent.spanContext().traceId;
}
