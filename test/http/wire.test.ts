import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { Code, codeName, defineService, RpcError } from '../../src/index.js';
import { statusOf } from '../../src/transport/http/status-map.js';
import { waitUntil } from '../support/calculator.js';
import { postJson, rawRequest, startHttpServer } from '../support/http.js';

const json = { 'content-type': 'application/json' };

interface Thrower {
  throwCode(code: number): Promise<never>;
}
const ThrowerService = defineService<Thrower>('demo.Thrower', { methods: { throwCode: {} } });

describe('HTTP transport on the wire: requests as curl or any HTTP client sends them', () => {
  it('reads a JSON array body as the arguments and any other JSON value as the single argument', async (t) => {
    const { address } = await startHttpServer(t);
    const add = await postJson(address, '/demo.Calculator/add', [2, 3]);
    assert.equal(add.status, 200);
    assert.equal(add.headers['content-type'], 'application/json');
    assert.equal(add.json, 5);
    const slow = await postJson(address, '/demo.Calculator/slow', 5);
    assert.equal(slow.json, 5);
    const echo = await postJson(address, '/demo.Calculator/echo', { $bytes: 'AQL/' });
    assert.deepEqual(echo.json, { $bytes: 'AQL/' });
  });

  it('reads no body as no arguments, and answers a method that returns nothing with 204', async (t) => {
    const { address, log } = await startHttpServer(t);
    const fail = await rawRequest(address, 'POST', '/demo.Calculator/fail');
    assert.equal(fail.status, 500);
    assert.deepEqual(fail.json, { code: 'UNKNOWN', name: 'QuotaError', message: 'quota of 10 calls exceeded', details: {} });
    assert.deepEqual(log.calls[0]!.args, []);
    const notify = await postJson(address, '/demo.Calculator/notify', [4]);
    assert.equal(notify.status, 202); // a one-way method: accepted, no result
  });

  it('picks the version and group from headers, and the only version when none is named', async (t) => {
    const { address } = await startHttpServer(t);
    assert.equal((await postJson(address, '/demo.Calculator/add', [1, 1], { 'x-switchyard-version': '1.0.0' })).json, 2);
    const wrong = await postJson(address, '/demo.Calculator/add', [1, 1], { 'x-switchyard-version': '2.0.0' });
    assert.equal(wrong.status, 404);
    assert.equal((wrong.json as { code: string }).code, 'NOT_FOUND');
    assert.match((wrong.json as { message: string }).message, /demo\.Calculator:1\.0\.0/);
    const grouped = await postJson(address, '/demo.Calculator/add', [1, 1], { 'x-switchyard-group': 'blue' });
    assert.equal(grouped.status, 404);
  });

  it('answers every code with the status of its row in the table, and the code by name in the body', async (t) => {
    const { address } = await startHttpServer(t, {
      setup: (server) => server.provide(ThrowerService, {
        async throwCode(code) {
          throw new RpcError(code as Code, `thrown ${codeName(code)}`, { details: { code } });
        },
      }),
    });
    for (const code of Object.values(Code).filter((c) => c !== Code.OK)) {
      const res = await postJson(address, '/demo.Thrower/throwCode', [code]);
      assert.equal(res.status, statusOf(code), codeName(code));
      assert.deepEqual(res.json, { code: codeName(code), name: 'RpcError', message: `thrown ${codeName(code)}`, details: { code } });
    }
  });

  it('refuses bodies that are not JSON: wrong content type 415, malformed JSON 400', async (t) => {
    const { address, log } = await startHttpServer(t);
    const plain = await rawRequest(address, 'POST', '/demo.Calculator/add', { headers: { 'content-type': 'text/plain' }, body: '[1,2]' });
    assert.equal(plain.status, 415);
    assert.equal((plain.json as { code: string }).code, 'INVALID_ARGUMENT');
    const form = await rawRequest(address, 'POST', '/demo.Calculator/add', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
    assert.equal(form.status, 415);
    const broken = await rawRequest(address, 'POST', '/demo.Calculator/add', { headers: json, body: '[1,' });
    assert.equal(broken.status, 400);
    assert.match((broken.json as { message: string }).message, /cannot decode arguments/);
    const notUtf8 = await rawRequest(address, 'POST', '/demo.Calculator/add', { headers: json, body: new Uint8Array([0x5b, 0xff, 0x5d]) });
    assert.equal(notUtf8.status, 400);
    assert.equal(log.calls.length, 0);
  });

  it('limits the body: a declared length over the limit and a chunked body that grows past it both get 413', async (t) => {
    const { address, log } = await startHttpServer(t, { query: 'maxBodyBytes=1024' });
    const declared = await rawRequest(address, 'POST', '/demo.Calculator/echo', { headers: { ...json, 'content-length': '4096' }, body: 'x'.repeat(4096) });
    assert.equal(declared.status, 413);
    assert.equal((declared.json as { code: string }).code, 'RESOURCE_EXHAUSTED');
    assert.equal(declared.headers.connection, 'close');
    const chunk = `"${'y'.repeat(600)}`;
    const chunked = await rawRequest(address, 'POST', '/demo.Calculator/echo', { headers: json, body: [chunk, chunk, chunk, '"'] });
    assert.equal(chunked.status, 413);
    assert.equal(log.calls.length, 0);
    const fits = await postJson(address, '/demo.Calculator/echo', 'z'.repeat(1000));
    assert.equal(fits.status, 200);
  });

  it('never resolves names every object has: __proto__, constructor, toString', async (t) => {
    const { address } = await startHttpServer(t);
    for (const path of ['/__proto__/add', '/constructor/add', '/demo.Calculator/__proto__', '/demo.Calculator/constructor', '/demo.Calculator/toString', '/demo.Calculator/hasOwnProperty', '/%5F%5Fproto%5F%5F/x']) {
      const res = await postJson(address, path, [1, 2]);
      assert.ok(res.status === 404 || res.status === 501, `${path}: ${res.status}`);
      assert.ok(['NOT_FOUND', 'UNIMPLEMENTED'].includes((res.json as { code: string }).code), path);
    }
    const proto = await postJson(address, '/demo.Calculator/add', [1, 2], { 'sy-meta-__proto__': 'x' });
    assert.equal(proto.json, 3);
    assert.equal((await postJson(address, '/demo.Calculator/add', [1, 1])).json, 2);
  });

  it('answers unknown paths with 404, other verbs on a method with 405, bad escapes with 400', async (t) => {
    const { address } = await startHttpServer(t);
    for (const path of ['/', '/demo.Calculator', '/a/b/c', '//add']) {
      const res = await rawRequest(address, 'POST', path);
      assert.equal(res.status, 404, path);
      assert.equal((res.json as { code: string }).code, 'NOT_FOUND');
    }
    const get = await rawRequest(address, 'GET', '/demo.Calculator/add');
    assert.equal(get.status, 405);
    assert.equal(get.headers.allow, 'POST');
    assert.equal((get.json as { code: string }).code, 'UNIMPLEMENTED');
    const escape = await rawRequest(address, 'POST', '/demo.Calculator/%E0%A4%A');
    assert.equal(escape.status, 400);
  });

  it('takes the deadline from x-switchyard-timeout-ms and answers 504 when it passes', async (t) => {
    const { address, log } = await startHttpServer(t);
    const started = Date.now();
    const late = await postJson(address, '/demo.Calculator/slow', [5000], { 'x-switchyard-timeout-ms': '100' });
    assert.equal(late.status, 504);
    assert.equal((late.json as { code: string }).code, 'DEADLINE_EXCEEDED');
    assert.ok(Date.now() - started < 3000);
    assert.equal(log.slow[0]!.aborted, true);
    assert.equal((await postJson(address, '/demo.Calculator/add', [1, 2], { 'x-switchyard-timeout-ms': '0' })).status, 504);
    const bad = await postJson(address, '/demo.Calculator/add', [1, 2], { 'x-switchyard-timeout-ms': 'soon' });
    assert.equal(bad.status, 400);
  });

  it('answers 504 at the deadline whether the handler watches its signal or never settles', async (t) => {
    const Stuck = defineService<{ stuck(): Promise<never> }>('demo.Stuck', { methods: { stuck: {} } });
    const { address } = await startHttpServer(t, { setup: (server) => server.provide(Stuck, { stuck: () => new Promise<never>(() => {}) }) });
    for (let i = 0; i < 10; i++) {
      const watched = await postJson(address, '/demo.Calculator/slow', [5000], { 'x-switchyard-timeout-ms': String(5 + i) });
      assert.equal(watched.status, 504);
      const ignored = await postJson(address, '/demo.Stuck/stuck', [], { 'x-switchyard-timeout-ms': String(5 + i) });
      assert.equal(ignored.status, 504);
    }
  });

  it('reads metadata from sy-meta-* headers (binary as -bin base64) and refuses malformed ones', async (t) => {
    const { address, log } = await startHttpServer(t);
    const ok = await postJson(address, '/demo.Calculator/add', [1, 2], { 'sy-meta-x-tenant': 'acme', 'sy-meta-blob-bin': 'AQID', 'sy-meta-a%2fb': 'slash', 'user-agent': 'test' });
    assert.equal(ok.status, 200);
    const metadata = log.calls[0]!.metadata;
    assert.equal(metadata.get('x-tenant'), 'acme');
    assert.deepEqual([...(metadata.get('blob') as Uint8Array)], [1, 2, 3]);
    assert.equal(metadata.get('a/b'), 'slash');
    assert.equal(metadata.has('user-agent'), false);
    const bad = await postJson(address, '/demo.Calculator/add', [1, 2], { 'sy-meta-blob-bin': 'not base64!' });
    assert.equal(bad.status, 400);
    assert.equal((bad.json as { code: string }).code, 'INVALID_ARGUMENT');
  });

  it('survives garbage, oversized headers and clients that vanish mid-body', async (t) => {
    const { address, log } = await startHttpServer(t);
    const { hostname, port } = new URL(address);
    const exchange = (bytes: string, endAfterWrite = false) => new Promise<string>((resolve) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(bytes);
        if (endAfterWrite) socket.destroy();
      });
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      socket.on('close', () => resolve(answer));
      socket.on('error', () => resolve(answer));
      setTimeout(() => socket.destroy(), 1000);
    });
    assert.match(await exchange('\x00\x01 not http at all\r\n\r\n'), /^HTTP\/1\.1 400/);
    assert.match(await exchange(`POST /demo.Calculator/add HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`), /^HTTP\/1\.1 431/);
    await exchange('POST /demo.Calculator/add HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n[1,', true);
    await exchange('POST /demo.Calculator/add HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n');
    assert.equal(log.calls.length, 0);
    assert.equal((await postJson(address, '/demo.Calculator/add', [20, 22])).json, 42);
    await waitUntil(() => log.calls.length === 1);
  });

  it('streams a server-streaming method as JSON lines', async (t) => {
    const Ticks = defineService<{ ticks(n: number): AsyncIterable<number> }>('demo.Ticks', { methods: { ticks: { stream: 'server' } } });
    const { address } = await startHttpServer(t, {
      setup: (server) => server.provide(Ticks, {
        async *ticks(n) {
          for (let i = 1; i <= n; i++) yield i;
          throw new Error('ran dry');
        },
      }),
    });
    const res = await postJson(address, '/demo.Ticks/ticks', 3);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/x-ndjson');
    const lines = res.text.trim().split('\n').map((line) => JSON.parse(line) as unknown);
    assert.deepEqual(lines.slice(0, 3), [{ value: 1 }, { value: 2 }, { value: 3 }]);
    assert.deepEqual(lines[3], { error: { code: 'UNKNOWN', name: 'Error', message: 'ran dry', details: {} } });
  });
});
