// 64-bit integer fields of a .proto service are bigints on every transport, for handlers and callers.
import assert from 'node:assert/strict';
import test, { type TestContext } from 'node:test';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import { Code, RpcError, createClient, createServer, type Client } from '../../src/index.js';
import { onCleanup } from '../support/calculator.js';
import { brokerScope, type BrokerScope } from '../support/rabbitmq.js';
import { grpcJs, grpcJsClient, grpcJsServer, unaryJs } from './fixtures/grpc-js.js';
import { LedgerService, type Entry, type EntryInit, type Ledger, type Line, type LineInit } from './fixtures/ledger.types.js';

const LEDGER_PROTO = fileURLToPath(new URL('./fixtures/ledger.proto', import.meta.url));
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** An entry with every 64-bit field at an edge of its range, in every place a message can hold one. */
const edges: Entry = {
  amount: INT64_MIN,
  id: UINT64_MAX,
  amounts: [INT64_MAX, INT64_MIN, 0n, 2n ** 53n + 1n, -1n],
  line: { amount: INT64_MAX, id: 2n ** 63n },
  lines: [{ amount: -(2n ** 53n) - 1n, id: 1n }, { amount: 0n, id: UINT64_MAX }],
  balances: { max: INT64_MAX, min: INT64_MIN, zero: 0n },
  zigzag: INT64_MIN,
  fixed: UINT64_MAX,
  signedFixed: INT64_MIN,
  linesById: { [String(UINT64_MAX)]: { amount: INT64_MIN, id: UINT64_MAX }, 0: { amount: 1n, id: 0n } },
};

function line(init: LineInit | null | undefined): Line {
  return { amount: init?.amount ?? 0n, id: init?.id ?? 0n };
}

function mapValues<V, R>(record: Record<string, V> | undefined, fn: (value: V) => R): Record<string, R> {
  return Object.fromEntries(Object.entries(record ?? {}).map(([key, value]) => [key, fn(value)]));
}

/** What the Ledger's handlers received, to check its types. */
interface LedgerLog {
  requests: EntryInit[];
}

function ledgerImpl(log: LedgerLog): Ledger {
  return {
    async echo(request) {
      log.requests.push(request);
      return {
        amount: request.amount ?? 0n,
        id: request.id ?? 0n,
        amounts: request.amounts ?? [],
        line: request.line === undefined || request.line === null ? null : line(request.line),
        lines: (request.lines ?? []).map(line),
        balances: request.balances ?? {},
        zigzag: request.zigzag ?? 0n,
        fixed: request.fixed ?? 0n,
        signedFixed: request.signedFixed ?? 0n,
        linesById: mapValues(request.linesById, line),
      };
    },
    // bigint arithmetic: any number or string among the amounts would throw a TypeError here.
    async total(request) {
      log.requests.push(request);
      const amounts = request.amounts ?? [];
      return { total: amounts.reduce((sum, amount) => sum + amount, 0n), count: BigInt(amounts.length) };
    },
    async *lines(request) {
      log.requests.push(request);
      for (const item of request.lines ?? []) yield line(item);
    },
  };
}

/** Every 64-bit value of a message, with its path, for checking their types. */
function leaves(value: unknown, path = ''): Array<[string, unknown]> {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return [[path, value]];
  return Object.entries(value).flatMap(([key, item]) => leaves(item, `${path}.${key}`));
}

function assertAllBigInt(value: unknown, what: string): void {
  for (const [path, leaf] of leaves(value)) assert.equal(typeof leaf, 'bigint', `${what}: ${path} is ${typeof leaf} ${String(leaf)}`);
}

interface Served {
  /** One client per transport, by its scheme. */
  clients: Map<string, Client>;
  log: LedgerLog;
}

/** One server providing the Ledger on tcp, http, grpc and amqp at once, and a client of each. */
async function serveOnEveryTransport(t: TestContext): Promise<Served> {
  const scope: BrokerScope = (await brokerScope(t)).uses(LedgerService.id);
  const log: LedgerLog = { requests: [] };
  const server = createServer({ registry: false, listen: ['tcp://127.0.0.1:0', 'http://127.0.0.1:0', 'grpc://127.0.0.1:0', scope.url({ server: 'ledger' })] });
  server.provide(LedgerService, ledgerImpl(log));
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const clients = new Map<string, Client>();
  for (const address of await server.listen()) {
    const transport = address.split(':')[0]!;
    // An AMQP client addresses the exchange, not one server of it.
    const client = createClient({ url: transport === 'amqp' ? scope.url() : address, cluster: 'failfast', circuitBreaker: false, timeoutMs: 10_000 });
    onCleanup(t, () => client.close({ timeoutMs: 2000 }));
    clients.set(transport, client);
  }
  assert.deepEqual([...clients.keys()], ['tcp', 'http', 'grpc', 'amqp']);
  return { clients, log };
}

test('64-bit fields are bigints for the handler and the caller over tcp, http, grpc and amqp, at both ends of their ranges', async (t) => {
  const { clients, log } = await serveOnEveryTransport(t);
  for (const [transport, client] of clients) {
    const ledger = client.proxy(LedgerService);
    log.requests.length = 0;

    const echoed = await ledger.echo(edges);
    assert.deepEqual(echoed, edges, `${transport}: echo`);
    assertAllBigInt(echoed, `${transport}: the echoed entry`);
    assert.deepEqual(log.requests[0], edges, `${transport}: what the handler received`);
    assertAllBigInt(log.requests[0], `${transport}: the handler's request`);

    assert.deepEqual(await ledger.total(edges), { total: 2n ** 53n - 1n, count: 5n }, `${transport}: total`);
    // AMQP carries no server streams.
    if (transport !== 'amqp') {
      const streamed: Line[] = [];
      for await (const item of ledger.lines(edges)) streamed.push(item);
      assert.deepEqual(streamed, edges.lines, `${transport}: server stream`);
    }
  }
});

test('callers written before int64 was bigint: numbers and decimal strings reach the handler as bigints on every transport', async (t) => {
  const { clients, log } = await serveOnEveryTransport(t);
  // What an untyped or older caller sends: the typed proxy would not compile with it.
  const old = {
    amount: -5,
    id: '18446744073709551615',
    amounts: [1, '-2', 3n, Number.MAX_SAFE_INTEGER],
    line: { amount: '9223372036854775807' },
    balances: { a: 9, b: '-9223372036854775808' },
    linesById: { '+07': { id: 1 } },
  };
  for (const [transport, client] of clients) {
    log.requests.length = 0;
    const total = (await client.invoke(LedgerService, 'total', [old])) as { total: unknown; count: unknown };
    assert.deepEqual(total, { total: 2n + BigInt(Number.MAX_SAFE_INTEGER), count: 4n }, `${transport}: total`);
    await client.invoke(LedgerService, 'echo', [old]);
    const seen = log.requests[1]!;
    assert.equal(seen.amount, -5n, transport);
    assert.equal(seen.id, UINT64_MAX, transport);
    assert.deepEqual(seen.amounts, [1n, -2n, 3n, BigInt(Number.MAX_SAFE_INTEGER)], transport);
    assert.equal(seen.line?.amount, INT64_MAX, transport);
    assert.deepEqual(seen.balances, { a: 9n, b: INT64_MIN }, transport);
    assert.deepEqual(Object.keys(seen.linesById ?? {}), ['7'], `${transport}: a 64-bit map key in its canonical decimal form`);
    assert.equal(seen.linesById?.['7']?.id, 1n, transport);
    assert.deepEqual(old.amounts, [1, '-2', 3n, Number.MAX_SAFE_INTEGER], `${transport}: the caller's message is left as it was`);
  }
});

test('a 64-bit value outside its field\'s range, or not an integer, is INVALID_ARGUMENT on every transport and names the field', async (t) => {
  const { clients, log } = await serveOnEveryTransport(t);
  const bad: Array<[EntryInit | Record<string, unknown>, RegExp]> = [
    [{ id: -1n }, /Entry\.id: -1 is outside the uint64 range/],
    [{ amount: 2n ** 63n }, /Entry\.amount: 9223372036854775808 is outside the int64 range/],
    [{ lines: [{ id: 1n }, { id: 2n ** 64n }] }, /Entry\.lines\[1\]\.id: 18446744073709551616 is outside the uint64 range/],
    [{ amounts: [1.5] }, /Entry\.amounts\[0\]: must be an integer, not 1\.5/],
    [{ balances: { x: 'ten' } }, /Entry\.balances\["x"\]: must be a decimal integer/],
  ];
  for (const [transport, client] of clients) {
    for (const [entry, message] of bad) {
      await assert.rejects(client.invoke(LedgerService, 'echo', [entry]), (error: unknown) => {
        assert.ok(error instanceof RpcError, `${transport}: ${String(error)}`);
        assert.equal(error.code, Code.INVALID_ARGUMENT, `${transport}: ${error.message}`);
        assert.match(error.message, message, transport);
        return true;
      });
    }
  }
  assert.deepEqual(log.requests, [], 'no handler ran');
});

const loaderOptions: protoLoader.Options = { longs: String, enums: String, defaults: true };

function ledgerJs(): grpcJs.ServiceClientConstructor {
  const pkg = grpcJs.loadPackageDefinition(protoLoader.loadSync(LEDGER_PROTO, loaderOptions));
  return ((pkg.test as grpcJs.GrpcObject).ledger as grpcJs.GrpcObject).Ledger as grpcJs.ServiceClientConstructor;
}

test('a grpc-js client sending int64 as strings and numbers: the Switchyard handler gets bigints, grpc-js gets exact decimal strings', async (t) => {
  const log: LedgerLog = { requests: [] };
  const server = createServer({ registry: false, listen: ['grpc://127.0.0.1:0'] });
  server.provide(LedgerService, ledgerImpl(log));
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  const client = grpcJsClient(t, ledgerJs(), Number(new URL(address!).port));

  const request = {
    amount: '-9223372036854775808',
    id: '18446744073709551615',
    amounts: [5, '-6', '9223372036854775807'],
    line: { amount: 7, id: '8' },
    balances: { max: '9223372036854775807', small: -3 },
    fixed: 2 ** 60,
    linesById: { 42: { amount: 1 } },
  };
  const total = await unaryJs(client, 'total', request);
  assert.equal(total.error, null);
  assert.deepEqual(total.response, { total: String(INT64_MAX - 1n), count: '3' });

  const echoed = await unaryJs(client, 'echo', request);
  assert.equal(echoed.error, null);
  const seen = log.requests[1]!;
  assertAllBigInt(seen, 'the request grpc-js sent, as the handler got it');
  assert.equal(seen.amount, INT64_MIN);
  assert.equal(seen.id, UINT64_MAX);
  assert.deepEqual(seen.amounts, [5n, -6n, INT64_MAX]);
  assert.deepEqual(seen.line, { amount: 7n, id: 8n });
  assert.deepEqual(seen.balances, { max: INT64_MAX, small: -3n });
  assert.equal(seen.fixed, 2n ** 60n, 'a number beyond 2^53 arrives as the integer grpc-js wrote');
  assert.deepEqual(seen.linesById, { 42: { amount: 1n, id: 0n } });
  const response = echoed.response as Record<string, unknown>;
  assert.equal(response.amount, '-9223372036854775808');
  assert.equal(response.id, '18446744073709551615');
  assert.deepEqual(response.amounts, ['5', '-6', '9223372036854775807']);
  assert.deepEqual(response.balances, { max: '9223372036854775807', small: '-3' });
});

test('a Switchyard client of a grpc-js server answering int64 as strings and numbers gets bigints', async (t) => {
  const answers = {
    Total: { total: '-9223372036854775808', count: 3 },
    Echo: { amount: 5, id: '18446744073709551615', amounts: ['1', 2], line: { amount: '-1' }, lines: [], balances: { x: 7 }, linesById: {} },
  };
  type Unary = (call: grpcJs.ServerUnaryCall<unknown, unknown>, callback: grpcJs.sendUnaryData<unknown>) => void;
  const answer = (name: keyof typeof answers): Unary => (_call, callback) => callback(null, answers[name]);
  const port = await grpcJsServer(t, ledgerJs().service, { Total: answer('Total'), Echo: answer('Echo'), Lines: (call: grpcJs.ServerWritableStream<unknown, unknown>) => call.end() });
  const client = createClient({ url: `grpc://127.0.0.1:${port}` });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  const ledger = client.proxy(LedgerService);

  assert.deepEqual(await ledger.total({}), { total: INT64_MIN, count: 3n });
  const entry = await ledger.echo({});
  assertAllBigInt(entry, 'the entry grpc-js answered');
  assert.deepEqual(entry, { ...defaultEntry(), amount: 5n, id: UINT64_MAX, amounts: [1n, 2n], line: { amount: -1n, id: 0n }, balances: { x: 7n } });
});

/** An Entry with every field at its default, as the codec decodes an empty message. */
function defaultEntry(): Entry {
  return { amount: 0n, id: 0n, amounts: [], line: null, lines: [], balances: {}, zigzag: 0n, fixed: 0n, signedFixed: 0n, linesById: {} };
}
