import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, createClient, defineService } from '../../src/index.js';
import { hasCode } from '../support/assertions.js';
import { onCleanup } from '../support/calculator.js';
import { postJson, startHttpServer } from '../support/http.js';

interface Values {
  same(value: unknown): Promise<unknown>;
  anError(): Promise<unknown>;
}
const ValuesService = defineService<Values>('test.JsonValues', { methods: { same: {}, anError: {} } });

async function start(t: Parameters<typeof startHttpServer>[0]) {
  const { address } = await startHttpServer(t, {
    setup: (server) => server.provide(ValuesService, { same: async (value) => value, anError: async () => new Error('returned') }),
  });
  const client = createClient({ url: address });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  return { address, values: client.proxy(ValuesService) };
}

test('over HTTP, Map, Set and bigint values arrive as they were sent, not as {}', async (t) => {
  const { values } = await start(t);
  const sent = { map: new Map<unknown, unknown>([[1, 'one'], ['set', new Set([2n ** 80n])]]), set: new Set(['a', 'b']) };
  assert.deepEqual(await values.same(sent), sent);
});

test('over HTTP, an Error value fails the call with INTERNAL instead of arriving as {}', async (t) => {
  const { values } = await start(t);
  await assert.rejects(values.anError(), hasCode(Code.INTERNAL, /cannot carry an Error value/));
  await assert.rejects(values.same(new Error('sent')), (error: Error) => /cannot carry an Error value/.test(error.message));
});

test('over HTTP, a $bigint of half a million digits or malformed $bytes is refused as INVALID_ARGUMENT', async (t) => {
  const { address } = await start(t);
  for (const body of [[{ $bigint: '7'.repeat(500_000) }], [{ $bytes: '***' }]]) {
    const response = await postJson(address, `/${ValuesService.id}/same`, body);
    assert.equal(response.status, 400, response.text.slice(0, 200));
    assert.match(response.text, /\$bigint has 500000 digits|\$bytes holds text that is not base64/);
  }
});

test('over HTTP, text beyond ASCII comes back whole, its content-length counted in bytes', async (t) => {
  const { address, values } = await start(t);
  const texts = ['é', 'naïve café', '日本語のテキスト', 'emoji 😀 and 👍🏽', '\u0000 control \u001f', 'lone \ud800 surrogate'];
  for (const text of texts) assert.equal(await values.same(text), text);
  const nested = { ['ключ']: ['значение', { deep: '😀'.repeat(100) }] };
  assert.deepEqual(await values.same(nested), nested);
  const response = await postJson(address, `/${ValuesService.id}/same`, ['日本😀']);
  assert.equal(response.status, 200);
  assert.equal(response.json, '日本😀');
  assert.equal(Number(response.headers['content-length']), Buffer.byteLength(response.text));
});
