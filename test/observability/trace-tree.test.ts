import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createClient, createServer, defineService, type Client, type LoadBalancer, type Server, type ServiceProxy } from '../../src/index.js';
import { deadAddress } from '../support/cluster.js';
import { waitUntil } from '../support/calculator.js';
import { BrokerScope, ensureRabbitMQ } from '../support/rabbitmq.js';
import { installSdk, isChildOf, onlySpan, type TestSdk } from './otel-sdk.js';

/*
 * One trace across three processes' worth of peers, on every transport: a consumer calls provider
 * A, whose handler calls provider B through a client of its own. Servers and clients are made
 * with their defaults: tracing is on, and records as soon as an SDK is registered.
 */

interface Back {
  double(x: number): Promise<number>;
}
interface Front {
  /** Calls Back.double twice, at once. */
  fanout(x: number): Promise<number[]>;
  ping(): Promise<string>;
  fail(): Promise<never>;
}

const BackService = defineService<Back>('demo.Back', { methods: { double: {} } });
const FrontService = defineService<Front>('demo.Front', { methods: { fanout: {}, ping: {}, fail: {} } });

interface Line {
  readonly name: string;
  /** The address a server named `server` listens on. */
  listen(server: string): string;
  /** What clients dial, from what a server bound and what it was asked. */
  dial(bound: string, requested: string): string;
  /** An address of this protocol where nothing answers. */
  dead(): Promise<string>;
  readonly system: string;
  before?(): Promise<void>;
  after?(): Promise<void>;
}

const loopback = (scheme: string): Omit<Line, 'name' | 'system'> => ({
  listen: () => `${scheme}://127.0.0.1:0`,
  dial: (bound) => bound,
  dead: async () => (await deadAddress()).replace(/^tcp:/, `${scheme}:`),
});

function amqp(): Line {
  const scope = new BrokerScope().uses(FrontService.id, BackService.id);
  return {
    name: 'amqp',
    listen: (server) => scope.url({ server }),
    dial: (_bound, requested) => requested,
    dead: async () => scope.url().replace(':5672', `:${new URL(await deadAddress()).port}`),
    system: 'switchyard',
    before: ensureRabbitMQ,
    after: () => scope.cleanup(),
  };
}

const lines: Line[] = [
  { name: 'tcp', system: 'switchyard', ...loopback('tcp') },
  { name: 'http', system: 'switchyard', ...loopback('http') },
  { name: 'grpc', system: 'grpc', ...loopback('grpc') },
  amqp(),
];

let sdk: TestSdk;
before(() => {
  sdk = installSdk();
});
after(() => sdk.uninstall());

/** The spans Switchyard made for the test's services, once `count` of them have ended. */
async function switchyardSpans(count: number): Promise<ReadableSpan[]> {
  const ours = () => sdk.spans().filter((span) => span.instrumentationScope.name === 'switchyard' && span.name.startsWith('demo.'));
  await waitUntil(() => ours().length >= count, 10_000);
  return ours();
}

/** Runs `fn` inside a span of the test's own, as an application's code would call. */
async function inRootSpan<T>(fn: () => Promise<T>): Promise<{ root: ReadableSpan; result: PromiseSettledResult<T> }> {
  const tracer = trace.getTracer('test');
  const result = await tracer.startActiveSpan('test', async (span) => {
    try {
      return { status: 'fulfilled', value: await fn() } as const;
    } catch (reason) {
      return { status: 'rejected', reason } as const;
    } finally {
      span.end();
    }
  });
  return { root: onlySpan(sdk.spans(), 'test', SpanKind.INTERNAL), result };
}

for (const line of lines) {
  describe(`trace tree over ${line.name}`, () => {
    const servers: Server[] = [];
    const clients: Client[] = [];
    let frontAddress = '';
    let front: ServiceProxy<Front>;

    before(async () => {
      await line.before?.();
      const backServer = createServer({ registry: false, listen: [line.listen('back')] });
      servers.push(backServer);
      backServer.provide(BackService, { double: async (x: number) => x * 2 });
      const [backBound] = await backServer.listen();
      const toBack = createClient({ url: line.dial(backBound!, line.listen('back')), timeoutMs: 10_000 });
      clients.push(toBack);
      const back = toBack.proxy(BackService);

      const frontServer = createServer({ registry: false, listen: [line.listen('front')] });
      servers.push(frontServer);
      frontServer.provide(FrontService, {
        fanout: (x: number) => Promise.all([back.double(x), back.double(x + 1)]),
        ping: async () => 'pong',
        fail: async () => {
          throw new Error('no luck');
        },
      });
      const [frontBound] = await frontServer.listen();
      frontAddress = line.dial(frontBound!, line.listen('front'));
      const consumer = createClient({ url: frontAddress, timeoutMs: 10_000 });
      clients.push(consumer);
      front = consumer.proxy(FrontService);
    });

    after(async () => {
      for (const client of clients) await client.close({ timeoutMs: 2000 });
      for (const server of servers) await server.close({ timeoutMs: 2000 });
      await line.after?.();
    });

    beforeEach(() => sdk.exporter.reset());

    test('consumer → A → B is one trace, each span under the one that caused it', async () => {
      const { root, result } = await inRootSpan(() => front.fanout(1));
      assert.deepEqual(result, { status: 'fulfilled', value: [2, 4] });
      const spans = await switchyardSpans(9);
      assert.equal(spans.length, 9);
      assert.deepEqual(new Set(spans.map((span) => span.spanContext().traceId)), new Set([root.spanContext().traceId]));

      const call = onlySpan(spans, 'demo.Front/fanout', SpanKind.INTERNAL);
      const attempt = onlySpan(spans, 'demo.Front/fanout', SpanKind.CLIENT);
      const served = onlySpan(spans, 'demo.Front/fanout', SpanKind.SERVER);
      assert.ok(isChildOf(call, root), "the consumer's call is a child of the application's span");
      assert.ok(isChildOf(attempt, call), 'the attempt is a child of its call');
      assert.ok(isChildOf(served, attempt), "A's server span is a child of the consumer's attempt");

      const backCalls = spans.filter((span) => span.name === 'demo.Back/double' && span.kind === SpanKind.INTERNAL);
      assert.equal(backCalls.length, 2);
      for (const backCall of backCalls) {
        assert.ok(isChildOf(backCall, served), "A's calls are children of A's server span");
        const backAttempt = spans.filter((span) => span.kind === SpanKind.CLIENT && isChildOf(span, backCall));
        assert.equal(backAttempt.length, 1, 'one attempt under each of A\'s calls');
        const backServed = spans.filter((span) => span.kind === SpanKind.SERVER && isChildOf(span, backAttempt[0]!));
        assert.equal(backServed.length, 1, "B's server span is a child of A's attempt");
        assert.equal(backServed[0]!.attributes['rpc.service'], 'demo.Back');
        assert.equal(backServed[0]!.attributes['rpc.method'], 'double');
      }

      assert.equal(attempt.attributes['rpc.system'], line.system);
      assert.equal(attempt.attributes['rpc.service'], 'demo.Front');
      assert.equal(attempt.attributes['rpc.method'], 'fanout');
      assert.equal(attempt.attributes['rpc.switchyard.protocol'], line.name);
      assert.equal(attempt.attributes['server.address'], '127.0.0.1');
      assert.equal(attempt.attributes['server.port'], Number(new URL(frontAddress).port || 5672));
      assert.equal(attempt.attributes['network.transport'], 'tcp');
      assert.equal(served.attributes['rpc.service'], 'demo.Front');
      assert.equal(served.attributes['rpc.method'], 'fanout');
      for (const span of spans) assert.equal(span.status.code, SpanStatusCode.UNSET, `${span.name} ${span.kind} succeeded`);
    });

    test('a failed call is ERROR on the server, the attempt and the call', async () => {
      const { result } = await inRootSpan(() => front.fail());
      assert.equal(result.status, 'rejected');
      const spans = await switchyardSpans(3);
      for (const kind of [SpanKind.INTERNAL, SpanKind.CLIENT, SpanKind.SERVER]) {
        const span = onlySpan(spans, 'demo.Front/fail', kind);
        assert.equal(span.status.code, SpanStatusCode.ERROR, `span of kind ${kind}`);
        assert.match(span.status.message ?? '', /^UNKNOWN: no luck/);
        assert.equal(span.attributes['error.type'], 'UNKNOWN');
      }
    });

    test('failover shows two attempts under one call', async (t) => {
      const dead = await line.dead();
      const deadPort = Number(new URL(dead).port);
      const deadFirst: LoadBalancer = { select: (candidates) => candidates.find((c) => c.provider.port === deadPort) ?? candidates[0]! };
      const consumer = createClient({ url: [dead, frontAddress], cluster: 'failover', loadBalance: deadFirst, timeoutMs: 10_000 });
      t.after(() => consumer.close({ timeoutMs: 2000 }));
      assert.equal(await consumer.proxy(FrontService).ping(), 'pong');

      const spans = await switchyardSpans(4);
      const call = onlySpan(spans, 'demo.Front/ping', SpanKind.INTERNAL);
      const attempts = spans.filter((span) => span.kind === SpanKind.CLIENT).sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
      assert.equal(attempts.length, 2);
      for (const attempt of attempts) assert.ok(isChildOf(attempt, call));
      const [failed, succeeded] = attempts as [ReadableSpan, ReadableSpan];
      assert.equal(failed.status.code, SpanStatusCode.ERROR);
      assert.equal(failed.attributes['error.type'], 'UNAVAILABLE');
      assert.equal(failed.attributes['server.port'], deadPort);
      assert.equal(succeeded.status.code, SpanStatusCode.UNSET);
      assert.ok(isChildOf(onlySpan(spans, 'demo.Front/ping', SpanKind.SERVER), succeeded), 'the server span is under the attempt that reached it');
      assert.equal(call.attributes['rpc.switchyard.attempts'], 2);
      assert.equal(call.status.code, SpanStatusCode.UNSET);
    });
  });
}
