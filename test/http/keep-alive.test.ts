import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { defineService } from '../../src/index.js';
import { mulberry32 } from '../support/random.js';
import { chunked, RawHttpConnection, startHttpServer } from '../support/http.js';

const json = { 'content-type': 'application/json' };

interface Things {
  get(id: string): Promise<string>;
  remove(id: string): Promise<string>;
}
const ThingsService = defineService<Things>('demo.Things', {
  methods: {
    get: { http: { method: 'GET', path: '/things/{id}', params: ['id'] } },
    remove: { http: { method: 'DELETE', path: '/things/{id}', params: ['id'] } },
  },
});
const things: Things = {
  async get(id) {
    return `thing ${id}`;
  },
  async remove(id) {
    return `removed ${id}`;
  },
};

async function connect(t: TestContext, address: string): Promise<RawHttpConnection> {
  const connection = await RawHttpConnection.connect(address);
  t.after(() => connection.destroy());
  return connection;
}

describe('HTTP server: refused requests with bodies keep their connection', () => {
  it('answers pipelined refused requests with bodies in order and serves the next request on the same connection', async (t) => {
    const { address } = await startHttpServer(t, { query: 'cors=http://app.example', setup: (server) => server.provide(ThingsService, things) });
    const connection = await connect(t, address);
    connection.send('GET', '/demo.Calculator/add', { ...json, 'content-length': 5 }, '[1,2]');
    connection.send('DELETE', '/demo.Calculator/add', { ...json, 'transfer-encoding': 'chunked' }, chunked('[1,', '2]'));
    connection.send('HEAD', '/demo.Calculator/add', { ...json, 'content-length': 5 }, '[1,2]');
    connection.send('OPTIONS', '/demo.Calculator/add', { ...json, 'content-length': 5 }, '[1,2]');
    connection.send('GET', '/nowhere', { 'content-length': 3 }, 'abc');
    connection.send('POST', '/demo.Calculator/add', { 'content-type': 'text/plain', 'content-length': 5 }, '[1,2]');
    connection.send('OPTIONS', '/demo.Calculator/add', { origin: 'http://evil.example', 'access-control-request-method': 'POST', 'content-length': 2 }, '{}');
    connection.send('GET', '/openapi.json', { 'content-length': 2 }, '{}');
    connection.send('PATCH', '/things/7', { ...json, 'transfer-encoding': 'chunked' }, chunked('{"id":', '8}'));
    connection.send('POST', '/demo.Calculator/add', { ...json, 'content-length': 5 }, '[2,3]');
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await connection.next());
    assert.deepEqual(answers.map((answer) => answer.status), [405, 405, 405, 405, 404, 415, 403, 200, 405, 200]);
    for (const answer of answers.slice(0, 4)) assert.equal(answer.headers.allow, 'POST');
    assert.equal(answers[8]!.headers.allow, 'GET, DELETE');
    assert.match(answers[0]!.body, /"code":"UNIMPLEMENTED"/);
    assert.equal(answers[2]!.body, ''); // HEAD
    assert.equal(answers[9]!.body, '5');
    for (const answer of answers) assert.notEqual(answer.headers.connection, 'close');

    // Still the same connection, still open, after a pause.
    await new Promise((resolve) => setTimeout(resolve, 50));
    connection.send('POST', '/demo.Calculator/add', { ...json, 'content-length': 5 }, '[4,5]');
    assert.equal((await connection.next()).body, '9');
    assert.equal(connection.ended, false);
    assert.equal(connection.error, undefined);
  });

  it('keeps an idle connection open for keepAliveTimeoutMs, says so in keep-alive, then closes it', async (t) => {
    const { address } = await startHttpServer(t, { query: 'keepAliveTimeoutMs=2000' });
    const connection = await connect(t, address);
    connection.send('POST', '/demo.Calculator/add', { ...json, 'content-length': 5 }, '[1,2]');
    const answer = await connection.next();
    assert.equal(answer.body, '3');
    assert.equal(answer.headers['keep-alive'], 'timeout=2');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(connection.closed, false, 'still open halfway through the idle time');
    await connection.whenClosed(10_000);
    assert.equal(connection.closed, true);
    assert.equal(connection.error, undefined);
  });

  it('answers a refused body over the limit with 413 and closes the connection gracefully, without a reset', async (t) => {
    const { address } = await startHttpServer(t, { query: 'maxBodyBytes=1024' });
    const big = Buffer.alloc(256 * 1024, 'x');
    // declared too large, sent anyway (a client that does not wait for an answer)
    const declared = await connect(t, address);
    declared.send('GET', '/demo.Calculator/add', { ...json, 'content-length': big.length }, big);
    declared.send('POST', '/demo.Calculator/add', { ...json, 'content-length': 5 }, '[1,2]');
    // chunked, growing past the limit: on a refused route and on a method's own route
    const refused = await connect(t, address);
    refused.send('DELETE', '/demo.Calculator/add', { ...json, 'transfer-encoding': 'chunked' }, chunked(...Array.from({ length: 64 }, () => 'y'.repeat(4096))));
    const accepted = await connect(t, address);
    accepted.send('POST', '/demo.Calculator/add', { ...json, 'transfer-encoding': 'chunked' }, chunked(...Array.from({ length: 64 }, () => 'z'.repeat(4096))));
    for (const connection of [declared, refused, accepted]) {
      const answer = await connection.next();
      assert.equal(answer.status, 413);
      assert.equal(answer.headers.connection, 'close');
      assert.match(answer.body, /"code":"RESOURCE_EXHAUSTED"/);
      await connection.whenClosed();
      assert.equal(connection.closed, true);
      assert.equal(connection.ended, true, 'closed with FIN');
      assert.equal(connection.error, undefined, `closed with ${connection.error?.code ?? 'no error'}`);
    }
    // The request pipelined behind the 413 was not run.
    await assert.rejects(declared.next(100), /closed without a response/);
  });

  it('answers every one of a few hundred random requests on keep-alive connections, with no connection reset', async (t) => {
    const { address } = await startHttpServer(t, { query: 'maxBodyBytes=4096', setup: (server) => server.provide(ThingsService, things) });
    const random = mulberry32(20261204);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const methods = ['GET', 'HEAD', 'DELETE', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'POST'];
    const paths = ['/demo.Calculator/add', '/demo.Calculator/nope', '/demo.Nothing/add', '/nowhere', '/a/b/c', '/openapi.json', '/things/7', '/things/7/more'];
    const bodies = ['none', 'length', 'chunked', 'length', 'chunked', 'too long', 'too long chunked'] as const;
    const statuses = new Map<number, number>();
    let reconnects = 0;

    /** One connection after another, each carrying requests one at a time until an answer closes it. */
    const client = async (requests: number) => {
      let connection = await connect(t, address);
      for (let i = 0; i < requests; i++) {
        const method = pick(methods);
        const path = pick(paths);
        const body = pick(bodies);
        const text = body.startsWith('too long') ? `[${'1,'.repeat(3000)}1]` : '[1,2]';
        const wire = body === 'none' ? '' : body.includes('chunked') ? chunked(text.slice(0, 3), text.slice(3)) : text;
        const headers: Record<string, string | number> = { 'content-type': pick(['application/json', 'text/plain']) };
        if (body === 'length' || body === 'too long') headers['content-length'] = Buffer.byteLength(text);
        if (body.includes('chunked')) headers['transfer-encoding'] = 'chunked';
        // The body's end comes a little later, as from a client on a real network.
        connection.send(method, path, headers, wire.slice(0, 4));
        if (wire.length > 4) setTimeout(() => connection.socket.write(wire.slice(4)), 2);
        const answer = await connection.next();
        const where = `${method} ${path} (${body}): ${answer.status}`;
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        if (answer.headers.connection === 'close') {
          assert.equal(answer.status, 413, `only a body over the limit closes the connection, not ${where}`);
          await connection.whenClosed();
          assert.equal(connection.error, undefined, `${where}, then ${connection.error?.code}`);
          connection = await connect(t, address);
          reconnects++;
        }
        assert.equal(connection.error, undefined, where);
      }
    };
    await Promise.all([client(75), client(75), client(75), client(75)]);
    assert.equal([...statuses.values()].reduce((a, b) => a + b, 0), 300);
    assert.equal(reconnects, statuses.get(413));
    for (const status of [200, 404, 405, 413, 415]) assert.ok(statuses.has(status), `no ${status} among ${[...statuses.keys()].join(', ')}`);
  });
});
