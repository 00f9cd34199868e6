// A hybrid Nest application in a child process (test/nestjs/apps/hybrid.ts, with Nest's legacy
// decorators): one NestFactory.create application serving HTTP routes and, through
// connectMicroservice + startAllMicroservices, a Switchyard service, both from one provider. The
// test calls the service with a plain Switchyard client on the same embedded registry.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { Code, createClient, type Client, type ServiceProxy } from '../../src/index.js';
import { rejection } from '../support/assertions.js';
import { InventoryService, type Inventory } from './inventory.js';
import { eventually } from './support/eventually.js';
import { kill, startNestApp, type NestProcess } from './support/nest-process.js';

/** An HTTP request on a connection of its own, closed after the answer (no idle keep-alive connection is left to the server's close). */
async function http(method: 'GET' | 'PUT', url: string): Promise<{ status: number; body: unknown }> {
  const { statusCode, body } = await request(url, { method, reset: true });
  return { status: statusCode, body: await body.json() };
}

describe('a hybrid Nest application serving HTTP and a Switchyard service', { timeout: 60_000 }, () => {
  let dir: string;
  let app: NestProcess | undefined;
  let client: Client;
  let inventory: ServiceProxy<Inventory>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-nest-hybrid-'));
    app = await startNestApp('hybrid', [dir]);
    client = createClient({ registry: `embedded://${dir}`, waitForProvidersMs: 1000 });
    inventory = client.proxy(InventoryService);
  });

  after(async () => {
    kill(app);
    await app?.exited;
    await client?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('what HTTP requests change, Switchyard calls see, and the other way round: one application, one provider', async () => {
    assert.deepEqual(await http('PUT', `${app!.address}/stock/apple?count=3`), { status: 200, body: { item: 'apple', count: 3 } });
    assert.equal(await inventory.count('apple'), 3);
    assert.equal(await inventory.reserve('apple', 2), 1);
    assert.deepEqual(await http('GET', `${app!.address}/stock/apple`), { status: 200, body: { item: 'apple', count: 1 } });
    const refused = await rejection(inventory.reserve('apple', 2));
    assert.deepEqual({ code: refused.code, message: refused.message, details: refused.details }, {
      code: Code.FAILED_PRECONDITION, message: 'only 1 apple left', details: { item: 'apple', count: 1 },
    });
  });

  test('SwitchyardExceptionFilter on the Switchyard controller maps its errors; HTTP routes keep Nest’s own exception handling', async () => {
    const missing = await rejection(inventory.count('pear'));
    assert.deepEqual({ code: missing.code, name: missing.name, message: missing.message }, { code: Code.NOT_FOUND, name: 'NotFoundException', message: 'no item pear' });
    assert.deepEqual(await http('GET', `${app!.address}/stock/pear`), { status: 404, body: { statusCode: 404, message: 'no item pear', error: 'Not Found' } });
  });

  test('SIGTERM: HTTP and the transport close between the shutdown hooks, a call in flight is answered, the service leaves the registry, the process exits with 0', async () => {
    const url = app!.address;
    const held = inventory.hold(300);
    assert.equal(await eventually(() => inventory.openHolds(), 1), 1);
    app!.child.kill('SIGTERM');
    assert.equal(await held, 'held 300');
    assert.equal(await app!.exited, 0);
    // A hybrid application closes its HTTP server, then its microservices, between these two hooks.
    assert.deepEqual(app!.lines.slice(1), [
      'before shutdown: transport listening, http open',
      'on shutdown: transport closed, http closed',
      'exit: nothing left open',
    ]);
    await assert.rejects(fetch(`${url}/stock/apple`), 'its HTTP port is closed');
    const entries = await readdir(join(dir, InventoryService.key.name));
    assert.deepEqual(entries.filter((name) => name.endsWith('.json')), [], 'it left the registry');
    const gone = await rejection(inventory.count('apple'));
    assert.equal(gone.code, Code.UNAVAILABLE);
  });
});
