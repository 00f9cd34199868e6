// switchyard ls, describe, call and watch against the embedded registry in a folder of this file's own.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createEmbeddedRegistry, createServer, defineService, type Server } from '../../src/index.js';
import { runCli, startCli } from './run-cli.js';

interface Stock {
  level(item: string): Promise<number>;
  levels(count: number): AsyncIterable<{ n: number }>;
}

const StockService = defineService<Stock>('test.cli.Stock', { version: '2.1.0', methods: { level: { idempotent: true }, levels: { stream: 'server' } } });
const stock: Stock = {
  async level(item) {
    return item.length;
  },
  async *levels(count) {
    for (let n = 1; n <= count; n++) yield { n };
  },
};

const dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-registry-'));
const registry = `embedded://${dir}`;
let server: Server;
let tcpUrl: string;
let httpUrl: string;
before(async () => {
  // A service folder whose providers have all left.
  mkdirSync(join(dir, 'test.cli.Gone'), { mode: 0o700 });
  server = createServer({ listen: ['tcp://127.0.0.1:0', 'http://127.0.0.1:0'], registry });
  server.provide(StockService, stock);
  [tcpUrl, httpUrl] = (await server.listen()) as [string, string];
});
after(async () => {
  await server.close({ timeoutMs: 1000 });
  rmSync(dir, { recursive: true, force: true });
});

test('ls lists every service of the registry with its providers, as a table and as JSON', async () => {
  const { code, stdout, stderr } = await runCli(['ls', registry]);
  assert.equal(code, 0, stderr);
  const rows = stdout.trimEnd().split('\n').map((line) => line.split(/\s{2,}/));
  assert.deepEqual(rows[0], ['SERVICE', 'ADDRESS', 'PROTOCOL', 'VERSION', 'GROUP', 'WEIGHT']);
  assert.deepEqual(rows.slice(1).sort(), [
    ['test.cli.Gone', '(no providers)'],
    ['test.cli.Stock', httpUrl, 'http', '2.1.0', '-', '100'],
    ['test.cli.Stock', tcpUrl, 'tcp', '2.1.0', '-', '100'],
  ].sort());

  const json = await runCli(['ls', registry, 'test.cli.Stock', '--json']);
  assert.equal(json.code, 0, json.stderr);
  const { services } = JSON.parse(json.stdout) as { services: { name: string; providers: { address: string; protocol: string; version: string; group: null; weight: number; methods: string[] }[] }[] };
  assert.equal(services.length, 1);
  assert.equal(services[0]!.name, 'test.cli.Stock');
  assert.deepEqual(services[0]!.providers.map(({ address, protocol, version, group, weight, methods }) => ({ address, protocol, version, group, weight, methods })).sort((a, b) => a.address.localeCompare(b.address)), [
    { address: httpUrl, protocol: 'http', version: '2.1.0', group: null, weight: 100, methods: ['level', 'levels'] },
    { address: tcpUrl, protocol: 'tcp', version: '2.1.0', group: null, weight: 100, methods: ['level', 'levels'] },
  ].sort((a, b) => a.address.localeCompare(b.address)));
});

test('describe through a registry shows the versions, the providers and the method options one of them gives', async () => {
  const { code, stdout, stderr } = await runCli(['describe', registry, 'test.cli.Stock']);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^test\.cli\.Stock {2}version 2\.1\.0 {2}group -$/m);
  assert.match(stdout, /^ {2}level {2}\(idempotent\)$/m);
  assert.match(stdout, /^ {2}levels {2}\(stream=server\)$/m);
  assert.match(stdout, new RegExp(`providers: .*${tcpUrl.replace(/[.]/g, '\\.')}`));

  const json = await runCli(['describe', registry, 'test.cli.Stock', '--json']);
  const described = JSON.parse(json.stdout) as { keys: { version: string; methods: unknown[]; providers: unknown[] }[] };
  assert.equal(described.keys.length, 1);
  assert.equal(described.keys[0]!.version, '2.1.0');
  assert.deepEqual(described.keys[0]!.methods, [{ name: 'level', idempotent: true }, { name: 'levels', stream: 'server' }]);
  assert.equal(described.keys[0]!.providers.length, 2);

  const absent = await runCli(['ls', registry, 'test.cli.Nobody']);
  assert.equal(absent.stdout.split('\n')[1], 'test.cli.Nobody  (no providers)');
  const missing = await runCli(['describe', registry, 'test.cli.Nobody']);
  assert.equal(missing.code, 3, 'a service nobody provides is unavailable');
  assert.match(missing.stderr, /UNAVAILABLE: the registry lists no provider of test\.cli\.Nobody/);
  assert.equal(existsSync(join(dir, 'test.cli.Nobody')), false, 'looking made no folder for the service');
});

test('call through a registry finds the version, streams, and takes a protocol', async () => {
  const unary = await runCli(['call', registry, 'test.cli.Stock', 'level', '"pears"']);
  assert.equal(unary.code, 0, unary.stderr);
  assert.equal(unary.stdout.trim(), '5');

  const stream = await runCli(['call', registry, 'test.cli.Stock', 'levels', '2', '--protocol', 'http']);
  assert.equal(stream.code, 0, stream.stderr);
  assert.deepEqual(stream.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as unknown), [{ n: 1 }, { n: 2 }]);
});

test('watch of one service prints its providers, then each one that comes and goes, and exits 0 on SIGINT', async (t) => {
  const watch = startCli(t, ['watch', registry, 'test.cli.Stock']);
  await watch.line((line) => line.startsWith(`+ ${tcpUrl}/test.cli.Stock?`));
  await watch.line((line) => line.startsWith(`+ ${httpUrl}/test.cli.Stock?`));

  const another = createServer({ listen: ['tcp://127.0.0.1:0'], registry });
  another.provide(StockService, stock);
  t.after(() => another.close({ timeoutMs: 1000 }));
  const [anotherUrl] = await another.listen();
  await watch.line((line) => line.startsWith(`+ ${anotherUrl}/test.cli.Stock?version=2.1.0&methods=level%2Clevels`));
  await another.close({ timeoutMs: 1000 });
  await watch.line((line) => line.startsWith(`- ${anotherUrl}/test.cli.Stock?`));

  const { code } = await watch.stop('SIGINT');
  assert.equal(code, 0, watch.stderr());
});

test('watch of a whole registry finds services that appear later, prints JSON lines, and exits 0 on SIGTERM', async (t) => {
  const watch = startCli(t, ['watch', registry, '--json', '--interval', '100']);
  await watch.line((line) => line.includes('"service":"test.cli.Stock"'));

  const late = createEmbeddedRegistry({ dir });
  t.after(() => late.close());
  await late.register({
    protocol: 'tcp', host: '127.0.0.1', port: 1, address: 'tcp://127.0.0.1:1', service: { name: 'test.cli.Late', group: 'blue' },
    methods: ['ping'], weight: 50, timestamp: 1, warmupMs: 0, serialization: 'msgpack', params: {},
  });
  const added = JSON.parse(await watch.line((line) => line.includes('"service":"test.cli.Late"'))) as Record<string, unknown>;
  assert.deepEqual(added, {
    change: 'added',
    service: 'test.cli.Late',
    provider: {
      url: 'tcp://127.0.0.1:1/test.cli.Late?group=blue&methods=ping&weight=50&timestamp=1&serialization=msgpack',
      address: 'tcp://127.0.0.1:1', protocol: 'tcp', version: null, group: 'blue', weight: 50, methods: ['ping'],
    },
  });
  await late.close();
  const removed = JSON.parse(await watch.line((line) => line.includes('"service":"test.cli.Late"'))) as Record<string, unknown>;
  assert.equal(removed.change, 'removed');

  const { code } = await watch.stop('SIGTERM');
  assert.equal(code, 0, watch.stderr());
});

test('a registry spec of no known scheme fails clearly', async () => {
  const { code, stderr } = await runCli(['ls', 'nosuch://somewhere']);
  assert.equal(code, 1);
  assert.match(stderr, /ls nosuch:\/\/somewhere failed: INVALID_ARGUMENT: .*nosuch/);
});

test('a service served as several versions: call asks for one (exit 2), and --version picks it', async (t) => {
  const StockV3 = defineService<Stock>('test.cli.Stock', { version: '3.0.0', methods: { level: {}, levels: { stream: 'server' } } });
  const newer = createServer({ listen: ['tcp://127.0.0.1:0'], registry });
  newer.provide(StockV3, { level: async () => 300, levels: stock.levels });
  t.after(() => newer.close({ timeoutMs: 1000 }));
  await newer.listen();

  const ambiguous = await runCli(['call', registry, 'test.cli.Stock', 'level', '"x"']);
  assert.equal(ambiguous.code, 2);
  assert.match(ambiguous.stderr, /test\.cli\.Stock is served as several versions or groups \(version 2\.1\.0 group \(none\); version 3\.0\.0 group \(none\)\): pick one with --version/);

  const picked = await runCli(['call', registry, 'test.cli.Stock', 'level', '"x"', '--version', '3.0.0']);
  assert.equal(picked.code, 0, picked.stderr);
  assert.equal(picked.stdout, '300\n');
  const ranged = await runCli(['call', registry, 'test.cli.Stock', 'level', '"xy"', '--version', '^2.0.0']);
  assert.equal(ranged.code, 0, ranged.stderr);
  assert.equal(ranged.stdout, '2\n');
});
