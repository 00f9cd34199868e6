import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Code, Metadata, RpcError, defineService, rateLimit, type Invocation, type RateLimitOptions } from '../../src/index.js';
import { CalculatorService, startClient, startServer } from '../support/calculator.js';

const calc = CalculatorService.id;

test('on a server, a bucket lets a burst through, then refuses with RESOURCE_EXHAUSTED until a token is back', async (t) => {
  const limit = rateLimit({ services: { [calc]: { methods: { add: { ratePerSec: 1, burst: 3 } } } } });
  const { address, log } = await startServer(t, { interceptors: [limit] });
  const { calc: proxy } = startClient(t, address);
  assert.equal(await proxy.divide(4, 2), 2, 'connected; other methods have no bucket');
  for (let i = 0; i < 3; i++) assert.equal(await proxy.add(i, 1), i + 1);
  const error = await proxy.add(9, 9).catch((e: unknown) => e);
  assert.ok(error instanceof RpcError);
  assert.equal(error.code, Code.RESOURCE_EXHAUSTED);
  assert.equal(error.details.scope, `method ${calc}/add`);
  assert.equal(error.details.ratePerSec, 1);
  const retryAfterMs = error.details.retryAfterMs as number;
  assert.ok(retryAfterMs > 0 && retryAfterMs <= 1000, `retryAfterMs ${retryAfterMs}`);
  assert.equal(log.calls.filter((c) => c.method === 'add').length, 3, 'the refused call never reached the implementation');
  await sleep(retryAfterMs + 20);
  assert.equal(await proxy.add(9, 9), 18, 'a token came back');
  assert.deepEqual(limit.stats(), { admitted: 4, rejected: 1 });
});

test('on a client, refused calls never leave the process', async (t) => {
  const { address, log } = await startServer(t);
  const { calc: proxy } = startClient(t, address, { interceptors: [rateLimit({ ratePerSec: 1, burst: 2 })] });
  await proxy.add(1, 1);
  await proxy.divide(1, 1);
  await assert.rejects(proxy.add(2, 2), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, Code.RESOURCE_EXHAUSTED);
    assert.equal(error.details.scope, 'all calls', 'the top-level bucket is shared by every method');
    assert.equal(error.unprocessed, true);
    return true;
  });
  assert.equal(log.calls.length, 2);
});

test('tokens never pile up beyond the burst, and the default burst is one second\'s worth', async () => {
  const handler = rateLimit({ ratePerSec: 10, burst: 2 })(async () => 'ok');
  const Ping = defineService<{ ping(): Promise<string> }>('demo.Ping', { methods: { ping: {} } });
  const call = invocation(Ping, 'ping');
  await sleep(500); // 5 tokens' worth of time
  assert.equal(await handler(call), 'ok');
  assert.equal(await handler(call), 'ok');
  await assert.rejects(handler(call), { code: Code.RESOURCE_EXHAUSTED });

  const byDefault = rateLimit({ ratePerSec: 5 })(async () => 'ok');
  const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => byDefault(call)));
  assert.deepEqual(outcomes.map((o) => o.status), [...Array(5).fill('fulfilled'), ...Array(3).fill('rejected')]);
});

test('a call needs a token at every level; a refused call takes none', async () => {
  const limit = rateLimit({ services: { [calc]: { ratePerSec: 0.001, burst: 2, methods: { add: { ratePerSec: 0.001, burst: 1 } } } } });
  const handler = limit(async () => 'ok');
  assert.equal(await handler(invocation(CalculatorService, 'add')), 'ok');
  await assert.rejects(handler(invocation(CalculatorService, 'add')), refusedBy(`method ${calc}/add`, 1));
  assert.equal(await handler(invocation(CalculatorService, 'divide')), 'ok', 'the add refused above took no token from the service');
  await assert.rejects(handler(invocation(CalculatorService, 'divide')), refusedBy(`service ${calc}`, 2));
  assert.deepEqual(limit.stats(), { admitted: 2, rejected: 2 });
});

test('bad options are refused with INVALID_ARGUMENT', () => {
  const bad: unknown[] = [null, { ratePerSec: 0 }, { ratePerSec: -1 }, { ratePerSec: Infinity }, { ratePerSec: 10, burst: 0 }, { ratePerSec: 10, burst: 1.5 }, { burst: 5 }, { services: { [calc]: { methods: { add: { ratePerSec: 'fast' } } } } }];
  for (const options of bad) {
    assert.throws(() => rateLimit(options as RateLimitOptions), { code: Code.INVALID_ARGUMENT }, JSON.stringify(options));
  }
});

/** Checks that a rejection came from the bucket of `scope`, which has room for `burst`. */
function refusedBy(scope: string, burst: number) {
  return (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, Code.RESOURCE_EXHAUSTED);
    const { retryAfterMs, ...details } = error.details;
    assert.deepEqual(details, { limit: 'rate', scope, ratePerSec: 0.001, burst });
    assert.ok((retryAfterMs as number) > 900_000, 'about 1000 s until the next token');
    return true;
  };
}

function invocation(service: Invocation['service'], method: string): Invocation {
  return { service, method, args: [], metadata: new Metadata(), responseMetadata: new Metadata(), deadline: undefined, signal: undefined, oneWay: false };
}
