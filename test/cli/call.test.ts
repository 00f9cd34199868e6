// switchyard call against real servers on tcp://, http:// and grpc://, spawned as a real process.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Code, RpcError, createServer, currentCall, defineService, type Server } from '../../src/index.js';
import { runCli } from './run-cli.js';

interface Shop {
  price(item: string, quantity: number): Promise<{ item: string; total: number }>;
  countdown(from: number): AsyncIterable<number>;
  refuse(): Promise<never>;
  whoami(): Promise<{ tenant: string | null; authorization: string | null }>;
}

const ShopService = defineService<Shop>('test.cli.Shop', {
  version: '1.0.0',
  methods: { price: {}, countdown: { stream: 'server' }, refuse: {}, whoami: {} },
});

const shop: Shop = {
  async price(item, quantity) {
    return { item, total: quantity * 2 };
  },
  async *countdown(from) {
    for (let n = from; n > 0; n--) yield n;
  },
  async refuse() {
    throw new RpcError(Code.FAILED_PRECONDITION, 'the shop is closed', { details: { reopens: 'monday' } });
  },
  async whoami() {
    const metadata = currentCall().metadata;
    const text = (key: string) => {
      const value = metadata.get(key);
      return typeof value === 'string' ? value : null;
    };
    return { tenant: text('x-tenant'), authorization: text('authorization') };
  },
};

let server: Server;
let urls: { protocol: string; url: string }[];
before(async () => {
  server = createServer({ listen: ['tcp://127.0.0.1:0', 'http://127.0.0.1:0', 'grpc://127.0.0.1:0'], registry: false });
  server.provide(ShopService, shop);
  const addresses = await server.listen();
  urls = addresses.map((url) => ({ protocol: url.slice(0, url.indexOf(':')), url }));
});
after(() => server.close({ timeoutMs: 1000 }));

/** Runs `check` once per protocol, at the same time. */
async function eachProtocol(check: (url: string, protocol: string) => Promise<void>): Promise<void> {
  await Promise.all(urls.map(({ url, protocol }) => check(url, protocol).catch((error: unknown) => {
    throw new Error(`over ${protocol}: ${(error as Error).message}`, { cause: error });
  })));
}

test('call prints the result as JSON over tcp, http and grpc, the version learned from the server', async () => {
  await eachProtocol(async (url) => {
    const { code, stdout, stderr } = await runCli(['call', url, 'test.cli.Shop', 'price', '"apple"', '3']);
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), { item: 'apple', total: 6 });
  });
});

test('a server-streaming method prints one JSON line per item, as the server describes it', async () => {
  await eachProtocol(async (url) => {
    const { code, stdout, stderr } = await runCli(['call', url, 'test.cli.Shop', 'countdown', '3']);
    assert.equal(code, 0, stderr);
    assert.deepEqual(stdout.trimEnd().split('\n'), ['3', '2', '1']);
    const json = await runCli(['call', url, 'test.cli.Shop', 'countdown', '2', '--json']);
    assert.deepEqual(json.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as unknown), [{ item: 2 }, { item: 1 }]);
  });
});

test('a failed call exits 1 with the code name on stderr, and --json prints the error on stdout', async () => {
  await eachProtocol(async (url) => {
    const plain = await runCli(['call', url, 'test.cli.Shop', 'refuse']);
    assert.equal(plain.code, 1);
    assert.equal(plain.stdout, '');
    assert.match(plain.stderr, /FAILED_PRECONDITION: the shop is closed/);
    assert.match(plain.stderr, /"reopens":"monday"/);

    const json = await runCli(['call', url, 'test.cli.Shop', 'refuse', '--json']);
    assert.equal(json.code, 1);
    assert.deepEqual(JSON.parse(json.stdout), { error: { code: 'FAILED_PRECONDITION', message: 'the shop is closed', details: { reopens: 'monday' } } });
  });
});

test('-H metadata and --token reach the handler; --json wraps the result', async () => {
  await eachProtocol(async (url) => {
    const { code, stdout, stderr } = await runCli(['call', url, 'test.cli.Shop', 'whoami', '-H', 'x-tenant:acme', '--token', 's3cret', '--json']);
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), { result: { tenant: 'acme', authorization: 'Bearer s3cret' } });
  });
});

test('a version the server does not provide is NOT_FOUND, exit 1', async () => {
  const { code, stderr } = await runCli(['call', urls[0]!.url, 'test.cli.Shop', 'price', '"pear"', '1', '--version', '9.9.9']);
  assert.equal(code, 1);
  assert.match(stderr, /NOT_FOUND/);
});

test('arguments must be JSON unless --raw-strings; a bad argument or option is a usage error, exit 2', async () => {
  const url = urls[0]!.url;
  const bad = await runCli(['call', url, 'test.cli.Shop', 'price', 'apple', '3']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /argument "apple" is not JSON/);
  assert.match(bad.stderr, /Usage: switchyard call/);

  const raw = await runCli(['call', url, 'test.cli.Shop', 'price', 'apple', '3', '--raw-strings']);
  assert.equal(raw.code, 0, raw.stderr);
  assert.deepEqual(JSON.parse(raw.stdout), { item: 'apple', total: 6 });

  const option = await runCli(['call', url, 'test.cli.Shop', 'price', '--nope']);
  assert.equal(option.code, 2);
  assert.match(option.stderr, /--nope/);

  const header = await runCli(['call', url, 'test.cli.Shop', 'whoami', '-H', 'no-colon']);
  assert.equal(header.code, 2);
  assert.match(header.stderr, /-H takes key:value/);
});

test('an address nobody listens on is UNAVAILABLE, exit 3', async () => {
  const probe = createNetServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  const { code, stderr } = await runCli(['call', `tcp://127.0.0.1:${port}`, 'test.cli.Shop', 'price', '"fig"', '1', '--timeout', '2000']);
  assert.equal(code, 3);
  assert.match(stderr, /UNAVAILABLE/);
});

test('describe of a url prints what the server says of each method; a service it lacks is NOT_FOUND', async () => {
  await eachProtocol(async (url) => {
    const { code, stdout, stderr } = await runCli(['describe', url, 'test.cli.Shop']);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, 'test.cli.Shop  version 1.0.0  group -\n  price\n  countdown  (stream=server)\n  refuse\n  whoami\n');
  });
  const json = await runCli(['describe', urls[0]!.url, 'test.cli.Shop', '--json']);
  assert.deepEqual(JSON.parse(json.stdout), {
    service: 'test.cli.Shop',
    describedBy: urls[0]!.url,
    keys: [{ version: '1.0.0', group: null, methods: [{ name: 'price' }, { name: 'countdown', stream: 'server' }, { name: 'refuse' }, { name: 'whoami' }] }],
  });
  const missing = await runCli(['describe', urls[0]!.url, 'test.cli.Nothing']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /NOT_FOUND: service "test\.cli\.Nothing" is not provided here/);
});

test('--stream calls a server-streaming method of a server that cannot describe it', async (t) => {
  // A server whose switchyard.Introspection answers nothing, as a peer without one would.
  const Introspection = defineService<{ describe(request: unknown): Promise<never> }>('switchyard.Introspection', { methods: { describe: {} } });
  const silent = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false });
  silent.provide(Introspection, { describe: async () => Promise.reject(new RpcError(Code.UNIMPLEMENTED, 'no introspection here')) });
  silent.provide(ShopService, shop);
  t.after(() => silent.close({ timeoutMs: 1000 }));
  const [url] = (await silent.listen()) as [string];

  const streamed = await runCli(['call', url, 'test.cli.Shop', 'countdown', '2', '--stream', '--version', '1.0.0']);
  assert.equal(streamed.code, 0, streamed.stderr);
  assert.deepEqual(streamed.stdout.trimEnd().split('\n'), ['2', '1']);
  const described = await runCli(['describe', url, 'test.cli.Shop']);
  assert.equal(described.code, 1);
  assert.match(described.stderr, /UNIMPLEMENTED: no introspection here/);
});
