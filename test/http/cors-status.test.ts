import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, codeName, currentCall, defineService } from '../../src/index.js';
import { decodeError } from '../../src/transport/http/errors.js';
import { codeOf, statusOf, statusTable } from '../../src/transport/http/status-map.js';
import { postJson, rawRequest, startHttpServer } from '../support/http.js';

const app = 'http://app.example';

function preflight(address: string, origin: string, headers: string) {
  return rawRequest(address, 'OPTIONS', '/demo.Calculator/add', {
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': headers },
  });
}

const Tagged = defineService<{ tag(): Promise<string> }>('demo.Tagged', { methods: { tag: {} } });

describe('HTTP transport: CORS', () => {
  it('answers a preflight from an allowed origin with the methods and the allowed headers only', async (t) => {
    const { address } = await startHttpServer(t, { query: `cors=${app},http://other.example&corsHeaders=authorization&corsMaxAge=60` });
    const res = await preflight(address, app, 'content-type, x-switchyard-timeout-ms, sy-meta-x-tenant, authorization, x-evil');
    assert.equal(res.status, 204);
    assert.equal(res.headers['access-control-allow-origin'], app);
    assert.equal(res.headers.vary, 'Origin');
    assert.match(String(res.headers['access-control-allow-methods']), /POST/);
    assert.equal(res.headers['access-control-allow-headers'], 'content-type, x-switchyard-timeout-ms, sy-meta-x-tenant, authorization');
    assert.equal(res.headers['access-control-max-age'], '60');
  });

  it('refuses a preflight from another origin, and one to a server without CORS, with 403', async (t) => {
    const { address } = await startHttpServer(t, { query: `cors=${app}` });
    const other = await preflight(address, 'http://evil.example', 'content-type');
    assert.equal(other.status, 403);
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    assert.equal((other.json as { code: string }).code, 'PERMISSION_DENIED');
    const plain = await startHttpServer(t);
    assert.equal((await preflight(plain.address, app, 'content-type')).status, 403);
    const call = await postJson(plain.address, '/demo.Calculator/add', [1, 2], { origin: app });
    assert.equal(call.headers['access-control-allow-origin'], undefined);
  });

  it('marks answers to allowed origins and exposes the response metadata headers to scripts', async (t) => {
    const { address } = await startHttpServer(t, {
      query: `cors=${app}&corsExpose=x-request-id`,
      setup: (server) => server.provide(Tagged, {
        async tag() {
          currentCall().responseMetadata.set('x-served-by', 'a');
          return 'ok';
        },
      }),
    });
    const res = await postJson(address, '/demo.Tagged/tag', [], { origin: app });
    assert.equal(res.json, 'ok');
    assert.equal(res.headers['access-control-allow-origin'], app);
    assert.equal(res.headers['access-control-expose-headers'], 'sy-meta-x-served-by, x-request-id');
    const error = await postJson(address, '/demo.Nothing/x', [], { origin: app });
    assert.equal(error.status, 404);
    assert.equal(error.headers['access-control-allow-origin'], app, 'errors are readable by the page too');
  });

  it('answers * for any origin, and echoes the origin when credentials are allowed', async (t) => {
    const any = await startHttpServer(t, { query: 'cors=*' });
    assert.equal((await postJson(any.address, '/demo.Calculator/add', [1, 2], { origin: 'http://x.example' })).headers['access-control-allow-origin'], '*');
    const credentialed = await startHttpServer(t, { query: 'cors=*&corsCredentials=true' });
    const res = await postJson(credentialed.address, '/demo.Calculator/add', [1, 2], { origin: 'http://x.example' });
    assert.equal(res.headers['access-control-allow-origin'], 'http://x.example');
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
  });

  it('refuses unknown or malformed listen options', async (t) => {
    await assert.rejects(startHttpServer(t, { query: 'corz=*' }), /unknown option "corz"/);
    await assert.rejects(startHttpServer(t, { query: 'maxBodyBytes=lots' }), /maxBodyBytes must be a whole number/);
  });
});

describe('HTTP transport: the code ↔ status table', () => {
  it('gives every code a status, and reads each status back as its code (500 as INTERNAL)', () => {
    const codes = Object.values(Code);
    assert.deepEqual(new Set(statusTable().map(([name]) => name)), new Set(codes.map(codeName)));
    for (const code of codes.filter((c) => c !== Code.OK)) {
      const expected = code === Code.UNKNOWN ? Code.INTERNAL : code;
      assert.equal(codeOf(statusOf(code)), expected, codeName(code));
    }
    assert.equal(statusOf(Code.NOT_FOUND), 404);
    assert.equal(statusOf(Code.DEADLINE_EXCEEDED), 504);
    assert.equal(statusOf(Code.RESOURCE_EXHAUSTED), 429);
    assert.equal(codeOf(413), Code.RESOURCE_EXHAUSTED);
    assert.equal(codeOf(502), Code.UNAVAILABLE);
    assert.equal(codeOf(418), Code.UNKNOWN);
    assert.equal(codeOf(200), Code.OK);
  });

  it('never answers a failed call with a success status: OK and codes in no row are 500', () => {
    assert.equal(statusOf(Code.OK), 500);
    assert.equal(statusOf(999 as Code), 500);
    assert.equal(statusOf(-1 as Code), 500);
  });

  it('prefers the code of a Switchyard error body over the status, and falls back to the table', () => {
    const body = new TextEncoder().encode(JSON.stringify({ code: 'UNKNOWN', name: 'QuotaError', message: 'no', details: { n: 1 } }));
    const fromBody = decodeError(500, 'Internal Server Error', body, true);
    assert.equal(fromBody.code, Code.UNKNOWN);
    assert.equal(fromBody.name, 'QuotaError');
    assert.deepEqual(fromBody.details, { n: 1 });
    const page = decodeError(502, 'Bad Gateway', new TextEncoder().encode('<html>upstream down</html>'), false);
    assert.equal(page.code, Code.UNAVAILABLE);
    assert.match(page.message, /HTTP 502 Bad Gateway: <html>upstream down/);
  });
});
