import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, Metadata, RpcError, currentCall, defineService, type Logger } from '../src/index.js';
import { CalculatorService, startClient, startServer, waitUntil } from './support/calculator.js';

interface Headers {
  /** Answers with response metadata built from the request's. */
  reflect(): Promise<string>;
  /** Sets response metadata, then fails. */
  refuse(): Promise<never>;
}

const HeadersService = defineService<Headers>('test.Headers', { version: '1', methods: { reflect: {}, refuse: {} } });

const headers: Headers = {
  async reflect() {
    const { metadata, responseMetadata } = currentCall();
    responseMetadata.set('x-seen-keys', [...metadata].map(([key]) => key).sort().join(','));
    responseMetadata.set('x-raw', new Uint8Array([0, 255, 10, 13]));
    return 'ok';
  },
  async refuse() {
    currentCall().responseMetadata.set('x-retry-after', '30');
    throw new RpcError(Code.RESOURCE_EXHAUSTED, 'busy');
  },
};

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const noop = (): void => {};
  return { warnings, debug: noop, info: noop, error: noop, warn: (_obj, msg) => warnings.push(msg ?? '') };
}

test('a one-way method resolves undefined and the server runs it', async (t) => {
  const { address, log } = await startServer(t);
  const { calc } = startClient(t, address);
  assert.equal(await calc.notify(7), undefined);
  assert.equal(await calc.notify(8), undefined);
  await waitUntil(() => log.notified.length === 2);
  assert.deepEqual(log.notified, [7, 8]);
});

test('a one-way call resolves without waiting for the handler to finish', async (t) => {
  const { address, log } = await startServer(t);
  const { calc } = startClient(t, address);
  assert.equal(await calc.slow.with({ oneWay: true })(300), undefined);
  assert.ok(!log.slow.some((run) => run.finished), 'resolved before the handler finished');
  await waitUntil(() => log.slow[0]?.finished === true);
});

test('a failing one-way call still resolves for the caller, and the server logs the failure', async (t) => {
  const logger = recordingLogger();
  const { address, log } = await startServer(t, { logger });
  const { calc } = startClient(t, address);
  assert.equal(await calc.fail.with({ oneWay: true })(), undefined);
  await waitUntil(() => logger.warnings.length > 0);
  assert.deepEqual(logger.warnings, ['one-way call failed']);
  assert.deepEqual(log.calls.map((c) => c.method), ['fail']);
});

test('request metadata, text and binary, reaches the server handler', async (t) => {
  const { address, log } = await startServer(t);
  const { calc } = startClient(t, address);
  const token = new Uint8Array([0, 1, 2, 253, 254, 255]);
  await calc.add.with({ metadata: { 'x-tenant': 'acme', 'x-token-bin': token, 'X-Mixed-Case': 'ünïcode ✓' } })(1, 2);
  const seen = log.calls[0]!.metadata;
  assert.equal(seen.get('x-tenant'), 'acme');
  assert.equal(seen.get('x-mixed-case'), 'ünïcode ✓', 'keys are lower-cased and text is UTF-8');
  const bytes = seen.get('x-token-bin');
  assert.ok(bytes instanceof Uint8Array, 'binary values stay binary');
  assert.deepEqual([...bytes], [...token]);
  assert.deepEqual([...seen].map(([key]) => key).sort(), ['x-mixed-case', 'x-tenant', 'x-token-bin'], 'no pseudo-keys leak into metadata');
});

test('metadata passed as a Metadata object or as pairs reaches the server; proxy defaults merge with call metadata', async (t) => {
  const { address, log } = await startServer(t);
  const { client } = startClient(t, address);
  const calc = client.proxy(CalculatorService, { metadata: { 'x-app': 'tests', 'x-env': 'dev' } });
  await calc.add.with({ metadata: new Metadata([['x-env', 'prod'], ['x-call', '1']]) })(1, 1);
  const seen = log.calls[0]!.metadata;
  assert.deepEqual(Object.fromEntries(seen), { 'x-app': 'tests', 'x-env': 'prod', 'x-call': '1' });
});

test('response metadata set by the handler reaches onResponseMetadata', async (t) => {
  const { address } = await startServer(t, { setup: (server) => server.provide(HeadersService, headers) });
  const { client } = startClient(t, address);
  const remote = client.proxy(HeadersService);
  let received: Metadata | undefined;
  const result = await remote.reflect.with({ metadata: { 'b-key': 'x', 'a-key': 'y' }, onResponseMetadata: (md) => (received = md) })();
  assert.equal(result, 'ok');
  assert.ok(received !== undefined);
  assert.equal(received.get('x-seen-keys'), 'a-key,b-key');
  const raw = received.get('x-raw');
  assert.ok(raw instanceof Uint8Array);
  assert.deepEqual([...raw], [0, 255, 10, 13]);
});

test('response metadata also comes back with an error', async (t) => {
  const { address } = await startServer(t, { setup: (server) => server.provide(HeadersService, headers) });
  const { client } = startClient(t, address);
  let received: Metadata | undefined;
  await assert.rejects(client.proxy(HeadersService).refuse.with({ onResponseMetadata: (md) => (received = md) })(), { code: Code.RESOURCE_EXHAUSTED });
  assert.equal(received?.get('x-retry-after'), '30');
});

test('onResponseMetadata receives empty metadata when the server sent none', async (t) => {
  const { address } = await startServer(t);
  const { calc } = startClient(t, address);
  let received: Metadata | undefined;
  await calc.add.with({ onResponseMetadata: (md) => (received = md) })(1, 1);
  assert.equal(received?.size, 0);
});

const invalidMetadata: Array<Record<string, unknown>> = [
  { 'has space': 'v' },
  { ':service': 'demo.Other:1.0.0' },
  { 'ümlaut': 'v' },
  { '': 'v' },
  { ['k'.repeat(256)]: 'v' },
  { 'x-number': 42 },
];

test('invalid metadata keys and values are refused with INVALID_ARGUMENT and nothing is sent', async (t) => {
  const { address, log } = await startServer(t);
  const { calc } = startClient(t, address);
  for (const metadata of invalidMetadata) {
    await assert.rejects(async () => calc.add.with({ metadata: metadata as Record<string, string> })(1, 2), { code: Code.INVALID_ARGUMENT }, JSON.stringify(Object.keys(metadata)));
  }
  assert.throws(() => new Metadata({ 'bad key': 'v' }), { code: Code.INVALID_ARGUMENT });
  assert.equal(log.calls.length, 0);
  assert.equal(await calc.add(1, 2), 3, 'the client keeps working');
});

test('a proxy call with invalid metadata returns a rejected promise instead of throwing', async (t) => {
  const { address } = await startServer(t);
  const { calc } = startClient(t, address);
  for (const metadata of invalidMetadata) {
    let result: Promise<unknown> | undefined;
    assert.doesNotThrow(() => {
      result = calc.add.with({ metadata: metadata as Record<string, string> })(1, 2);
    }, `bad metadata ${JSON.stringify(Object.keys(metadata))} should be reported by rejecting`);
    await assert.rejects(result!, { code: Code.INVALID_ARGUMENT });
  }
});
