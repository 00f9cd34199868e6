// Dubbo's provider token: a server publishes a token in its registry entries and refuses calls that
// do not carry it, so a consumer that found it through the registry gets through and one that dials
// its address directly does not.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { Code, Metadata, RpcError, createClient, createServer, defineService, type Interceptor, type Server } from '../../src/index.js';
import type { Logger } from '../../src/core/logger.js';
import type { GateRequest } from '../../src/core/gate.js';
import { openRegistry } from '../../src/registry/index.js';
import type { Provider } from '../../src/registry/provider.js';
import { TOKEN_PARAM, providerToken, tokenGate, withProviderToken } from '../../src/security/provider-token.js';

interface Greeter {
  greet(name: string): Promise<string>;
}
const GreeterService = defineService<Greeter>('test.token.Greeter', { version: '1.0.0', methods: { greet: {} } });

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-token-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every record a logger was given. */
class RecordingLogger implements Logger {
  readonly records: Array<{ obj: object; msg?: string }> = [];
  debug = (obj: object, msg?: string) => void this.records.push({ obj, msg });
  info = (obj: object, msg?: string) => void this.records.push({ obj, msg });
  warn = (obj: object, msg?: string) => void this.records.push({ obj, msg });
  error = (obj: object, msg?: string) => void this.records.push({ obj, msg });
  text(): string {
    return this.records.map((record) => `${record.msg ?? ''} ${JSON.stringify(record.obj)}`).join('\n');
  }
}

/** A server of GreeterService with `token`, on tcp, http and grpc, in its own embedded registry folder. */
async function tokenServer(t: TestContext, registry: string, token: boolean | string, label = 'hello', logger?: Logger) {
  const handled: string[] = [];
  const server = createServer({ listen: ['tcp://127.0.0.1:0', 'http://127.0.0.1:0', 'grpc://127.0.0.1:0'], registry, warmupMs: 0, token, logger });
  server.provide(GreeterService, {
    async greet(name) {
      handled.push(name);
      return `${label} ${name}`;
    },
  });
  const [tcp, http, grpc] = await server.listen();
  t.after(() => server.close({ timeoutMs: 1000 }));
  return { server, handled, addresses: { tcp: tcp!, http: http!, grpc: grpc! } };
}

/** The provider entries a registry lists for GreeterService. */
async function entries(t: TestContext, registry: string): Promise<Provider[]> {
  const { registry: opened } = await openRegistry(registry);
  t.after(() => opened.close());
  return new Promise((resolve) => {
    const stop = opened.subscribe(GreeterService.key, (providers) => {
      if (providers.length === 0) return;
      stop();
      resolve(providers);
    });
  });
}

const request = (metadata: Metadata | undefined): GateRequest => ({ service: GreeterService, method: 'greet', metadata, peer: undefined, protocol: 'tcp' });

function assertRefused(error: unknown, ...secrets: string[]): true {
  assert.ok(error instanceof RpcError, String(error));
  assert.equal(error.code, Code.PERMISSION_DENIED);
  assert.match(error.message, /^invalid token: /);
  for (const secret of secrets) assert.ok(!error.message.includes(secret), `the message shows no token: ${error.message}`);
  return true;
}

describe('provider token', () => {
  test('token: true makes a random token per server, a string is kept, and anything else is refused', () => {
    const first = providerToken(true);
    assert.match(first ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.notEqual(providerToken(true), first);
    assert.equal(providerToken('s3cret'), 's3cret');
    assert.equal(providerToken(false), undefined);
    assert.equal(providerToken(undefined), undefined);
    for (const bad of ['', 'with space', 'naïve']) assert.throws(() => providerToken(bad), { code: Code.INVALID_ARGUMENT });
    assert.throws(() => createServer({ listen: ['tcp://127.0.0.1:0'], registry: false, token: '' }), { code: Code.INVALID_ARGUMENT });
  });

  test('the gate admits the token alone, as text or bytes, and names no token when it refuses', () => {
    const gate = tokenGate('s3cret');
    assert.equal(gate.admit(request(new Metadata({ token: 's3cret' }))), undefined);
    assert.equal(gate.admit(request(new Metadata({ token: new TextEncoder().encode('s3cret') }))), undefined);
    assert.throws(() => gate.admit(request(undefined)), (error) => assertRefused(error, 's3cret'));
    assert.throws(() => gate.admit(request(new Metadata({ other: 'x' }))), (error) => assertRefused(error, 's3cret'));
    assert.throws(() => gate.admit(request(new Metadata({ token: 's3cre' }))), (error) => assertRefused(error, 's3cret', 's3cre'));
    assert.throws(() => gate.admit(request(new Metadata({ token: 's3cret ' }))), (error) => assertRefused(error, 's3cret'));
  });

  test('the token goes on a view of the call; the caller\'s metadata is left alone', () => {
    const metadata = new Metadata({ 'x-tenant': 'acme' });
    const responseMetadata = new Metadata();
    const call = { service: GreeterService, method: 'greet', args: ['a'], metadata, responseMetadata, deadline: 5, signal: undefined, oneWay: false };
    assert.equal(withProviderToken(call, undefined), call);
    const sent = withProviderToken(call, 's3cret');
    assert.equal(sent.metadata.get(TOKEN_PARAM), 's3cret');
    assert.equal(sent.metadata.get('x-tenant'), 'acme');
    assert.equal(metadata.has(TOKEN_PARAM), false);
    assert.equal(sent.responseMetadata, responseMetadata);
    assert.deepEqual([sent.args, sent.deadline, sent.oneWay], [['a'], 5, false]);
    sent.args = ['b'];
    assert.deepEqual(call.args, ['b']);
  });

  test('a consumer that found the provider in the registry is admitted; one that dials its address is refused before the handler runs', async (t) => {
    const registry = `embedded://${join(dir, 'bypass')}`;
    const logger = new RecordingLogger();
    const { handled, addresses } = await tokenServer(t, registry, true, 'hello', logger);
    const listed = await entries(t, registry);
    const token = listed[0]!.params[TOKEN_PARAM];
    assert.ok(token, 'the entries carry the token');
    assert.ok(listed.every((entry) => entry.params[TOKEN_PARAM] === token), 'one token for every address of the server');

    for (const protocol of ['tcp', 'http', 'grpc'] as const) {
      const found = createClient({ registry, protocol });
      t.after(() => found.close());
      assert.equal(await found.proxy(GreeterService).greet(protocol), `hello ${protocol}`);
    }
    assert.deepEqual(handled, ['tcp', 'http', 'grpc']);

    for (const protocol of ['tcp', 'http', 'grpc'] as const) {
      const direct = createClient({ url: addresses[protocol] });
      t.after(() => direct.close());
      const greeter = direct.proxy(GreeterService);
      await assert.rejects(greeter.greet('intruder'), (error) => assertRefused(error, token));
      await assert.rejects(greeter.greet.with({ metadata: { token: 'guessed' } })('intruder'), (error) => assertRefused(error, token, 'guessed'));
      // Knowing the token is what the registry gives: a direct consumer that has it is let in.
      assert.equal(await greeter.greet.with({ metadata: { token } })(`direct ${protocol}`), `hello direct ${protocol}`);
    }
    assert.deepEqual(handled, ['tcp', 'http', 'grpc', 'direct tcp', 'direct http', 'direct grpc']);
    assert.ok(!logger.text().includes(token), 'the token never reaches the logs');
    assert.match(logger.text(), /token=\*\*\*/);
  });

  test('each provider gets its own token, on a balanced call, on a broadcast to all at once, and never in the caller\'s metadata', async (t) => {
    const registry = `embedded://${join(dir, 'per-provider')}`;
    const servers: Array<{ server: Server; handled: string[] }> = [];
    servers.push(await tokenServer(t, registry, 'token-of-a', 'a'));
    servers.push(await tokenServer(t, registry, 'token-of-b', 'b'));
    servers.push(await tokenServer(t, registry, false, 'open'));
    const seenByCaller: boolean[] = [];
    const watchMetadata: Interceptor = (next) => async (call) => {
      try {
        return await next(call);
      } finally {
        seenByCaller.push(call.metadata.has(TOKEN_PARAM));
      }
    };
    const client = createClient({ registry, loadBalance: 'roundrobin', interceptors: [watchMetadata] });
    t.after(() => client.close());
    const greeter = client.proxy(GreeterService);
    await waitForProviders(() => greeter.greet('x'), 3);
    const answers = new Set<string>();
    for (let i = 0; i < 6; i++) answers.add(await greeter.greet('y'));
    assert.deepEqual([...answers].sort(), ['a y', 'b y', 'open y']);

    const everyone = client.proxy(GreeterService, { cluster: 'broadcast' });
    await everyone.greet('all');
    for (const { handled } of servers) assert.ok(handled.includes('all'), 'every provider admitted the broadcast');
    assert.ok(seenByCaller.length > 0 && seenByCaller.every((seen) => !seen), 'the caller never saw a token in its metadata');
  });
});

/** Calls until `count` different providers have answered (the registry lists them one by one). */
async function waitForProviders(call: () => Promise<string>, count: number): Promise<void> {
  const seen = new Set<string>();
  for (let i = 0; i < 200 && seen.size < count; i++) seen.add(await call());
  assert.equal(seen.size, count, `answers from ${count} providers: ${[...seen].join(', ')}`);
}
