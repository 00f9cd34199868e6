import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { createTraceState, propagation, ROOT_CONTEXT, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { Metadata } from '../../src/core/metadata.js';
import { extractContext, formatTraceparent, injectContext, parseTraceparent } from '../../src/observability/tracing/index.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';
const VALID = `00-${TRACE_ID}-${SPAN_ID}-01`;

function remoteParent(flags: number = TraceFlags.SAMPLED, state?: string): SpanContext {
  return { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: flags, isRemote: false, traceState: state === undefined ? undefined : createTraceState(state) };
}

describe('traceparent', () => {
  test('a valid value names its trace, parent span and sampled flag', () => {
    assert.deepEqual(parseTraceparent(VALID), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED, isRemote: true });
    assert.equal(parseTraceparent(`00-${TRACE_ID}-${SPAN_ID}-00`)?.traceFlags, TraceFlags.NONE);
  });

  test('malformed values name no parent', () => {
    const malformed = [
      '',
      'garbage',
      `00-${TRACE_ID}-${SPAN_ID}`,
      `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`, // upper-case hex is not allowed
      `00-${'0'.repeat(32)}-${SPAN_ID}-01`, // all-zero trace id
      `00-${TRACE_ID}-${'0'.repeat(16)}-01`, // all-zero parent id
      `ff-${TRACE_ID}-${SPAN_ID}-01`, // forbidden version
      `00-${TRACE_ID}-${SPAN_ID}-01-extra`, // version 00 has four fields exactly
      `00-${TRACE_ID}a-${SPAN_ID}-01`,
      `0-${TRACE_ID}-${SPAN_ID}-01`,
      `00-${TRACE_ID}-${SPAN_ID}-1`,
    ];
    for (const value of malformed) assert.equal(parseTraceparent(value), undefined, value);
  });

  test('a later version is read for its first four fields', () => {
    assert.equal(parseTraceparent(`01-${TRACE_ID}-${SPAN_ID}-01-what-comes-next`)?.spanId, SPAN_ID);
  });

  test('only the sampled flag is kept and written', () => {
    assert.equal(parseTraceparent(`00-${TRACE_ID}-${SPAN_ID}-03`)?.traceFlags, TraceFlags.SAMPLED);
    assert.equal(formatTraceparent(remoteParent(0x03)), VALID);
    assert.equal(formatTraceparent(remoteParent(TraceFlags.NONE)), `00-${TRACE_ID}-${SPAN_ID}-00`);
  });
});

describe('propagation through metadata, with no global propagator', () => {
  test('inject then extract gives back the span context and its tracestate', () => {
    const metadata = new Metadata();
    injectContext(trace.setSpanContext(ROOT_CONTEXT, remoteParent(TraceFlags.SAMPLED, 'vendor=a,other=b')), metadata);
    assert.equal(metadata.get('traceparent'), VALID);
    assert.equal(metadata.get('tracestate'), 'vendor=a,other=b');

    const extracted = trace.getSpanContext(extractContext(metadata));
    assert.ok(extracted !== undefined);
    assert.equal(extracted.traceId, TRACE_ID);
    assert.equal(extracted.spanId, SPAN_ID);
    assert.equal(extracted.traceFlags, TraceFlags.SAMPLED);
    assert.equal(extracted.isRemote, true);
    assert.equal(extracted.traceState?.serialize(), 'vendor=a,other=b');
  });

  test('a context without a valid span writes nothing', () => {
    const metadata = new Metadata();
    injectContext(ROOT_CONTEXT, metadata);
    injectContext(trace.setSpanContext(ROOT_CONTEXT, { traceId: '0'.repeat(32), spanId: SPAN_ID, traceFlags: 1 }), metadata);
    assert.equal(metadata.size, 0);
  });

  test('a malformed or binary traceparent is ignored, and with it the tracestate', () => {
    for (const traceparent of ['00-nothex-b7ad6b7169203331-01', new TextEncoder().encode(VALID)]) {
      const context = extractContext(new Metadata({ traceparent, tracestate: 'vendor=a' }));
      assert.equal(trace.getSpanContext(context), undefined);
    }
  });

  test('no traceparent: the root context, with no span', () => {
    assert.equal(trace.getSpanContext(extractContext(new Metadata({ 'x-other': '1' }))), undefined);
  });

  test('an unparsable tracestate leaves the parent without one', () => {
    const context = extractContext(new Metadata({ traceparent: VALID, tracestate: '!!!' }));
    assert.equal(trace.getSpanContext(context)?.spanId, SPAN_ID);
    assert.equal(trace.getSpanContext(context)?.traceState?.serialize() ?? '', '');
  });
});

describe('propagation through metadata, with a global propagator', () => {
  afterEach(() => propagation.disable());

  test('the global propagator is used: baggage travels beside the trace context', () => {
    propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
    const baggage = propagation.createBaggage({ tenant: { value: 'acme' } });
    const sent = new Metadata();
    injectContext(propagation.setBaggage(trace.setSpanContext(ROOT_CONTEXT, remoteParent()), baggage), sent);
    assert.equal(sent.get('traceparent'), VALID);
    assert.equal(sent.get('baggage'), 'tenant=acme');

    const received = extractContext(sent);
    assert.equal(trace.getSpanContext(received)?.spanId, SPAN_ID);
    assert.equal(propagation.getBaggage(received)?.getEntry('tenant')?.value, 'acme');
  });

  test('a global propagator without trace context is obeyed: no traceparent is added', () => {
    propagation.setGlobalPropagator(new W3CBaggagePropagator());
    const sent = new Metadata();
    injectContext(trace.setSpanContext(ROOT_CONTEXT, remoteParent()), sent);
    assert.equal(sent.has('traceparent'), false);
  });
});
