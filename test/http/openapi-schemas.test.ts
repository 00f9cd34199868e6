// GET /openapi.json describes real types: from the methods' Standard Schemas and from .proto
// messages, as the HTTP transport's JSON carries them. The document must be valid OpenAPI, and
// what real calls send and receive must match what it says.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { jsonSerializer } from '../../src/serialization/json.js';
import { statusTable } from '../../src/transport/http/status-map.js';
import { postJson, rawRequest } from '../support/http.js';
import { schemaValidator, startDescribedServer, type Operation, type Schema } from './openapi-fixture.js';

const json = jsonSerializer();
const owner = { name: 'ann', email: 'ann@example.com' };

/** The path in the document of the JSON request body schema of `POST path`. */
const requestAt = (path: string) => ['paths', path, 'post', 'requestBody', 'content', 'application/json', 'schema'];
/** The path of the schema of a 200 answer of `verb path` in `media`. */
const okAt = (path: string, media = 'application/json', verb = 'post') => ['paths', path, verb, 'responses', '200', 'content', media, 'schema'];
const errorAt = (status: number) => ['components', 'responses', String(status), 'content', 'application/json', 'schema'];

/** Server-sent events as an EventSource reads them: `{ event?, id?, data }` each; comments skipped. */
function events(text: string): Array<Record<string, string>> {
  return text.split('\n\n').flatMap((block) => {
    const fields: Record<string, string> = {};
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const name = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      fields[name] = name === 'data' && fields.data !== undefined ? `${fields.data}\n${value}` : value;
    }
    return Object.keys(fields).length > 0 ? [fields] : [];
  });
}

const lines = (text: string) => text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as unknown);

describe('OpenAPI: the document describes the types of arguments and results', () => {
  it('is valid OpenAPI 3.1 by @seriousme/openapi-schema-validator, its schemas valid JSON Schema whose references resolve', async (t) => {
    const { doc } = await startDescribedServer(t);
    const result = await new Validator().validate(structuredClone(doc) as unknown as Record<string, unknown>);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1));
    assert.equal(doc.openapi, '3.1.0');
    // The OpenAPI schema takes any object for a schema: each is checked as JSON Schema 2020-12 too.
    assert.deepEqual(schemaValidator(doc).problems(), []);
  });

  it('types the argument list and result of methods with zod schemas, tagged values included', async (t) => {
    const { doc } = await startDescribedServer(t);
    const { schemas } = doc.components;
    const open = doc.paths['/demo.Ledger/open']!.post!;
    assert.equal(open.requestBody?.required, true);
    assert.deepEqual(open.requestBody?.content['application/json']!.schema, {
      type: 'array',
      prefixItems: [{ $ref: '#/components/schemas/Owner' }, { $ref: '#/components/schemas/switchyard.BigInt' }, { anyOf: [{ type: 'string' }, { $ref: '#/components/schemas/switchyard.Undefined' }] }],
      minItems: 2,
      maxItems: 3,
    });
    assert.deepEqual((schemas.Owner!.properties as Record<string, Schema>).name, { type: 'string', minLength: 1 });
    const account = schemas['demo.Ledger.open.result']!.properties as Record<string, Schema>;
    assert.deepEqual(open.responses['200']!.content!['application/json']!.schema, { $ref: '#/components/schemas/demo.Ledger.open.result' });
    assert.deepEqual([account.balance, account.openedAt, account.photo, account.labels].map((s) => s!.$ref), ['BigInt', 'Date', 'Bytes', 'Set'].map((n) => `#/components/schemas/switchyard.${n}`));
    assert.deepEqual(schemas['switchyard.BigInt']!.required, ['$bigint']);
    // One parameter: the bare value is an argument too.
    assert.deepEqual(doc.paths['/demo.Ledger/close']!.post!.requestBody!.content['application/json']!.schema, {
      anyOf: [{ type: 'array', prefixItems: [{ type: 'string', minLength: 1 }], minItems: 1, maxItems: 1 }, { type: 'string', minLength: 1 }],
    });
    // A recursive schema is a component that refers to itself.
    const folder = schemas['demo.Ledger.folders.result']!;
    assert.deepEqual((folder.properties as Record<string, Schema>).children, { type: 'array', items: { $ref: '#/components/schemas/demo.Ledger.folders.result' } });
    // valibot offers no JSON Schema, and a conversion that throws is not fatal: any JSON.
    for (const method of ['legacy', 'opaque']) {
      const list = (doc.paths[`/demo.Ledger/${method}`]!.post!.requestBody!.content['application/json']!.schema.anyOf as Schema[])[0]!;
      assert.deepEqual(list.prefixItems, [{}], method);
    }
    // Plain methods take and give any JSON.
    assert.deepEqual(doc.paths['/demo.Calculator/add']!.post!.requestBody!.content['application/json']!.schema, {});
  });

  it('describes streams, one-way methods and resource-style mappings with their media types', async (t) => {
    const { doc } = await startDescribedServer(t);
    const history = doc.paths['/demo.Ledger/history']!;
    assert.deepEqual(Object.keys(history.post!.responses['200']!.content!), ['application/x-ndjson', 'text/event-stream']);
    assert.ok(history.post!.parameters.some((p) => p.$ref === '#/components/parameters/metadata.last-event-id'));
    assert.equal(history.get!.parameters[0]!.name, 'args');
    assert.deepEqual(history.get!.parameters[0]!.content!['application/json']!.schema.minItems, 1);
    assert.deepEqual(Object.keys(doc.paths['/demo.Ledger/deposit']!.post!.requestBody!.content), ['application/x-ndjson']);
    const forget = doc.paths['/demo.Ledger/forget']!.post!;
    assert.ok(forget.responses['202'] && !forget.responses['200']);
    const rename = doc.paths['/accounts/{id}/name']!.put!;
    assert.deepEqual(rename.parameters[0], { name: 'id', in: 'path', required: true, description: rename.parameters[0]!.description, content: { 'application/json': { schema: { type: 'string', minLength: 1 } } } });
    assert.deepEqual(rename.requestBody!.content['application/json']!.schema, { type: 'object', properties: { name: { type: 'string', minLength: 1 } } });
  });

  it('describes .proto messages as the transport carries them: tagged 64-bit integers and bytes, enums by name, null sub-messages', async (t) => {
    const { doc } = await startDescribedServer(t);
    const { schemas } = doc.components;
    const getItem = doc.paths['/test.openapi.Inventory/getItem']!.post!;
    assert.equal(getItem.requestBody!.required, true);
    assert.deepEqual(getItem.responses['200']!.content!['application/json']!.schema, { $ref: '#/components/schemas/test.openapi.Item' });
    const request = schemas['test.openapi.GetItemRequestInit']!.properties as Record<string, Schema>;
    assert.deepEqual((request.id!.anyOf as Schema[]).map((s) => s.$ref ?? s.type), ['#/components/schemas/switchyard.BigInt', 'integer', 'string']);
    const item = schemas['test.openapi.Item']!;
    const fields = item.properties as Record<string, Schema>;
    assert.equal(fields.id!.$ref, '#/components/schemas/switchyard.BigInt');
    assert.equal(fields.thumbnail!.$ref, '#/components/schemas/switchyard.Bytes');
    assert.deepEqual(schemas['test.openapi.Kind'], { type: 'string', enum: ['KIND_UNSPECIFIED', 'BOOK', 'MUSIC'] });
    assert.deepEqual(fields.stock, { type: 'object', propertyNames: { type: 'string' }, additionalProperties: { $ref: '#/components/schemas/switchyard.BigInt' } });
    assert.deepEqual(fields.price, { anyOf: [{ $ref: '#/components/schemas/test.openapi.Price' }, { type: 'null' }] });
    assert.deepEqual(fields.parent, { anyOf: [{ $ref: '#/components/schemas/test.openapi.Item' }, { type: 'null' }] });
    assert.deepEqual(fields.source, { type: 'string', enum: ['url', 'inline'] });
    assert.ok(!(item.required as string[]).includes('price') && !(item.required as string[]).includes('url') && (item.required as string[]).includes('stock'));
    const timestamp = schemas['google.protobuf.Timestamp']!;
    assert.equal((timestamp.properties as Record<string, Schema>).seconds!.$ref, '#/components/schemas/switchyard.BigInt');
    assert.match(String(timestamp.description), /not in the special form of the proto3 JSON mapping/);
    assert.deepEqual(schemas['google.protobuf.Struct']!.properties, { fields: { type: 'object', propertyNames: { type: 'string' }, additionalProperties: { $ref: '#/components/schemas/google.protobuf.Value' } } });
    assert.deepEqual(doc.paths['/test.openapi.Inventory/upload']!.post!.requestBody!.content['application/x-ndjson']!.schema, { $ref: '#/components/schemas/test.openapi.ItemInit' });
  });

  it('describes the call headers, the credentials and every status a failed call is answered with', async (t) => {
    const { doc } = await startDescribedServer(t);
    const open = doc.paths['/demo.Ledger/open']!.post!;
    const version = open.parameters.find((p) => p.name === 'x-switchyard-version');
    assert.deepEqual(version?.schema, { type: 'string', enum: ['2.0.0'] });
    assert.deepEqual(doc.components.parameters.timeout!.schema, { type: 'integer', minimum: 0, maximum: 999_999_999_999 });
    assert.ok(open.parameters.some((p) => p.$ref === '#/components/parameters/oneWay'));
    assert.ok(!doc.paths['/demo.Ledger/history']!.post!.parameters.some((p) => p.$ref === '#/components/parameters/oneWay'), 'streams cannot be one-way');
    assert.deepEqual(doc.components.securitySchemes.bearer, { ...doc.components.securitySchemes.bearer, type: 'http', scheme: 'bearer' });
    assert.deepEqual(doc.security, [{}, { bearer: [] }]);
    for (const [code, status] of statusTable()) {
      if (code === 'OK') continue;
      assert.deepEqual(open.responses[String(status)], { $ref: `#/components/responses/${status}` }, code);
      const allowed = ((doc.components.responses[String(status)]!.content['application/json'].schema.allOf as Schema[])[1]!.properties as Record<string, Schema>).code!.enum;
      assert.ok((allowed as string[]).includes(code), `${status} carries ${code}`);
    }
    for (const status of [413, 415, 431]) assert.ok(open.responses[String(status)], `${status} is described`);
  });
});

describe('OpenAPI: real calls match the document', () => {
  it('zod-schema methods: the bodies a client sends and the results, with tagged values', async (t) => {
    const { address, doc } = await startDescribedServer(t);
    const schema = schemaValidator(doc);
    for (const args of [[owner, 100n], [owner, 5n, 'gift'], [owner, 5n, undefined]]) {
      const body = json.encode(args); // exactly what the Switchyard client sends
      schema.check(JSON.parse(new TextDecoder().decode(body)), ...requestAt('/demo.Ledger/open'));
      const res = await rawRequest(address, 'POST', '/demo.Ledger/open', { headers: { 'content-type': 'application/json' }, body });
      assert.equal(res.status, 200, res.text);
      schema.check(res.json, ...okAt('/demo.Ledger/open'));
    }
    // What the schema refuses, the server refuses: a number is not a bigint.
    assert.equal(schema.matches([owner, 5], ...requestAt('/demo.Ledger/open')), false);
    const refused = await postJson(address, '/demo.Ledger/open', [owner, 5]);
    assert.equal(refused.status, 400);
    schema.check(refused.json, ...errorAt(400));
    for (const body of ['a1', ['a1']]) {
      schema.check(body, ...requestAt('/demo.Ledger/close'));
      const res = await postJson(address, '/demo.Ledger/close', body);
      assert.equal(res.json, true);
      schema.check(res.json, ...okAt('/demo.Ledger/close'));
    }
    assert.equal(schema.matches([['a1']], ...requestAt('/demo.Ledger/close')), false, 'an array is the argument list, never the bare argument');
    const folders = await postJson(address, '/demo.Ledger/folders', []);
    schema.check(folders.json, ...okAt('/demo.Ledger/folders'));
    const renamed = await rawRequest(address, 'PUT', '/accounts/a1/name', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'savings' }) });
    assert.equal(renamed.json, 'a1 is now savings');
    schema.check(renamed.json, ...okAt('/accounts/{id}/name', 'application/json', 'put'));
  });

  it('streams: NDJSON lines, server-sent events and a request stream', async (t) => {
    const { address, doc } = await startDescribedServer(t);
    const schema = schemaValidator(doc);
    const ndjson = await postJson(address, '/demo.Ledger/history', ['a1', 2]);
    assert.equal(ndjson.headers['content-type'], 'application/x-ndjson');
    const items = lines(ndjson.text);
    assert.equal(items.length, 2);
    for (const line of items) schema.check(line, ...okAt('/demo.Ledger/history', 'application/x-ndjson'));
    const args = ['a1', 2];
    schema.check(args, 'paths', '/demo.Ledger/history', 'get', 'parameters', '0', 'content', 'application/json', 'schema');
    const sse = await rawRequest(address, 'GET', `/demo.Ledger/history?args=${encodeURIComponent(JSON.stringify(args))}`, { headers: { accept: 'text/event-stream' } });
    const received = events(sse.text);
    assert.deepEqual(received.map((event) => event.event ?? 'item'), ['item', 'item', 'end']);
    const eventSchema = [...okAt('/demo.Ledger/history', 'text/event-stream', 'get').slice(0, -1), 'x-event-schema'];
    for (const event of received) schema.check(event, ...eventSchema);
    schema.check(JSON.parse(received[0]!.data!), ...eventSchema, 'oneOf', '0', 'properties', 'data', 'contentSchema');
    const upload = [{ amount: 5, at: { $date: '2024-02-29T12:00:00.000Z' } }, { amount: 7, at: { $date: '2024-03-01T00:00:00.000Z' } }];
    for (const line of upload) schema.check(line, 'paths', '/demo.Ledger/deposit', 'post', 'requestBody', 'content', 'application/x-ndjson', 'schema');
    const deposit = await rawRequest(address, 'POST', '/demo.Ledger/deposit', { headers: { 'content-type': 'application/x-ndjson' }, body: upload.map((line) => `${JSON.stringify(line)}\n`) });
    assert.deepEqual(deposit.json, { count: 2, total: 12 });
    schema.check(deposit.json, ...okAt('/demo.Ledger/deposit'));
  });

  it('.proto methods: requests in each form the server takes, and the messages it answers', async (t) => {
    const { address, doc } = await startDescribedServer(t);
    const schema = schemaValidator(doc);
    for (const body of [{ id: '12' }, { id: 12, locale: 'en' }, [{ id: { $bigint: '12' } }]]) {
      schema.check(body, ...requestAt('/test.openapi.Inventory/getItem'));
      const res = await postJson(address, '/test.openapi.Inventory/getItem', body);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual((res.json as { id: unknown }).id, { $bigint: '12' });
      schema.check(res.json, ...okAt('/test.openapi.Inventory/getItem'));
    }
    assert.equal(schema.matches({ id: 1.5 }, ...requestAt('/test.openapi.Inventory/getItem')), false);
    assert.equal((await postJson(address, '/test.openapi.Inventory/getItem', { id: 1.5 })).status, 400);
    const watch = await postJson(address, '/test.openapi.Inventory/watch', { id: '3' });
    for (const line of lines(watch.text)) schema.check(line, ...okAt('/test.openapi.Inventory/watch', 'application/x-ndjson'));
    const sent = [{ id: '1', kind: 2, thumbnail: { $bytes: 'AQI=' } }, { title: 'x', price: null, url: 'https://example.com' }];
    for (const line of sent) schema.check(line, 'paths', '/test.openapi.Inventory/upload', 'post', 'requestBody', 'content', 'application/x-ndjson', 'schema');
    const upload = await rawRequest(address, 'POST', '/test.openapi.Inventory/upload', { headers: { 'content-type': 'application/x-ndjson' }, body: sent.map((line) => `${JSON.stringify(line)}\n`) });
    assert.deepEqual(upload.json, { count: { $bigint: '2' } });
    schema.check(upload.json, ...okAt('/test.openapi.Inventory/upload'));
    const ping = await postJson(address, '/test.openapi.Inventory/ping', {});
    schema.check(ping.json, ...okAt('/test.openapi.Inventory/ping'));
  });

  it('errors: each body matches the response of its status, plain methods included', async (t) => {
    const { address, doc } = await startDescribedServer(t);
    const schema = schemaValidator(doc);
    const cases: Array<[number, Promise<{ status: number; json: unknown }>]> = [
      [400, postJson(address, '/demo.Calculator/divide', [1, 0])],
      [404, postJson(address, '/demo.Ledger/close', ['a1'], { 'x-switchyard-version': '9.9.9' })],
      [415, rawRequest(address, 'POST', '/demo.Ledger/close', { headers: { 'content-type': 'text/plain' }, body: 'a1' })],
      [504, postJson(address, '/demo.Calculator/slow', [1000], { 'x-switchyard-timeout-ms': '20' })],
    ];
    for (const [status, answer] of cases) {
      const res = await answer;
      assert.equal(res.status, status);
      schema.check(res.json, ...errorAt(status));
      assert.equal(schema.matches(res.json, ...errorAt(status === 404 ? 400 : 404)), false, 'each status names its own codes');
    }
    const operation: Operation = doc.paths['/demo.Calculator/divide']!.post!;
    assert.ok(operation.responses['400'] && operation.responses.default);
  });
});
