import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ClientCall } from '../../src/core/client-call.js';
import type { MethodEntry } from '../../src/core/call-table.js';
import { Code } from '../../src/core/code.js';
import type { Invocation } from '../../src/core/invocation.js';
import { Metadata } from '../../src/core/metadata.js';
import type { AttemptProbe, CallProbe } from '../../src/core/observer.js';
import { RpcError } from '../../src/core/rpc-error.js';
import { runAsCurrent, ServerCall } from '../../src/core/server-call.js';
import { clientTracing, serverTracing, tracingOptionsOf } from '../../src/observability/tracing/index.js';
import { CalculatorService } from '../support/calculator.js';
import { installSdk, isChildOf, onlySpan, type TestSdk } from './otel-sdk.js';

/*
 * The tracing observers on their own, fed calls made by hand as the dispatcher and the client path
 * would: which spans they make, under which parents, and what they send on.
 */

const NAME = 'demo.Calculator/add';
const entry: MethodEntry = { service: CalculatorService, method: 'add', options: {}, handler: async () => 3 };

function serverCallWith(metadata?: Metadata): ServerCall {
  return new ServerCall(CalculatorService, 'add', [1, 2], metadata, undefined, false);
}

function clientCall(): ClientCall {
  return new ClientCall(CalculatorService, 'add', [1, 2], undefined, undefined, undefined, false, undefined);
}

function defined<T>(value: T | undefined, what: string): T {
  assert.ok(value !== undefined, `${what} is undefined`);
  return value;
}

let sdk: TestSdk | undefined;
afterEach(async () => {
  await sdk?.uninstall();
  sdk = undefined;
});

describe('when tracing is off', () => {
  test('with no tracer provider registered, no probe is made', () => {
    assert.equal(serverTracing().serverCall(entry, serverCallWith()), undefined);
    const client = clientTracing();
    assert.equal(client.clientCall(clientCall()), undefined);
    assert.equal(client.attempt(clientCall(), { address: 'tcp://127.0.0.1:1', protocol: 'tcp' }), undefined);
  });

  test('after the provider is unregistered, probes stop again', async () => {
    const server = serverTracing();
    sdk = installSdk();
    assert.ok(server.serverCall(entry, serverCallWith()) !== undefined);
    await sdk.uninstall();
    sdk = undefined;
    assert.equal(server.serverCall(entry, serverCallWith()), undefined);
  });

  test('enabled: false makes none even with a provider registered', () => {
    sdk = installSdk();
    assert.equal(serverTracing({ enabled: false }).serverCall(entry, serverCallWith()), undefined);
    assert.equal(clientTracing({ enabled: false }).clientCall(clientCall()), undefined);
    assert.equal(tracingOptionsOf(false), undefined);
    assert.equal(tracingOptionsOf({ enabled: false }), undefined);
    assert.deepEqual(tracingOptionsOf(undefined), {});
    assert.deepEqual(tracingOptionsOf(true), {});
  });

  test('a given tracerProvider is used whether or not a global one is registered', () => {
    const own = installSdk({ global: false, contextManager: false });
    try {
      const probe = defined(serverTracing({ tracerProvider: own.provider }).serverCall(entry, serverCallWith()), 'probe');
      probe.end(undefined);
      assert.equal(own.spans().length, 1);
    } finally {
      void own.provider.shutdown();
    }
  });
});

describe('server spans', () => {
  test('a SERVER span continues the caller trace, is current in the handler, and names the call', async () => {
    sdk = installSdk();
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const call = serverCallWith(new Metadata({ traceparent }));
    const probe = defined(serverTracing().serverCall(entry, call), 'probe');
    const inHandler = await probe.run!(async () => {
      await sleep(1);
      return trace.getActiveSpan()?.spanContext().spanId;
    });
    call.requestBytes = 12;
    call.responseBytes = 5;
    probe.end(undefined);

    const span = onlySpan(sdk.spans(), NAME, SpanKind.SERVER);
    assert.equal(inHandler, span.spanContext().spanId);
    assert.equal(span.spanContext().traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(span.parentSpanContext?.spanId, 'b7ad6b7169203331');
    assert.deepEqual(span.attributes, {
      'rpc.system': 'switchyard',
      'rpc.service': 'demo.Calculator',
      'rpc.method': 'add',
      'rpc.switchyard.version': '1.0.0',
      'rpc.switchyard.request_bytes': 12,
      'rpc.switchyard.response_bytes': 5,
      'rpc.switchyard.code': 'OK',
    });
    assert.equal(span.status.code, SpanStatusCode.UNSET);
  });

  test('without a traceparent the server span starts a trace of its own', () => {
    sdk = installSdk();
    defined(serverTracing().serverCall(entry, serverCallWith()), 'probe').end(undefined);
    assert.equal(onlySpan(sdk.spans(), NAME, SpanKind.SERVER).parentSpanContext, undefined);
  });

  test('a server fault is an ERROR with its code, message and the thrown exception', () => {
    sdk = installSdk();
    const thrown = new TypeError('x is undefined');
    defined(serverTracing().serverCall(entry, serverCallWith()), 'probe').end(RpcError.from(thrown));
    const span = onlySpan(sdk.spans(), NAME, SpanKind.SERVER);
    assert.deepEqual(span.status, { code: SpanStatusCode.ERROR, message: 'UNKNOWN: x is undefined' });
    assert.equal(span.attributes['rpc.switchyard.code'], 'UNKNOWN');
    assert.equal(span.attributes['error.type'], 'UNKNOWN');
    const exception = defined(span.events.find((event) => event.name === 'exception'), 'exception event');
    assert.equal(exception.attributes?.['exception.type'], 'TypeError');
  });

  test("the caller's mistake is recorded but is not the server's error", () => {
    sdk = installSdk();
    defined(serverTracing().serverCall(entry, serverCallWith()), 'probe').end(new RpcError(Code.INVALID_ARGUMENT, 'b must not be 0'));
    const span = onlySpan(sdk.spans(), NAME, SpanKind.SERVER);
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    assert.equal(span.attributes['rpc.switchyard.code'], 'INVALID_ARGUMENT');
    assert.equal(span.attributes['error.type'], undefined);
  });
});

describe('client spans', () => {
  test('a logical INTERNAL span holds one CLIENT span per attempt, each sent with its own traceparent', async () => {
    sdk = installSdk();
    const observer = clientTracing();
    const call = clientCall();
    const logical = defined(observer.clientCall(call), 'logical probe');
    const sent: Invocation[] = [];
    await logical.run!(async () => {
      const first = defined(observer.attempt(call, { address: 'tcp://127.0.0.1:20880', protocol: 'tcp' }), 'first attempt');
      await first.run!(async () => sent.push(first.call!));
      first.end(new RpcError(Code.UNAVAILABLE, 'connection refused', { unprocessed: true }));
      await sleep(1);
      const second = defined(observer.attempt(call, { address: 'grpc://10.0.0.8:50051', protocol: 'grpc' }), 'second attempt');
      sent.push(second.call!);
      second.end(undefined);
    });
    logical.end(undefined);

    const spans = sdk.spans();
    const parent = onlySpan(spans, NAME, SpanKind.INTERNAL);
    const attempts = spans.filter((span) => span.kind === SpanKind.CLIENT);
    assert.equal(attempts.length, 2);
    for (const attempt of attempts) assert.ok(isChildOf(attempt, parent), 'each attempt is a child of the logical span');
    assert.equal(parent.attributes['rpc.switchyard.attempts'], 2);
    assert.equal(parent.attributes['rpc.switchyard.code'], 'OK');
    assert.equal(parent.status.code, SpanStatusCode.UNSET);

    const [failed, succeeded] = attempts as [typeof parent, typeof parent];
    assert.deepEqual(failed.status, { code: SpanStatusCode.ERROR, message: 'UNAVAILABLE: connection refused' });
    assert.deepEqual({ ...failed.attributes }, {
      'rpc.system': 'switchyard', 'rpc.service': 'demo.Calculator', 'rpc.method': 'add', 'rpc.switchyard.version': '1.0.0',
      'rpc.switchyard.protocol': 'tcp', 'server.address': '127.0.0.1', 'server.port': 20880, 'network.transport': 'tcp',
      'rpc.switchyard.code': 'UNAVAILABLE', 'error.type': 'UNAVAILABLE',
    });
    assert.equal(succeeded.attributes['rpc.system'], 'grpc');
    assert.equal(succeeded.attributes['rpc.grpc.status_code'], 0);
    assert.equal(succeeded.attributes['server.address'], '10.0.0.8');
    assert.equal(succeeded.attributes['server.port'], 50051);

    // Each attempt leaves with a copy of the metadata naming its own span; the caller's is untouched.
    assert.equal(call.hasRequestMetadata, false);
    assert.equal(sent[0]!.metadata.get('traceparent'), `00-${failed.spanContext().traceId}-${failed.spanContext().spanId}-01`);
    assert.equal(sent[1]!.metadata.get('traceparent'), `00-${succeeded.spanContext().traceId}-${succeeded.spanContext().spanId}-01`);
  });

  test("the caller's own metadata travels on in each attempt's copy", () => {
    sdk = installSdk();
    const observer = clientTracing();
    const call = new ClientCall(CalculatorService, 'add', [1, 2], new Metadata({ 'x-tenant': 'acme' }), undefined, undefined, false, undefined);
    const logical = defined(observer.clientCall(call), 'logical probe');
    const attempt = logical.run!(() => observer.attempt(call, { address: 'http://127.0.0.1:8080', protocol: 'http' }));
    assert.equal(attempt?.call?.metadata.get('x-tenant'), 'acme');
    assert.equal(call.metadata.has('traceparent'), false);
    attempt?.end(undefined);
    logical.end(undefined);
  });

  test('a failed call makes its logical span an ERROR', () => {
    sdk = installSdk();
    const observer = clientTracing();
    const call = clientCall();
    const logical = defined(observer.clientCall(call), 'logical probe');
    logical.end(new RpcError(Code.NOT_FOUND, 'no provider'));
    assert.deepEqual(onlySpan(sdk.spans(), NAME, SpanKind.INTERNAL).status, { code: SpanStatusCode.ERROR, message: 'NOT_FOUND: no provider' });
  });

  test('an AMQP address gives the broker host and port, never its credentials', () => {
    sdk = installSdk();
    const observer = clientTracing();
    const call = clientCall();
    const attempt = defined(observer.attempt(call, { address: 'amqp://guest:secret@127.0.0.1:5672/?exchange=x', protocol: 'amqp' }), 'attempt');
    attempt.end(undefined);
    const span = onlySpan(sdk.spans(), NAME, SpanKind.CLIENT);
    assert.equal(span.attributes['server.address'], '127.0.0.1');
    assert.equal(span.attributes['server.port'], 5672);
    assert.ok(!JSON.stringify(span.attributes).includes('secret'));
  });
});

describe('one trace across both sides', () => {
  test("a handler's calls are children of its server span, and the next server's span a child of the attempt", async () => {
    sdk = installSdk();
    const server = serverTracing();
    const client = clientTracing();
    const incoming = serverCallWith();
    const serverProbe = defined(server.serverCall(entry, incoming), 'server probe');
    let attempt: AttemptProbe | undefined;
    let logical: CallProbe | undefined;
    await serverProbe.run!(async () => {
      await sleep(1); // after an await, as a handler's later calls are
      const outgoing = clientCall();
      logical = defined(client.clientCall(outgoing), 'logical probe');
      attempt = logical.run!(() => client.attempt(outgoing, { address: 'tcp://127.0.0.1:20881', protocol: 'tcp' }));
    });
    // The next server receives what the attempt sent.
    const next = defined(server.serverCall(entry, serverCallWith(attempt!.call!.metadata)), 'next server probe');
    next.end(undefined);
    attempt!.end(undefined);
    logical!.end(undefined);
    serverProbe.end(undefined);

    const spans = sdk.spans();
    const [first, second] = spans.filter((span) => span.kind === SpanKind.SERVER && span.name === NAME).reverse();
    assert.ok(first !== undefined && second !== undefined);
    const logicalSpan = onlySpan(spans, NAME, SpanKind.INTERNAL);
    const attemptSpan = onlySpan(spans, NAME, SpanKind.CLIENT);
    assert.ok(isChildOf(logicalSpan, first), 'the logical call is a child of the serving span');
    assert.ok(isChildOf(attemptSpan, logicalSpan), 'the attempt is a child of the logical call');
    assert.ok(isChildOf(second, attemptSpan), 'the next server span is a child of the attempt');
    assert.equal(new Set(spans.map((span) => span.spanContext().traceId)).size, 1);
  });

  test('without a context manager the tree still holds: attempts find their call, handlers their server span', () => {
    sdk = installSdk({ contextManager: false });
    const server = serverTracing();
    const client = clientTracing();
    const incoming = serverCallWith();
    const serverProbe = defined(server.serverCall(entry, incoming), 'server probe');
    const outgoing = clientCall();
    // The dispatcher makes the call current while the handler's synchronous part runs.
    const logical = runAsCurrent(incoming, () => client.clientCall(outgoing), undefined, []) as CallProbe;
    const attempt = defined(client.attempt(outgoing, { address: 'tcp://127.0.0.1:20881', protocol: 'tcp' }), 'attempt');
    attempt.end(undefined);
    logical.end(undefined);
    serverProbe.end(undefined);

    const spans = sdk.spans();
    const serverSpan = onlySpan(spans, NAME, SpanKind.SERVER);
    const logicalSpan = onlySpan(spans, NAME, SpanKind.INTERNAL);
    assert.ok(isChildOf(logicalSpan, serverSpan));
    assert.ok(isChildOf(onlySpan(spans, NAME, SpanKind.CLIENT), logicalSpan));
  });
});
