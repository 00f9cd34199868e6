/**
 * Switchyard over `tcp://` with an OpenTelemetry tracer provider registered in both processes
 * (the SDK's BasicTracerProvider, spans sampled and ended but exported nowhere), so that beside
 * `switchyard` in one run it gives what tracing every call costs once a user turns it on.
 */
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { createServer } from '../../src/index.js';
import type { System } from './index.js';
import { connectBench, provideBench } from './switchyard.js';

function registerTracing(): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider());
}

export const switchyardTraced: System = {
  async serve(handlers) {
    registerTracing();
    const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false });
    provideBench(server, handlers);
    const [address] = await server.listen();
    return { address: address!, close: () => server.close({ timeoutMs: 1000 }) };
  },
  connect(address) {
    registerTracing();
    return connectBench(address);
  },
};
