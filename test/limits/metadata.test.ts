import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, createClient, type Server } from '../../src/index.js';
import { rejection } from '../support/assertions.js';
import { CalculatorService, onCleanup } from '../support/calculator.js';
import { rawRequest } from '../support/http.js';
import { brokerScope, startAmqpServer } from '../support/rabbitmq.js';
import { counted, startOn } from './support.js';

/**
 * Request metadata past `maxMetadataEntries` or `maxMetadataBytes` is refused with
 * RESOURCE_EXHAUSTED naming the limit, before the call runs, on every transport; HTTP/1.1 answers
 * 431. The connection and the server go on.
 */

const LIMITS = { maxMetadataEntries: 8, maxMetadataBytes: 2048 };

function entries(count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`x-entry-${i}`, 'v']));
}

async function expectRefusals(server: Server, url: string, options: { tls?: { ca: Buffer } } = {}): Promise<void> {
  const client = createClient({ url, ...options, retries: 0 });
  try {
    const calc = client.proxy(CalculatorService);
    const many = await rejection(client.invoke(CalculatorService, 'add', [1, 2], { metadata: entries(9) }));
    assert.equal(many.code, Code.RESOURCE_EXHAUSTED, many.message);
    assert.match(many.message, /metadata of 9 entries exceeds the limit of 8 \(maxMetadataEntries\)/);
    await counted(server, 'maxMetadataEntries');
    const large = await rejection(client.invoke(CalculatorService, 'add', [1, 2], { metadata: { 'x-large': 'a'.repeat(3000) } }));
    assert.equal(large.code, Code.RESOURCE_EXHAUSTED, large.message);
    assert.match(large.message, /exceeds the limit of 2048 \(maxMetadataBytes\)/);
    await counted(server, 'maxMetadataBytes');
    assert.equal(await client.invoke(CalculatorService, 'add', [1, 2], { metadata: entries(8) }), 3, 'metadata within the limits is served');
    assert.equal(await calc.add(2, 2), 4);
  } finally {
    await client.close({ timeoutMs: 1000 });
  }
}

for (const scheme of ['tcp', 'grpc'] as const) {
  test(`${scheme}: too many or too large metadata entries are refused with RESOURCE_EXHAUSTED naming the limit`, async (t) => {
    const { server, address } = await startOn(t, scheme, LIMITS);
    await expectRefusals(server, address);
  });
}

test('amqp: too many or too large headers are refused with RESOURCE_EXHAUSTED naming the limit', async (t) => {
  const scope = await brokerScope(t);
  const { server } = await startAmqpServer(t, scope, 'limits', LIMITS);
  await expectRefusals(server, scope.url());
});

test('http: too many metadata headers get 431 naming the limit; a head past maxMetadataBytes gets Node\'s 431', async (t) => {
  const { server, address } = await startOn(t, 'http', LIMITS);
  const headers = { 'content-type': 'application/json', ...Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`sy-meta-x-${i}`, 'v'])) };
  const many = await rawRequest(address, 'POST', '/demo.Calculator/add', { headers, body: '[1,2]' });
  assert.equal(many.status, 431);
  assert.match(JSON.stringify(many.json), /maxMetadataEntries/);
  await counted(server, 'maxMetadataEntries');
  const large = await rawRequest(address, 'POST', '/demo.Calculator/add', { headers: { 'content-type': 'application/json', 'sy-meta-x-large': 'a'.repeat(3000) }, body: '[1,2]' });
  assert.equal(large.status, 431);
  await counted(server, 'maxMetadataBytes');
  const client = createClient({ url: address });
  onCleanup(t, () => client.close({ timeoutMs: 1000 }));
  // Standard headers that are metadata count too: fetch adds `accept-language`.
  assert.equal(await client.invoke(CalculatorService, 'add', [1, 2], { metadata: entries(7) }), 3);
});
