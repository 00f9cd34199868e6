// Tracing with OpenTelemetry: a consumer calls Orders on provider A, whose handler calls Inventory
// and Pricing on provider B at once. Every span lands in one trace, printed below as a tree.
// Run: `npx tsx examples/trace-tree.ts`. docs/observability.md (Tracing) explains the spans.
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Code, RpcError, codeName, createClient, createServer, defineService } from '../src/index.js';

// 1. An OpenTelemetry SDK, set up as an application would (an OTLP exporter in production).
//    Switchyard traces as soon as a tracer provider is registered; nothing else to configure.
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
trace.setGlobalTracerProvider(provider);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

// 2. Three services.
interface Inventory { reserve(sku: string, count: number): Promise<void> }
interface Pricing { quote(sku: string, count: number): Promise<number> }
interface Orders { place(sku: string, count: number): Promise<{ sku: string; total: number }> }
const InventoryService = defineService<Inventory>('shop.Inventory', { methods: { reserve: {} } });
const PricingService = defineService<Pricing>('shop.Pricing', { methods: { quote: {} } });
const OrdersService = defineService<Orders>('shop.Orders', { version: '1.0.0', methods: { place: {} } });

// 3. Provider B serves Inventory and Pricing over gRPC.
const b = createServer({ registry: false, listen: ['grpc://127.0.0.1:0'] });
b.provide(InventoryService, {
  async reserve(sku: string) {
    if (sku !== 'apple') throw new RpcError(Code.NOT_FOUND, `no ${sku} in stock`);
  },
});
b.provide(PricingService, { quote: async (_sku: string, count: number) => count * 0.5 });
const [bAddress] = await b.listen();

// 4. Provider A serves Orders over TCP; its handler calls B through a client of its own.
const toB = createClient({ url: bAddress! });
const inventory = toB.proxy(InventoryService);
const pricing = toB.proxy(PricingService);
const a = createServer({ registry: false, listen: ['tcp://127.0.0.1:0'] });
a.provide(OrdersService, {
  async place(sku: string, count: number) {
    const [, total] = await Promise.all([inventory.reserve(sku, count), pricing.quote(sku, count)]);
    return { sku, total };
  },
});
const [aAddress] = await a.listen();

// 5. The consumer: one order that succeeds, one that fails, each inside a span of the application.
const consumer = createClient({ url: aAddress! });
const orders = consumer.proxy(OrdersService);
const tracer = trace.getTracer('example');
for (const sku of ['apple', 'durian']) {
  await tracer.startActiveSpan(`checkout ${sku}`, async (span) => {
    try {
      console.log(`order ${sku}:`, await orders.place(sku, 3));
    } catch (error) {
      console.log(`order ${sku} failed:`, String(error));
    } finally {
      span.end();
    }
  });
}

// Closing lets every call finish, so every span has ended before printing.
await consumer.close();
await a.close();
await toB.close();
await b.close();
printTrees(exporter.getFinishedSpans());
await provider.shutdown();

/** Each trace as an indented tree: name, kind, duration, where an attempt went, the code of a failure. */
function printTrees(spans: readonly ReadableSpan[]): void {
  const children = new Map<string | undefined, ReadableSpan[]>();
  const ids = new Set(spans.map((span) => span.spanContext().spanId));
  for (const span of spans) {
    const parent = span.parentSpanContext?.spanId;
    const key = parent !== undefined && ids.has(parent) ? parent : undefined;
    children.set(key, [...(children.get(key) ?? []), span]);
  }
  const print = (span: ReadableSpan, depth: number): void => {
    const ms = (span.duration[0] * 1e3 + span.duration[1] / 1e6).toFixed(1);
    const where = span.attributes['server.address'] === undefined ? '' : ` → ${String(span.attributes['server.address'])}:${String(span.attributes['server.port'])} (${String(span.attributes['rpc.system'])})`;
    console.log(`${'  '.repeat(depth)}${span.name}  ${SpanKind[span.kind]}  ${ms} ms${where}${outcome(span)}`);
    for (const child of byStart(children.get(span.spanContext().spanId) ?? [])) print(child, depth + 1);
  };
  for (const root of byStart(children.get(undefined) ?? [])) {
    console.log(`\ntrace ${root.spanContext().traceId}`);
    print(root, 1);
  }
}

/**
 * A failure's code, and ERROR where the span counts it as one: a server span does not for codes
 * that are the caller's doing (NOT_FOUND here), as the gRPC conventions say.
 */
function outcome(span: ReadableSpan): string {
  const grpc = span.attributes['rpc.grpc.status_code'];
  const code = typeof grpc === 'number' ? codeName(grpc) : span.attributes['rpc.switchyard.code'];
  if (code === undefined || code === 'OK') return '';
  return span.status.code === SpanStatusCode.ERROR ? `  ERROR ${span.status.message ?? ''}` : `  ${String(code)}`;
}

function byStart(spans: ReadableSpan[]): ReadableSpan[] {
  return [...spans].sort((x, y) => x.startTime[0] - y.startTime[0] || x.startTime[1] - y.startTime[1]);
}
