import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import { createNoopMeter, metrics, type Attributes, type Histogram, type Meter, type MeterProvider } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider as SdkMeterProvider, PeriodicExportingMetricReader, type HistogramMetricData } from '@opentelemetry/sdk-metrics';
import type { MethodEntry } from '../../src/core/call-table.js';
import { ClientCall } from '../../src/core/client-call.js';
import { Code } from '../../src/core/code.js';
import { RpcError } from '../../src/core/rpc-error.js';
import { ServerCall } from '../../src/core/server-call.js';
import { defineService } from '../../src/core/service.js';
import { METER_NAME, otelMetrics } from '../../src/observability/metrics/index.js';

interface Calculator {
  add(a: number, b: number): Promise<number>;
}
const CalculatorService = defineService<Calculator>('demo.Calculator', { version: '1.0.0', methods: { add: {} } });
const entry: MethodEntry = { service: CalculatorService, method: 'add', options: {}, handler: async () => 3 };
const serverCall = () => new ServerCall(CalculatorService, 'add', [1, 2], undefined, undefined, false);
const clientCall = () => new ClientCall(CalculatorService, 'add', [1, 2], undefined, undefined, undefined, false, undefined);

/** An SDK MeterProvider registered globally for one test, with an in-memory exporter; gone when the test ends. */
function registerSdk(t: TestContext): { histogram(name: string): Promise<HistogramMetricData | undefined> } {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new SdkMeterProvider({ readers: [reader] });
  assert.equal(metrics.setGlobalMeterProvider(provider), true);
  t.after(async () => {
    metrics.disable();
    await provider.shutdown();
  });
  return {
    async histogram(name) {
      await reader.forceFlush();
      const scopes = exporter.getMetrics().at(-1)?.scopeMetrics ?? [];
      const scope = scopes.find((each) => each.scope.name === METER_NAME);
      return scope?.metrics.find((metric) => metric.descriptor.name === name) as HistogramMetricData | undefined;
    },
  };
}

test('without a registered MeterProvider the observer records nothing and makes no probe', () => {
  const observer = otelMetrics();
  assert.equal(observer.serverCall(entry, serverCall()), undefined);
  assert.equal(observer.clientCall(clientCall()), undefined);
  assert.equal(observer.attempt(clientCall(), { address: 'tcp://127.0.0.1:20880', protocol: 'tcp' }), undefined);
});

test('server calls are recorded as rpc.server.duration in ms with the RPC attributes, and their sizes', async (t) => {
  const sdk = registerSdk(t);
  const observer = otelMetrics();
  const call = serverCall();
  const probe = observer.serverCall(entry, call)!;
  call.requestBytes = 12;
  await sleep(20);
  call.responseBytes = 9;
  probe.end(undefined);
  observer.serverCall(entry, serverCall())!.end(new RpcError(Code.NOT_FOUND, 'no such order'));

  const duration = await sdk.histogram('rpc.server.duration');
  assert.equal(duration?.descriptor.unit, 'ms');
  const common = { 'rpc.system': 'switchyard', 'rpc.service': 'demo.Calculator', 'rpc.method': 'add', 'rpc.switchyard.version': '1.0.0' };
  const ok = duration?.dataPoints.find((point) => point.attributes['rpc.switchyard.code'] === 'OK');
  assert.deepEqual(ok?.attributes, { ...common, 'rpc.switchyard.code': 'OK' });
  assert.equal(ok?.value.count, 1);
  assert.ok(ok!.value.sum! >= 19, `the call took ${ok!.value.sum} ms, at least the 20 ms it waited`);
  const notFound = duration?.dataPoints.find((point) => point.attributes['rpc.switchyard.code'] === 'NOT_FOUND');
  assert.equal(notFound?.value.count, 1);

  const requestSize = await sdk.histogram('rpc.server.request.size');
  assert.equal(requestSize?.descriptor.unit, 'By');
  assert.deepEqual(requestSize?.dataPoints.map((point) => [point.attributes['rpc.switchyard.code'], point.value.sum]), [['OK', 12]]);
  const responseSize = await sdk.histogram('rpc.server.response.size');
  assert.deepEqual(responseSize?.dataPoints.map((point) => point.value.sum), [9], 'a size the transport did not know (0) is not recorded');
});

test('client attempts are rpc.client.duration with server.address and the transport\'s system; calls are switchyard.client.call.duration', async (t) => {
  const sdk = registerSdk(t);
  const observer = otelMetrics();
  const call = clientCall();
  const logical = observer.clientCall(call)!;
  observer.attempt(call, { address: 'grpc://127.0.0.1:50051', protocol: 'grpc' })!.end(new RpcError(Code.UNAVAILABLE, 'connection refused'));
  observer.attempt(call, { address: 'tcp://10.0.0.7:20880', protocol: 'tcp' })!.end(undefined);
  logical.end(undefined);

  const attempts = await sdk.histogram('rpc.client.duration');
  assert.equal(attempts?.descriptor.unit, 'ms');
  const attributes = attempts?.dataPoints.map((point) => point.attributes);
  const method = { 'rpc.service': 'demo.Calculator', 'rpc.method': 'add', 'rpc.switchyard.version': '1.0.0' };
  assert.deepEqual(attributes, [
    { ...method, 'rpc.system': 'grpc', 'server.address': '127.0.0.1', 'server.port': 50051, 'rpc.grpc.status_code': Code.UNAVAILABLE },
    { ...method, 'rpc.system': 'switchyard', 'server.address': '10.0.0.7', 'server.port': 20880, 'rpc.switchyard.code': 'OK' },
  ]);
  const calls = await sdk.histogram('switchyard.client.call.duration');
  assert.deepEqual(calls?.dataPoints.map((point) => [point.attributes, point.value.count]), [[{ ...method, 'rpc.system': 'switchyard', 'rpc.switchyard.code': 'OK' }, 1]]);
});

test('the observer follows the global provider: it stops recording when the provider is removed', async (t) => {
  const observer = otelMetrics();
  const sdk = registerSdk(t);
  observer.serverCall(entry, serverCall())!.end(undefined);
  assert.equal((await sdk.histogram('rpc.server.duration'))?.dataPoints[0]?.value.count, 1);
  metrics.disable();
  assert.equal(observer.serverCall(entry, serverCall()), undefined);
});

test('attribute objects are made once per method and code, not per call', () => {
  const recorded: Attributes[] = [];
  const histogram = { record: (_value: number, attributes?: Attributes) => void recorded.push(attributes!) } as Histogram;
  const meter: Meter = Object.assign(Object.create(createNoopMeter()) as Meter, { createHistogram: () => histogram });
  const provider: MeterProvider = { getMeter: () => meter };
  const observer = otelMetrics({ meterProvider: provider });
  for (let i = 0; i < 3; i++) observer.serverCall(entry, serverCall())!.end(undefined);
  observer.serverCall(entry, serverCall())!.end(new RpcError(Code.INTERNAL, 'broken'));

  assert.equal(recorded.length, 4, 'durations only: the sizes were not known');
  assert.equal(recorded[0], recorded[1]);
  assert.equal(recorded[1], recorded[2]);
  assert.notEqual(recorded[2], recorded[3]);
  assert.equal(recorded[3]?.['rpc.switchyard.code'], 'INTERNAL');
});
