import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientCall } from '../../src/core/client-call.js';
import { Code, defineService, RpcError } from '../../src/index.js';
import { HttpChannel } from '../../src/transport/http/client.js';
import { CalculatorService } from '../support/calculator.js';
import { postJson, startHttpServer } from '../support/http.js';

const boom = () => {
  throw new Error('getter throws');
};

interface Odd {
  result(kind: string): Promise<unknown>;
  fail(kind: string): Promise<never>;
  items(kind: string): AsyncIterable<unknown>;
}
const OddService = defineService<Odd>('demo.Odd', { methods: { result: {}, fail: {}, items: { stream: 'server' } } });

function cyclic(): Record<string, unknown> {
  const value: Record<string, unknown> = { name: 'loop' };
  value.self = value;
  return value;
}

const results: Record<string, () => unknown> = {
  function: () => () => 1,
  symbol: () => Symbol('s'),
  cycle: cyclic,
  'throwing getter': () => Object.defineProperty({}, 'x', { get: boom, enumerable: true }),
  'throwing toJSON': () => ({ toJSON: boom }),
  error: () => new Error('an Error as a value'),
};

function failure(kind: string): unknown {
  switch (kind) {
    case 'details': {
      const details: Record<string, unknown> = { n: 1n, fn: () => 1, loop: cyclic(), ok: 'kept' };
      Object.defineProperty(details, 'bad', { get: boom, enumerable: true });
      return new RpcError(Code.FAILED_PRECONDITION, 'odd details', { details });
    }
    case 'code 0':
      return Object.assign(new Error('code zero'), { code: 0 });
    case 'reshaped code': {
      const error = new RpcError(Code.NOT_FOUND, 'reshaped');
      Object.defineProperty(error, 'code', { value: Code.OK });
      return error;
    }
    case 'code getter':
      return Object.defineProperty(new RpcError(Code.NOT_FOUND, 'no code'), 'code', { get: boom });
    default:
      return null;
  }
}

const odd: Odd = {
  async result(kind) {
    return results[kind]!();
  },
  async fail(kind) {
    throw failure(kind);
  },
  async *items(kind) {
    yield 1;
    yield results[kind]!();
  },
};

describe('HTTP transport: values a handler returns or throws that JSON or the error body cannot take as they are', () => {
  it('answers a result JSON cannot encode with 500 INTERNAL and the error body', async (t) => {
    const { address } = await startHttpServer(t, { setup: (server) => server.provide(OddService, odd) });
    for (const kind of Object.keys(results)) {
      const res = await postJson(address, '/demo.Odd/result', [kind]);
      assert.equal(res.status, 500, kind);
      const body = res.json as { code: string; message: string };
      assert.equal(body.code, 'INTERNAL', kind);
      assert.match(body.message, /^cannot encode the result/, kind);
    }
  });

  it('answers odd errors with a failure status and a well-formed body: never 2xx, details kept as plain data', async (t) => {
    const { address } = await startHttpServer(t, { setup: (server) => server.provide(OddService, odd) });
    const details = await postJson(address, '/demo.Odd/fail', ['details']);
    assert.equal(details.status, 412);
    assert.deepEqual(details.json, { code: 'FAILED_PRECONDITION', name: 'RpcError', message: 'odd details', details: { n: { $bigint: '1' }, loop: { name: 'loop' }, ok: 'kept' } });
    for (const kind of ['code 0', 'reshaped code', 'code getter', 'null']) {
      const res = await postJson(address, '/demo.Odd/fail', [kind]);
      assert.equal(res.status, 500, kind);
      assert.equal((res.json as { code: string }).code, 'UNKNOWN', kind);
    }
  });

  it('ends a stream whose item JSON cannot encode with an INTERNAL error line', async (t) => {
    const { address } = await startHttpServer(t, { setup: (server) => server.provide(OddService, odd) });
    const res = await postJson(address, '/demo.Odd/items', ['cycle']);
    assert.equal(res.status, 200);
    const lines = res.text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, { code?: string; message?: string }>);
    assert.deepEqual(lines[0], { value: 1 });
    assert.equal(lines[1]!.error!.code, 'INTERNAL');
    assert.match(lines[1]!.error!.message!, /^cannot encode a stream item/);
  });

  it('the client turns whatever its fetch, its arguments or its caller throw into an RpcError', async (t) => {
    const { address } = await startHttpServer(t);
    const call = (args: unknown[], signal?: AbortSignal) => new ClientCall(CalculatorService, 'add', args, undefined, undefined, signal, false, undefined);
    const throwing = (value: unknown) => new HttpChannel(address, { fetch: () => { throw value; } });
    for (const value of [null, undefined, 42, Object.defineProperty(new Error('x'), 'cause', { get: boom })]) {
      const channel = throwing(value);
      t.after(() => channel.close());
      await assert.rejects(channel.call(call([1, 2]), 'demo.Calculator:1.0.0'), (error: unknown) => error instanceof RpcError && error.code === Code.UNAVAILABLE);
    }
    const channel = new HttpChannel(address);
    t.after(() => channel.close());
    const args = [Object.defineProperty({}, 'x', { enumerable: true, get: () => { throw null; } })];
    await assert.rejects(channel.call(call(args), 'demo.Calculator:1.0.0'), (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT && error.unprocessed);
    const trap = new Proxy({}, { getPrototypeOf: boom, get: boom });
    await assert.rejects(channel.call(call([1, 2], AbortSignal.abort(trap)), 'demo.Calculator:1.0.0'), (error: unknown) => error instanceof RpcError && error.code === Code.CANCELLED);
    assert.equal(await channel.call(call([1, 2]), 'demo.Calculator:1.0.0'), 3);
  });
});
