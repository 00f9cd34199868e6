import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it, type TestContext } from 'node:test';
import { Code, RpcError, createClient, createServer, defineService, resumeAfter } from '../../src/index.js';
import { onCleanup } from '../support/calculator.js';
import { rawRequest } from '../support/http.js';

interface Tick {
  seq: number;
}

interface Ticker {
  ticks(count: number): AsyncIterable<Tick>;
  plain(count: number): AsyncIterable<number>;
  broken(): AsyncIterable<number>;
  quiet(ms: number): AsyncIterable<number>;
  add(a: number, b: number): Promise<number>;
}

const TickerService = defineService<Ticker>('test.Ticker', {
  methods: {
    ticks: { stream: 'server', resumable: { idOf: (tick: Tick) => tick.seq }, http: { method: 'GET', path: '/ticks/{count}', params: ['count'] } },
    plain: { stream: 'server' },
    broken: { stream: 'server' },
    quiet: { stream: 'server' },
    add: {},
  },
});

async function start(t: TestContext, query = ''): Promise<string> {
  const server = createServer({ registry: false, listen: [`http://127.0.0.1:0${query}`] });
  server.provide(TickerService, {
    async *ticks(count) {
      const after = resumeAfter();
      for (let seq = after === undefined ? 0 : Number(after) + 1; seq < count; seq++) yield { seq };
    },
    async *plain(count) {
      for (let i = 0; i < count; i++) yield i;
    },
    async *broken() {
      yield 1;
      throw new RpcError(Code.RESOURCE_EXHAUSTED, 'out of ticks', { details: { left: 0 } });
    },
    async *quiet(ms) {
      await sleep(ms);
      yield 1;
    },
    async add(a, b) {
      return a + b;
    },
  });
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  return address!;
}

const events = { accept: 'text/event-stream' };

describe('HTTP transport: server-sent events', () => {
  it('answers a server stream as events when Accept asks for them: data, ids of a resumable method, then an end event', async (t) => {
    const address = await start(t);
    const res = await rawRequest(address, 'POST', '/test.Ticker/ticks', { headers: { ...events, 'content-type': 'application/json' }, body: '[3]' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/event-stream');
    assert.equal(res.headers['cache-control'], 'no-cache');
    assert.equal(res.text, 'id: 0\ndata: {"seq":0}\n\nid: 1\ndata: {"seq":1}\n\nid: 2\ndata: {"seq":2}\n\nevent: end\ndata:\n\n');

    // No id for a method that is not resumable; NDJSON still without the Accept header.
    const plain = await rawRequest(address, 'POST', '/test.Ticker/plain', { headers: { ...events, 'content-type': 'application/json' }, body: '2' });
    assert.equal(plain.text, 'data: 0\n\ndata: 1\n\nevent: end\ndata:\n\n');
    const lines = await rawRequest(address, 'POST', '/test.Ticker/plain', { headers: { 'content-type': 'application/json' }, body: '2' });
    assert.equal(lines.headers['content-type'], 'application/x-ndjson');
    assert.equal(lines.text, '{"value":0}\n{"value":1}\n');
  });

  it('opens with GET, at the method\'s REST mapping or at its RPC path with ?args=, and only for server streams', async (t) => {
    const address = await start(t);
    const mapped = await rawRequest(address, 'GET', '/ticks/2', { headers: events });
    assert.equal(mapped.text, 'id: 0\ndata: {"seq":0}\n\nid: 1\ndata: {"seq":1}\n\nevent: end\ndata:\n\n');
    const rpc = await rawRequest(address, 'GET', `/test.Ticker/plain?args=${encodeURIComponent('[2]')}`, { headers: events });
    assert.equal(rpc.text, 'data: 0\n\ndata: 1\n\nevent: end\ndata:\n\n');
    const noArgs = await rawRequest(address, 'GET', '/test.Ticker/broken', { headers: events });
    assert.equal(noArgs.status, 200);
    const bad = await rawRequest(address, 'GET', '/test.Ticker/plain?args=%7Bnope', { headers: events });
    assert.equal(bad.status, 400, bad.text);
    assert.match((bad.json as { message: string }).message, /^args must be a JSON array/);
    const unary = await rawRequest(address, 'GET', `/test.Ticker/add?args=${encodeURIComponent('[1,2]')}`);
    assert.equal(unary.status, 405);
    assert.equal(unary.headers.allow, 'POST');
  });

  it('ends a failed stream with an error event carrying the error body', async (t) => {
    const address = await start(t);
    const res = await rawRequest(address, 'GET', '/test.Ticker/broken', { headers: events });
    assert.equal(res.text, 'data: 1\n\nevent: error\ndata: {"code":"RESOURCE_EXHAUSTED","name":"RpcError","message":"out of ticks","details":{"left":0}}\n\n');
  });

  it('resumes after Last-Event-ID, which reaches the handler as last-event-id metadata', async (t) => {
    const address = await start(t);
    const res = await rawRequest(address, 'GET', '/ticks/5', { headers: { ...events, 'last-event-id': '2' } });
    assert.equal(res.text, 'id: 3\ndata: {"seq":3}\n\nid: 4\ndata: {"seq":4}\n\nevent: end\ndata:\n\n');
    // The Switchyard client sends the same metadata as that header, and resumes so over http:// too.
    const client = createClient({ url: address });
    onCleanup(t, () => client.close({ timeoutMs: 2000 }));
    const seqs: number[] = [];
    for await (const tick of client.proxy(TickerService).ticks.with({ metadata: { 'last-event-id': '1' } })(4)) seqs.push(tick.seq);
    assert.deepEqual(seqs, [2, 3]);
  });

  it('writes a comment while the stream has nothing to send, so that proxies keep it open', async (t) => {
    const address = await start(t, '?sseHeartbeatMs=50');
    const res = await rawRequest(address, 'GET', `/test.Ticker/quiet?args=${encodeURIComponent('[300]')}`, { headers: events });
    assert.match(res.text, /^(: ping\n\n){2,}data: 1\n\nevent: end\ndata:\n\n$/);
  });

  it('lets pages of an allowed origin read the events (CORS), and answers their preflight for Last-Event-ID', async (t) => {
    const address = await start(t, '?cors=http://page.example');
    const res = await rawRequest(address, 'GET', '/ticks/1', { headers: { ...events, origin: 'http://page.example' } });
    assert.equal(res.headers['access-control-allow-origin'], 'http://page.example');
    const preflight = await rawRequest(address, 'OPTIONS', '/ticks/1', { headers: { origin: 'http://page.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'last-event-id' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-headers'], 'last-event-id');
  });
});
