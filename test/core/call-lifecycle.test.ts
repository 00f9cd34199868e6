import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Code, currentCall, createClient, createServer, defineService } from '../../src/index.js';
import { recordEscapes, rejection } from '../support/assertions.js';
import { onCleanup } from '../support/calculator.js';
import { brokerScope } from '../support/rabbitmq.js';

/**
 * One call lifecycle on every server transport: `currentCall()` holds across the handler's async
 * flow, and a handler whose result has the wrong shape (a stream from a unary method, a plain value
 * from a streaming one) fails its call with an error that names the method, the same everywhere.
 */

interface Probe {
  /** The `x-who` metadata as currentCall() reads it at several points of the handler's flow. */
  who(): Promise<string[]>;
  /** A unary method whose implementation returns an async generator by mistake. */
  unaryStream(): Promise<number[]>;
  /** A streaming method whose implementation returns a plain value by mistake. */
  streamValue(): AsyncIterable<number>;
  /** A stream whose items read currentCall() in the generator's body. */
  whoStream(): AsyncIterable<string>;
}

const ProbeService = defineService<Probe>('test.Probe', {
  methods: { who: {}, unaryStream: {}, streamValue: { stream: 'server' }, whoStream: { stream: 'server' } },
});

const probeImpl = {
  async who(): Promise<string[]> {
    const seen = [read()];
    await sleep(1);
    seen.push(read());
    seen.push(await new Promise<string>((resolve) => setTimeout(() => resolve(read()), 1)));
    seen.push(await new Promise<string>((resolve) => setImmediate(() => resolve(read()))));
    seen.push(await Promise.resolve().then(read));
    return seen;
  },
  // The point of these two is the wrong shape of what they return.
  unaryStream: (async function* () {
    yield 1;
  }) as unknown as () => Promise<number[]>,
  streamValue: (async () => [1, 2]) as unknown as () => AsyncIterable<number>,
  async *whoStream(): AsyncIterable<string> {
    yield read();
    await sleep(1);
    yield read();
  },
};

function read(): string {
  return String(currentCall().metadata.get('x-who'));
}

test('currentCall() and result shapes behave the same on tcp, http, grpc and amqp', async (t) => {
  const escaped = recordEscapes(t);
  const scope = (await brokerScope(t)).uses(ProbeService.id);
  const server = createServer({ registry: false, listen: ['tcp://127.0.0.1:0', 'http://127.0.0.1:0', 'grpc://127.0.0.1:0', scope.url({ server: 'probe' })] });
  server.provide(ProbeService, probeImpl);
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const addresses = await server.listen();

  for (const address of addresses) {
    const transport = address.split(':')[0]!;
    const client = createClient({ url: transport === 'amqp' ? scope.url() : address, cluster: 'failfast', circuitBreaker: false, timeoutMs: 10_000 });
    onCleanup(t, () => client.close({ timeoutMs: 2000 }));
    const probe = client.proxy(ProbeService);

    // Two calls at once, so that each must see its own call, not the one that ran last.
    const [a, b] = await Promise.all([
      probe.who.with({ metadata: { 'x-who': 'a' } })(),
      probe.who.with({ metadata: { 'x-who': 'b' } })(),
    ]);
    assert.deepEqual(a, ['a', 'a', 'a', 'a', 'a'], `${transport}: currentCall() after await, in timers and callbacks`);
    assert.deepEqual(b, ['b', 'b', 'b', 'b', 'b'], transport);

    const unary = await rejection(probe.unaryStream());
    assert.equal(unary.code, Code.INTERNAL, `${transport}: ${unary.message}`);
    assert.match(unary.message, /test\.Probe\.unaryStream is unary but returned a stream/, transport);

    if (transport === 'amqp') {
      // amqp:// carries no streams: a streaming method is refused before it is published.
      const refused = await rejection(collect(probe.whoStream()));
      assert.equal(refused.code, Code.UNIMPLEMENTED, refused.message);
      assert.match(refused.message, /test\.Probe\.whoStream streams, and amqp:\/\/ carries no streams/);
      continue;
    }
    const notStream = await rejection(collect(probe.streamValue()));
    assert.equal(notStream.code, Code.INTERNAL, `${transport}: ${notStream.message}`);
    assert.match(notStream.message, /streaming method test\.Probe\.streamValue did not return an AsyncIterable/, transport);

    assert.deepEqual(await collect(probe.whoStream.with({ metadata: { 'x-who': 'c' } })()), ['c', 'c'], `${transport}: currentCall() in a generator's body`);
  }
  assert.throws(() => currentCall(), /only available inside a handler/);
  assert.deepEqual(escaped, [], 'nothing escaped as an unhandled rejection or uncaught exception');
});

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}
