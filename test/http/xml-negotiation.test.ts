import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineService } from '../../src/index.js';
import { prefersXml } from '../../src/transport/http/xml/negotiate.js';
import { postJson, rawRequest, startHttpClient, startHttpServer } from '../support/http.js';
import { argsBody, postXml, resultOf } from './xml-support.js';

interface Rooms {
  book(room: string, nights: number): Promise<string>;
  nothing(): Promise<void>;
  ticks(count: number): AsyncIterable<number>;
}
const RoomsService = defineService<Rooms>('test.Rooms', {
  methods: {
    book: { http: { method: 'PUT', path: '/rooms/{room}', params: ['room', 'nights'] } },
    nothing: {},
    ticks: { stream: 'server' },
  },
});

async function start(t: Parameters<typeof startHttpServer>[0]) {
  return startHttpServer(t, {
    setup: (server) => server.provide(RoomsService, {
      book: async (room, nights) => `${room} for ${nights} (${typeof nights})`,
      nothing: async () => undefined,
      async *ticks(count) {
        for (let i = 1; i <= count; i++) yield i;
      },
    }),
  });
}

test('Accept weighs XML against JSON by quality, then by how specific the range is, else the body decides', () => {
  assert.equal(prefersXml(undefined, false), false);
  assert.equal(prefersXml(undefined, true), true);
  assert.equal(prefersXml('application/xml', false), true);
  assert.equal(prefersXml('text/xml', false), true);
  assert.equal(prefersXml('*/*', true), true);
  assert.equal(prefersXml('*/*', false), false);
  assert.equal(prefersXml('application/json', true), false);
  assert.equal(prefersXml('application/json;q=0.5, application/xml', false), true);
  assert.equal(prefersXml('application/xml;q=0.2, application/json', true), false);
  assert.equal(prefersXml('application/*, application/xml;q=0.1', false), false);
  assert.equal(prefersXml('text/html', true), true);
});

test('an XML body is answered in XML, a JSON body with Accept: application/xml too, and each way back to JSON', async (t) => {
  const { address } = await start(t);
  const xml = await postXml(address, '/demo.Calculator/add', argsBody([1, 2]));
  assert.equal(xml.status, 200);
  assert.equal(xml.headers['content-type'], 'application/xml; charset=utf-8');
  assert.equal(resultOf(xml), 3);
  const accepted = await postJson(address, '/demo.Calculator/add', [1, 2], { accept: 'application/xml' });
  assert.equal(accepted.headers['content-type'], 'application/xml; charset=utf-8');
  assert.equal(resultOf(accepted), 3);
  const jsonBack = await postXml(address, '/demo.Calculator/add', argsBody([1, 2]), { accept: 'application/json' });
  assert.equal(jsonBack.headers['content-type'], 'application/json');
  assert.equal(jsonBack.json, 3);
  const plain = await postJson(address, '/demo.Calculator/add', [1, 2], { accept: '*/*' });
  assert.equal(plain.headers['content-type'], 'application/json');
  assert.equal(plain.json, 3);
});

test('errors of a method are answered in the negotiated form with the same status: XML <error> with code, name, message and typed details', async (t) => {
  const { address } = await start(t);
  const failed = await postXml(address, '/demo.Calculator/divide', argsBody([1, 0]));
  assert.equal(failed.status, 400);
  assert.match(failed.text, /<error [^>]*><code>INVALID_ARGUMENT<\/code><name>RpcError<\/name><message>[^<]*<\/message><details xsi:type="sy:object"><field>b<\/field><value xsi:type="xsd:double">0<\/value><\/details><\/error>/);
  // A path that names no method is refused before anything about the call is read: in JSON, as always.
  const missing = await postJson(address, '/demo.Nope/add', [], { accept: 'application/xml' });
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.json, { code: 'NOT_FOUND', name: 'RpcError', message: 'service "demo.Nope" is not provided here', details: {} });
  const undeclared = await postXml(address, '/demo.Calculator/nope', '<args/>');
  assert.equal(undeclared.status, 501);
  assert.equal((undeclared.json as { code: string }).code, 'UNIMPLEMENTED');
  const late = await postXml(address, '/demo.Calculator/slow', argsBody([5_000]), { 'x-switchyard-timeout-ms': '50' });
  assert.equal(late.status, 504);
  assert.match(late.text, /<code>DEADLINE_EXCEEDED<\/code>/);
});

test('a result of undefined is 204 over XML as over JSON; a one-way call is 202', async (t) => {
  const { address } = await start(t);
  const nothing = await postXml(address, '/test.Rooms/nothing', '<args/>');
  assert.equal(nothing.status, 204);
  const oneWay = await postXml(address, '/demo.Calculator/notify', argsBody([7]));
  assert.equal(oneWay.status, 202);
});

test('a body that is neither JSON nor XML is still 415, and SOAP content types are not taken as plain XML', async (t) => {
  const { address } = await start(t);
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/soap+xml']) {
    const response = await rawRequest(address, 'POST', '/demo.Calculator/add', { headers: { 'content-type': type }, body: '<args/>' });
    assert.equal(response.status, 415, type);
    assert.match(response.text, /must be application\/json/);
  }
});

test('a resource-style route takes an XML body whose root holds the params by name', async (t) => {
  const { address } = await start(t);
  const response = await rawRequest(address, 'PUT', '/rooms/blue', {
    headers: { 'content-type': 'application/xml' },
    body: '<booking xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><nights xsi:type="xsd:double">3</nights></booking>',
  });
  assert.equal(response.status, 200, response.text);
  assert.equal(resultOf(response), 'blue for 3 (number)');
});

test('a server stream asked for with an XML body still streams its items as NDJSON', async (t) => {
  const { address } = await start(t);
  const response = await postXml(address, '/test.Rooms/ticks', argsBody([3]));
  assert.equal(response.status, 200);
  assert.equal(response.headers['content-type'], 'application/x-ndjson');
  assert.equal(response.text, '{"value":1}\n{"value":2}\n{"value":3}\n');
});

test('JSON calls are untouched while XML calls run on the same server and connection pool', async (t) => {
  const { address } = await start(t);
  const { calc } = startHttpClient(t, address);
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0
    ? calc.add(i, 1)
    : postXml(address, '/demo.Calculator/add', argsBody([i, 1])).then(resultOf))));
  assert.deepEqual(results, Array.from({ length: 40 }, (_, i) => i + 1));
});
