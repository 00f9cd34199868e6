export { clientTracing, serverTracing, tracingOptionsOf, type TracingOptions } from './tracing.js';
export { formatTraceparent, parseTraceparent, traceContextPropagator } from './trace-context.js';
export { extractContext, injectContext } from './propagation.js';
export { TRACER_NAME } from './tracer-source.js';
