import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { CircuitBreaker } from '../../src/cluster/circuit-breaker.js';
import type { MethodEntry } from '../../src/core/call-table.js';
import { ClientCall } from '../../src/core/client-call.js';
import { Code } from '../../src/core/code.js';
import { silentLogger } from '../../src/core/logger.js';
import { Refusals } from '../../src/core/refusals.js';
import { RpcError } from '../../src/core/rpc-error.js';
import { ServerCall } from '../../src/core/server-call.js';
import { defineService } from '../../src/core/service.js';
import { WorkerPool } from '../../src/executor/worker-pool.js';
import { MetricsRegistry, clientMetrics, registerBreakers, registerConnections, registerRefusals, registerWorkerPool, serverMetrics } from '../../src/observability/metrics/index.js';
import { onCleanup, waitUntil } from '../support/calculator.js';
import { primeModule } from '../executor/fixtures/serve.js';
import type { Prime } from '../executor/fixtures/prime-impl.js';
import { parsePrometheusText, valueOf } from './prometheus-text.js';

interface Calculator {
  add(a: number, b: number): Promise<number>;
}
const CalculatorService = defineService<Calculator>('demo.Calculator', { version: '1.0.0', methods: { add: {} } });
const SERVICE_ID = CalculatorService.id;
const entry: MethodEntry = { service: CalculatorService, method: 'add', options: {}, handler: async (call) => (call.args as number[]).reduce((a, b) => a + b) };

function serverCall(): ServerCall {
  return new ServerCall(CalculatorService, 'add', [1, 2], undefined, undefined, false);
}

function clientCall(): ClientCall {
  return new ClientCall(CalculatorService, 'add', [1, 2], undefined, undefined, undefined, false, undefined);
}

const read = (registry: MetricsRegistry) => parsePrometheusText(registry.prometheusText());

test('serverMetrics counts a call in flight from serverCall() and by its code, duration and bytes at end()', async () => {
  const registry = new MetricsRegistry();
  const observer = serverMetrics(registry);
  const method = { service: SERVICE_ID, method: 'add' };

  const call = serverCall();
  const probe = observer.serverCall(entry, call)!;
  assert.equal(valueOf(read(registry), 'switchyard_server_calls_in_flight', method), 1);
  assert.equal(valueOf(read(registry), 'switchyard_server_calls_total', { ...method, code: 'OK' }), undefined, 'not counted before it ends');
  call.requestBytes = 11;
  await sleep(20);
  call.responseBytes = 7; // the transport sets it as it encodes the answer, before end()
  probe.end(undefined);

  const failed = serverCall();
  failed.requestBytes = 4;
  observer.serverCall(entry, failed)!.end(new RpcError(Code.NOT_FOUND, 'no such order'));

  const metrics = read(registry);
  assert.equal(valueOf(metrics, 'switchyard_server_calls_in_flight', method), 0);
  assert.equal(valueOf(metrics, 'switchyard_server_calls_total', { ...method, code: 'OK' }), 1);
  assert.equal(valueOf(metrics, 'switchyard_server_calls_total', { ...method, code: 'NOT_FOUND' }), 1);
  assert.equal(valueOf(metrics, 'switchyard_server_call_duration_seconds_count', method), 2);
  const sum = valueOf(metrics, 'switchyard_server_call_duration_seconds_sum', method)!;
  assert.ok(sum >= 0.019 && sum < 60, `the durations add up to ${sum} s, and one call lasted at least 20 ms`);
  assert.equal(valueOf(metrics, 'switchyard_server_request_bytes_total', method), 15);
  assert.equal(valueOf(metrics, 'switchyard_server_response_bytes_total', method), 7);
  assert.equal(metrics.get('switchyard_server_calls_total')?.type, 'counter');
  assert.equal(metrics.get('switchyard_server_call_duration_seconds')?.type, 'histogram');
});

test('serverMetrics counts a call once even if end() comes twice, and two servers on one registry add up', () => {
  const registry = new MetricsRegistry();
  const first = serverMetrics(registry);
  const second = serverMetrics(registry);
  const probe = first.serverCall(entry, serverCall())!;
  probe.end(undefined);
  probe.end(new RpcError(Code.INTERNAL, 'late'));
  second.serverCall(entry, serverCall())!.end(undefined);

  const metrics = read(registry);
  const method = { service: SERVICE_ID, method: 'add' };
  assert.equal(valueOf(metrics, 'switchyard_server_calls_total', { ...method, code: 'OK' }), 2);
  assert.equal(valueOf(metrics, 'switchyard_server_calls_total', { ...method, code: 'INTERNAL' }), undefined);
  assert.equal(valueOf(metrics, 'switchyard_server_calls_in_flight', method), 0);
});

test('clientMetrics counts the caller\'s calls and each attempt at a provider, with credentials kept out of the provider label', () => {
  const registry = new MetricsRegistry();
  const observer = clientMetrics(registry, { logicalCalls: true });
  const method = { service: SERVICE_ID, method: 'add' };
  const down = 'tcp://127.0.0.1:20880';
  const broker = 'amqp://switchyard:s3cret@127.0.0.1:5672/orders?heartbeat=5';

  const call = clientCall();
  const logical = observer.clientCall(call)!;
  const first = observer.attempt(call, { address: down, protocol: 'tcp' })!;
  assert.equal(first.call, undefined, 'metrics leave the call as it is');
  assert.equal(valueOf(read(registry), 'switchyard_client_calls_in_flight', { ...method, provider: down }), 1);
  first.end(new RpcError(Code.UNAVAILABLE, 'connection refused', { unprocessed: true }));
  observer.attempt(call, { address: broker, protocol: 'amqp' })!.end(undefined);
  assert.equal(valueOf(read(registry), 'switchyard_client_logical_calls_in_flight', method), 1);
  logical.end(undefined);

  const text = registry.prometheusText();
  assert.ok(!text.includes('s3cret') && !text.includes('heartbeat'), text);
  const metrics = parsePrometheusText(text);
  assert.equal(valueOf(metrics, 'switchyard_client_logical_calls_total', { ...method, code: 'OK' }), 1);
  assert.equal(valueOf(metrics, 'switchyard_client_logical_calls_total', { ...method, code: 'UNAVAILABLE' }), undefined, 'the caller saw only the success');
  assert.equal(valueOf(metrics, 'switchyard_client_logical_call_duration_seconds_count', method), 1);
  assert.equal(valueOf(metrics, 'switchyard_client_calls_total', { ...method, provider: down, code: 'UNAVAILABLE' }), 1);
  assert.equal(valueOf(metrics, 'switchyard_client_calls_total', { ...method, provider: 'amqp://127.0.0.1:5672/orders', code: 'OK' }), 1);
  assert.equal(valueOf(metrics, 'switchyard_client_call_duration_seconds_count', { ...method, provider: down }), 1);
  assert.equal(valueOf(metrics, 'switchyard_client_calls_in_flight', { ...method, provider: down }), 0);
  assert.equal(valueOf(metrics, 'switchyard_client_logical_calls_in_flight', method), 0);
});

test('registerRefusals reads a server\'s refusal counts at each scrape, with the labels given, until removed', () => {
  const registry = new MetricsRegistry();
  const refusals = new Refusals(silentLogger);
  const remove = registerRefusals(registry, refusals, { server: 'orders' });
  refusals.refuse('maxConnectionsPerAddress');
  refusals.refuse('maxConnectionsPerAddress');
  const metrics = read(registry);
  assert.equal(valueOf(metrics, 'switchyard_limit_refusals_total', { limit: 'maxConnectionsPerAddress', server: 'orders' }), 2);
  assert.equal(valueOf(metrics, 'switchyard_limit_refusals_total', { limit: 'maxMetadataBytes', server: 'orders' }), 0);
  assert.equal(metrics.get('switchyard_limit_refusals_total')?.type, 'counter');
  assert.throws(() => registerRefusals(registry, refusals, { limit: 'x' }), /label "limit"/);
  remove();
  assert.equal(read(registry).get('switchyard_limit_refusals_total'), undefined);
});

test('registerWorkerPool shows a real pool\'s queue and busy workers', async (t) => {
  const registry = new MetricsRegistry();
  const pool = new WorkerPool(primeModule, { export: 'PrimeImpl', size: 1 });
  onCleanup(t, () => pool.close());
  onCleanup(t, registerWorkerPool(registry, 'primes', pool));
  await pool.ready();
  const prime = pool.implementation<Prime>();
  const calls = [prime.sleep(300), prime.sleep(300)];
  await waitUntil(() => pool.stats.busy === 1 && pool.stats.queued === 1);

  const metrics = read(registry);
  assert.equal(valueOf(metrics, 'switchyard_worker_pool_busy', { pool: 'primes' }), 1);
  assert.equal(valueOf(metrics, 'switchyard_worker_pool_queue', { pool: 'primes' }), 1);
  assert.equal(valueOf(metrics, 'switchyard_worker_pool_restarts_total', { pool: 'primes' }), 0);
  await Promise.all(calls);
  assert.equal(valueOf(read(registry), 'switchyard_worker_pool_queue', { pool: 'primes' }), 0);
});

test('registerBreakers shows 1 for the state a real breaker is in and 0 for the others', () => {
  const registry = new MetricsRegistry();
  let now = 0;
  const breaker = new CircuitBreaker('tcp://127.0.0.1:20880', 'add', { minimumCalls: 2, openMs: 1000 }, () => {}, () => now);
  registerBreakers(registry, () => [{ provider: 'tcp://127.0.0.1:20880', method: 'add', state: breaker.state }]);
  const state = (name: string) => valueOf(read(registry), 'switchyard_circuit_breaker_state', { provider: 'tcp://127.0.0.1:20880', method: 'add', state: name });
  assert.deepEqual([state('CLOSED'), state('OPEN'), state('HALF_OPEN')], [1, 0, 0]);

  const refused = new RpcError(Code.UNAVAILABLE, 'connection refused');
  breaker.onError(refused, 1, now);
  breaker.onError(refused, 1, now);
  assert.deepEqual([state('CLOSED'), state('OPEN'), state('HALF_OPEN')], [0, 1, 0]);
  now = 1500;
  assert.deepEqual([state('CLOSED'), state('OPEN'), state('HALF_OPEN')], [0, 0, 1]);
});

test('registerConnections counts connections by protocol and state from every source', () => {
  const registry = new MetricsRegistry();
  registerConnections(registry, () => [{ protocol: 'tcp', state: 'open' }, { protocol: 'tcp', state: 'open' }, { protocol: 'tcp', state: 'draining' }]);
  registerConnections(registry, () => [{ protocol: 'http', state: 'open' }, { protocol: 'tcp', state: 'open' }]);
  const metrics = read(registry);
  assert.equal(valueOf(metrics, 'switchyard_connections', { protocol: 'tcp', state: 'open' }), 3);
  assert.equal(valueOf(metrics, 'switchyard_connections', { protocol: 'tcp', state: 'draining' }), 1);
  assert.equal(valueOf(metrics, 'switchyard_connections', { protocol: 'http', state: 'open' }), 1);
  assert.equal(metrics.get('switchyard_connections')?.type, 'gauge');
});
