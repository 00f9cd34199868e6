import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, createServer, currentCall, defineService, type RpcError, type Server } from '../../src/index.js';
import { postJson, rawRequest, startHttpServer } from '../support/http.js';

interface Shop {
  add(a: number, b: number): Promise<number>;
  price(item: string, qty: unknown): Promise<string>;
  order(item: string, qty: number, note?: string): Promise<string>;
  cancel(id: string): Promise<string>;
  reset(): Promise<string>;
}

const ShopService = defineService<Shop>('demo.Shop', {
  version: '2.1.0',
  methods: {
    add: { http: { method: 'GET', path: '/calculator/add', params: ['a', 'b'] } },
    price: { http: { method: 'GET', path: '/shop/items/{item}/price', params: ['item', 'qty'] } },
    order: { http: { method: 'POST', path: '/shop/orders', params: ['item', 'qty', 'note'] } },
    cancel: { http: { method: 'DELETE', path: '/shop/orders/{id}', params: ['id'] } },
    reset: { http: { method: 'PUT', path: '/shop/state' } },
  },
});

const shop: Shop = {
  async add(a, b) {
    return a + b;
  },
  async price(item, qty) {
    return `${item} x ${JSON.stringify(qty)}`;
  },
  async order(item, qty, note) {
    return `${qty} ${item}${note === undefined ? '' : ` (${note})`}`;
  },
  async cancel(id) {
    return `cancelled ${id} for ${String(currentCall().metadata.get('x-user'))}`;
  },
  async reset() {
    return 'reset';
  },
};

const withShop = { setup: (server: Server) => void server.provide(ShopService, shop) };

describe('HTTP transport: resource-style mappings and the OpenAPI description', () => {
  it('maps query parameters to arguments by name, reading JSON values and leaving other text as strings', async (t) => {
    const { address } = await startHttpServer(t, withShop);
    const add = await rawRequest(address, 'GET', '/calculator/add?a=1&b=2');
    assert.equal(add.status, 200);
    assert.equal(add.json, 3);
    const price = await rawRequest(address, 'GET', '/shop/items/green%20tea/price?qty=01');
    assert.equal(price.json, 'green tea x "01"');
    const quoted = await rawRequest(address, 'GET', '/shop/items/7/price?qty=%222%22');
    assert.equal(quoted.json, '7 x "2"');
    const missing = await rawRequest(address, 'GET', '/shop/items/tea/price');
    assert.equal(missing.json, 'tea x undefined');
  });

  it('fills params from the path, then the query, then the JSON body object', async (t) => {
    const { address } = await startHttpServer(t, withShop);
    const order = await postJson(address, '/shop/orders?note=gift', { item: 'tea', qty: 2 });
    assert.equal(order.json, '2 tea (gift)');
    const notObject = await postJson(address, '/shop/orders', ['tea', 2]);
    assert.equal(notObject.status, 400);
    assert.equal((notObject.json as { code: string }).code, 'INVALID_ARGUMENT');
    const cancel = await rawRequest(address, 'DELETE', '/shop/orders/42', { headers: { 'sy-meta-x-user': 'ann' } });
    assert.equal(cancel.json, 'cancelled 42 for ann');
    const reset = await rawRequest(address, 'PUT', '/shop/state');
    assert.equal(reset.json, 'reset');
  });

  it('keeps POST /<service>/<method> for mapped methods, and refuses other verbs on a mapped path', async (t) => {
    const { address } = await startHttpServer(t, withShop);
    assert.equal((await postJson(address, '/demo.Shop/add', [4, 5])).json, 9);
    const wrongVerb = await rawRequest(address, 'PATCH', '/calculator/add');
    assert.equal(wrongVerb.status, 405);
    assert.equal(wrongVerb.headers.allow, 'GET');
    const templated = await rawRequest(address, 'GET', '/shop/orders/42');
    assert.equal(templated.status, 405);
    assert.equal(templated.headers.allow, 'DELETE');
  });

  it('refuses invalid or conflicting mappings when the server starts', async () => {
    const Bad = defineService<{ a(x: number): Promise<number> }>('demo.Bad', { methods: { a: { http: { method: 'GET', path: '/bad/{x}' } } } });
    const badServer = createServer({ listen: ['http://127.0.0.1:0'], registry: false }).provide(Bad, { a: async (x) => x });
    await assert.rejects(badServer.listen(), (error: RpcError) => error.code === Code.INVALID_ARGUMENT && /\{x\} is not one of params/.test(error.message));
    await badServer.close();
    const Twice = defineService<{ a(): Promise<number>; b(): Promise<number> }>('demo.Twice', {
      methods: { a: { http: { method: 'GET', path: '/same' } }, b: { http: { method: 'GET', path: '/same' } } },
    });
    const twice = createServer({ listen: ['http://127.0.0.1:0'], registry: false }).provide(Twice, { a: async () => 1, b: async () => 2 });
    await assert.rejects(twice.listen(), /already taken by demo\.Twice\.a/);
    await twice.close();
  });

  it('describes every method in GET /openapi.json (OpenAPI 3.1)', async (t) => {
    const { address } = await startHttpServer(t, withShop);
    const res = await rawRequest(address, 'GET', '/openapi.json');
    assert.equal(res.status, 200);
    const doc = res.json as { openapi: string; paths: Record<string, Record<string, { operationId: string; parameters?: Array<{ name: string; in: string; required: boolean; schema?: { enum?: string[] } }>; responses: Record<string, unknown> }>> };
    assert.equal(doc.openapi, '3.1.0');
    for (const path of ['/demo.Calculator/add', '/demo.Calculator/echo', '/demo.Shop/order', '/calculator/add', '/shop/items/{item}/price', '/shop/orders', '/shop/orders/{id}', '/shop/state']) {
      assert.ok(doc.paths[path], `missing ${path}`);
    }
    const ids = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const op of Object.values(item)) {
        assert.ok(op.responses.default, `${path} documents its error`);
        for (const name of path.match(/\{(\w+)\}/g) ?? []) {
          assert.ok(op.parameters?.some((p) => p.in === 'path' && `{${p.name}}` === name && p.required), `${path} declares ${name}`);
        }
      }
    }
    const version = doc.paths['/demo.Shop/add']!.post!.parameters!.find((p) => p.name === 'x-switchyard-version');
    assert.deepEqual(version?.schema?.enum, ['2.1.0']);
    assert.deepEqual(doc.paths['/calculator/add']!.get!.parameters!.filter((p) => p.in === 'query').map((p) => p.name), ['a', 'b']);
    assert.ok(doc.paths['/demo.Calculator/notify']!.post!.responses['202'], 'one-way methods answer 202');
  });

  it('turns the description off with openapi=false', async (t) => {
    const { address } = await startHttpServer(t, { query: 'openapi=false' });
    assert.equal((await rawRequest(address, 'GET', '/openapi.json')).status, 404);
  });
});
