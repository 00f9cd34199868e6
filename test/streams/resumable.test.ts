import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { Code, RpcError, createClient, createServer, defineService, resumeAfter } from '../../src/index.js';
import { TickerService } from './fixtures/ticker.js';
import { startFixtureProcess } from '../support/fixture-process.js';

const fixture = fileURLToPath(new URL('./fixtures/ticker-provider.ts', import.meta.url));

function startProvider(dir: string, label: string): Promise<ChildProcess> {
  return startFixtureProcess(fixture, [dir, label], `provider ${label}`);
}

test('a resumable stream survives a SIGTERM and a SIGKILL of its provider: no item lost, none twice', { timeout: 90_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-resume-'));
  const children = new Map<string, ChildProcess>();
  t.after(async () => {
    for (const child of children.values()) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  for (const label of ['a', 'b']) children.set(label, await startProvider(dir, label));

  const client = createClient({ registry: `embedded://${dir}`, backoff: { initialMs: 50, maxMs: 500 } });
  t.after(() => client.close());
  const ticker = client.proxy(TickerService, { timeoutMs: 60_000 });

  const COUNT = 900;
  const seqs: number[] = [];
  const servedBy: string[] = [];
  const breaks: string[] = [];
  for await (const tick of ticker.ticks(COUNT, 3)) {
    seqs.push(tick.seq);
    if (servedBy.at(-1) !== tick.provider) servedBy.push(tick.provider);
    if (seqs.length === 150) {
      // A rolling restart: the serving provider drains, and a fresh one takes its place.
      const serving = children.get(tick.provider)!;
      children.delete(tick.provider);
      breaks.push(`SIGTERM ${tick.provider}`);
      children.set('c', await startProvider(dir, 'c'));
      serving.kill('SIGTERM');
      void once(serving, 'exit');
    }
    if (seqs.length === 450) {
      // A crash: no drain, no GOAWAY, the socket just dies.
      const serving = children.get(tick.provider)!;
      children.delete(tick.provider);
      breaks.push(`SIGKILL ${tick.provider}`);
      serving.kill('SIGKILL');
    }
  }
  const duplicates = seqs.length - new Set(seqs).size;
  const lost = COUNT - new Set(seqs).size;
  const summary = `resumable stream: ${seqs.length} items, ${lost} lost, ${duplicates} duplicated; ${breaks.join(', ')}; served by ${servedBy.join(' -> ')}`;
  t.diagnostic(summary);
  assert.deepEqual(seqs, Array.from({ length: COUNT }, (_, i) => i), summary);
  assert.ok(servedBy.length >= 3, summary);
});

interface Counter {
  upTo(n: number): AsyncIterable<number>;
}
const CounterService = defineService<Counter>('test.streams.ResumableCounter', {
  methods: { upTo: { stream: 'server', resumable: { idOf: (n: number) => n } } },
});

test('a resumable stream gives up at its deadline, and passes other errors on at once', async (t) => {
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false });
  let opened = 0;
  server.provide(CounterService, {
    async *upTo(n) {
      opened++;
      const after = resumeAfter();
      const from = after === undefined ? 0 : Number(after) + 1;
      if (n < 0) throw new RpcError(Code.INVALID_ARGUMENT, 'n must not be negative');
      if (n === 0) throw new RpcError(Code.UNAVAILABLE, 'never there');
      for (let i = from; i < n; i++) {
        yield i;
        // Breaks the stream after each third item, as a lost connection would.
        if (i % 3 === 2) throw new RpcError(Code.UNAVAILABLE, 'link lost');
      }
    },
  });
  const [address] = await server.listen();
  const client = createClient({ url: address! });
  t.after(async () => {
    await client.close();
    await server.close({ timeoutMs: 1000 });
  });
  const counter = client.proxy(CounterService);
  const got: number[] = [];
  for await (const n of counter.upTo(10)) got.push(n);
  assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(opened, 4);

  opened = 0;
  await assert.rejects((async () => {
    for await (const n of counter.upTo(-1)) void n;
  })(), (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT);
  assert.equal(opened, 1);

  await assert.rejects((async () => {
    for await (const n of counter.upTo.with({ timeoutMs: 400 })(0)) void n;
  })(), (error: unknown) => error instanceof RpcError && error.code === Code.DEADLINE_EXCEEDED && /resuming/.test(error.message));

  assert.throws(() => defineService<Counter>('test.streams.Bad', { methods: { upTo: { stream: 'server', resumable: {} as never } } }), /resumable/);
});
