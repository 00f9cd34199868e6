// Two real Nest applications in child processes (their controllers need Nest's legacy decorators,
// compiled with test/nestjs/tsconfig.json): a microservice serving nest.Calculator over
// SwitchyardTransport, and an HTTP application (@nestjs/platform-express) whose controller calls it
// through the proxy SwitchyardModule injects. They find each other through an embedded registry in a
// temporary folder.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { Code, createClient, type Client, type ServiceProxy } from '../../src/index.js';
import { rejection } from '../support/assertions.js';
import { CalculatorService, type Calculator, type FailureKind } from './calculator.js';
import { eventually } from './support/eventually.js';
import { kill, startNestApp, type NestProcess } from './support/nest-process.js';

async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A request on a connection of its own, closed after the answer, so that no idle keep-alive connection holds up the server's close. */
async function getJsonOnce(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const { statusCode, body } = await request(url, { reset: true });
  return { status: statusCode, body: (await body.json()) as Record<string, unknown> };
}

describe('a Nest microservice and a Nest HTTP application talking over Switchyard', { timeout: 60_000 }, () => {
  let dir: string;
  let microservice: NestProcess | undefined;
  let gateway: NestProcess | undefined;
  let client: Client;
  let calculator: ServiceProxy<Calculator>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-nest-'));
    microservice = await startNestApp('microservice', [dir]);
    gateway = await startNestApp('gateway', [dir]);
    // The test's own consumer, on the same registry, for what the HTTP controller does not expose.
    client = createClient({ registry: `embedded://${dir}`, waitForProvidersMs: 1000 });
    calculator = client.proxy(CalculatorService);
  });

  after(async () => {
    kill(gateway);
    kill(microservice);
    await Promise.all([gateway?.exited, microservice?.exited]);
    await client?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('an HTTP request to the Nest controller is answered by the Nest microservice through the injected proxy', async () => {
    const { status, body } = await getJson(`${gateway!.address}/add?a=2&b=3`);
    assert.equal(status, 200);
    assert.deepEqual(body, { sum: 5, servedBy: microservice!.child.pid, gateway: gateway!.child.pid });
    assert.notEqual(microservice!.child.pid, gateway!.child.pid);
  });

  test('an RpcError thrown in the Nest handler reaches the HTTP controller with its code, name and details', async () => {
    assert.deepEqual(await getJson(`${gateway!.address}/divide?a=6&b=3`), { status: 200, body: { quotient: 2 } });
    const { status, body } = await getJson(`${gateway!.address}/divide?a=1&b=0`);
    assert.equal(status, 502);
    assert.deepEqual(body.error, { code: 'INVALID_ARGUMENT', name: 'RpcError', message: 'cannot divide by zero', details: { argument: 'b' } });
  });

  test('a server stream made from an Observable reaches the HTTP application and a plain client', async () => {
    assert.deepEqual(await getJson(`${gateway!.address}/countdown?from=4`), { status: 200, body: { values: [4, 3, 2, 1] } });
    const values: number[] = [];
    for await (const value of calculator.countdown(3)) values.push(value);
    assert.deepEqual(values, [3, 2, 1]);
  });

  test('each kind of exception a Nest handler throws reaches the caller with its code', async () => {
    const expected: Record<FailureKind, { code: Code; name: string; message: string; details?: Record<string, unknown> }> = {
      'rpc-error': { code: Code.FAILED_PRECONDITION, name: 'LedgerClosed', message: 'the ledger is closed', details: { ledger: 7 } },
      'rpc-exception-code': { code: Code.NOT_FOUND, name: 'RpcException', message: 'no such account', details: { account: 'a-1' } },
      'rpc-exception-text': { code: Code.UNKNOWN, name: 'RpcException', message: 'something odd happened' },
      'http-exception': { code: Code.NOT_FOUND, name: 'NotFoundException', message: 'no such order' },
      validation: { code: Code.INVALID_ARGUMENT, name: 'BadRequestException', message: 'a must be a number; b must be a number' },
      'plain-error': { code: Code.UNKNOWN, name: 'TypeError', message: 'cannot read the configuration' },
      guard: { code: Code.PERMISSION_DENIED, name: 'RpcException', message: 'Forbidden resource' },
    };
    for (const [kind, wanted] of Object.entries(expected) as Array<[FailureKind, (typeof expected)[FailureKind]]>) {
      const error = await rejection(calculator.fail(kind));
      assert.deepEqual({ code: error.code, name: error.name, message: error.message }, { code: wanted.code, name: wanted.name, message: wanted.message }, kind);
      if (wanted.details !== undefined) assert.deepEqual(error.details, wanted.details, kind);
    }
    // An HttpException's response body travels as the details: a ValidationPipe's list, say.
    const validation = await rejection(calculator.fail('validation'));
    assert.deepEqual(validation.details, { message: ['a must be a number', 'b must be a number'], error: 'Bad Request', statusCode: 400 });
  });

  test('an async generator behind a Nest interceptor streams like an Observable', async () => {
    const values: number[] = [];
    for await (const value of calculator.countdownGenerator(3)) values.push(value);
    assert.deepEqual(values, [3, 2, 1]);
  });

  test('a stream that fails after two items delivers both, then the error with its code', async () => {
    const values: number[] = [];
    const error = await rejection((async () => {
      for await (const value of calculator.brokenStream()) values.push(value);
    })());
    assert.deepEqual(values, [1, 2]);
    assert.equal(error.code, Code.RESOURCE_EXHAUSTED);
    assert.equal(error.message, 'quota used up');
  });

  test('a caller that stops reading an endless Observable stream unsubscribes it on the server', async () => {
    const values: number[] = [];
    let openWhileReading = -1;
    for await (const value of calculator.ticks()) {
      values.push(value);
      if (values.length === 1) openWhileReading = await calculator.openTicks();
      if (values.length === 3) break;
    }
    assert.deepEqual(values.slice(0, 3), [0, 1, 2]);
    assert.equal(openWhileReading, 1);
    assert.equal(await eventually(() => calculator.openTicks(), 0), 0);
  });

  test('the handler reads the call metadata from its SwitchyardContext', async () => {
    assert.equal(await calculator.tenant.with({ metadata: { tenant: 'acme' } })(), 'acme');
    assert.equal(await calculator.tenant(), null);
    // An HTTP header the controller passes on as metadata.
    assert.deepEqual(await getJson(`${gateway!.address}/tenant`, { 'x-tenant': 'globex' }), { status: 200, body: { tenant: 'globex' } });
  });

  test('SIGTERM: the application answers its request in flight and stops HTTP before its client; the microservice drains its calls; both exit with 0, nothing left open', async () => {
    // The application first, while the microservice still serves, with an HTTP request in flight:
    // Nest closes the HTTP server (which lets the request finish), then SwitchyardModule the client.
    const gatewayUrl = gateway!.address;
    const inFlight = getJsonOnce(`${gatewayUrl}/hold?ms=300`);
    assert.equal(await eventually(() => calculator.openHolds(), 1), 1);
    gateway!.child.kill('SIGTERM');
    assert.deepEqual(await inFlight, { status: 200, body: { held: 'held 300' } });
    assert.equal(await gateway!.exited, 0);
    assert.deepEqual(gateway!.lines.slice(1), [`http closed; client open: ${microservice!.child.pid}`, 'client after close: UNAVAILABLE', 'exit: nothing left open']);
    await assert.rejects(fetch(`${gatewayUrl}/add?a=1&b=1`), 'its HTTP port is closed');

    // Then the microservice, with a call in flight: the call is answered before it exits. On a
    // signal Nest runs beforeApplicationShutdown before it closes the transport, onApplicationShutdown after.
    const held = calculator.hold(300);
    assert.equal(await eventually(() => calculator.openHolds(), 1), 1);
    microservice!.child.kill('SIGTERM');
    assert.equal(await held, 'held 300');
    assert.equal(await microservice!.exited, 0);
    assert.deepEqual(microservice!.lines.slice(1), ['before shutdown: listening', 'on shutdown: closed', 'exit: nothing left open']);
    const entries = await readdir(join(dir, CalculatorService.key.name));
    assert.deepEqual(entries.filter((name) => name.endsWith('.json')), [], 'it left the registry');
    const gone = await rejection(calculator.add(1, 1));
    assert.equal(gone.code, Code.UNAVAILABLE);
  });
});
