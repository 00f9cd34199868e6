import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, RpcError, type Interceptor, type Metadata } from '../src/index.js';
import { startClient, startServer } from './support/calculator.js';

/** An interceptor that notes when the call passes it on the way in and on the way out. */
function tracing(name: string, trace: string[]): Interceptor {
  return (next) => async (call) => {
    trace.push(`${name}>`);
    try {
      return await next(call);
    } finally {
      trace.push(`<${name}`);
    }
  };
}

test('interceptors run first-outermost on both sides, the client chain around the server chain', async (t) => {
  const trace: string[] = [];
  const implementationMark: Interceptor = (next) => async (call) => {
    const result = await next(call);
    trace.push(`impl:${call.method}`);
    return result;
  };
  const { address } = await startServer(t, { interceptors: [tracing('s1', trace), tracing('s2', trace), implementationMark] });
  const { calc } = startClient(t, address, { interceptors: [tracing('c1', trace), tracing('c2', trace)] });
  assert.equal(await calc.add(1, 2), 3);
  assert.deepEqual(trace, ['c1>', 'c2>', 's1>', 's2>', 'impl:add', '<s2', '<s1', '<c2', '<c1']);
});

test('the chains also run around a call that fails', async (t) => {
  const trace: string[] = [];
  const { address } = await startServer(t, { interceptors: [tracing('s1', trace)] });
  const { calc } = startClient(t, address, { interceptors: [tracing('c1', trace)] });
  await assert.rejects(calc.divide(1, 0), { code: Code.INVALID_ARGUMENT });
  assert.deepEqual(trace, ['c1>', 's1>', '<s1', '<c1']);
});

test('a client interceptor can add request metadata that the server sees', async (t) => {
  const addAuth: Interceptor = (next) => (call) => {
    call.metadata.set('authorization', 'Bearer t0k3n');
    return next(call);
  };
  let seenByInterceptor: string | undefined;
  const readAuth: Interceptor = (next) => (call) => {
    seenByInterceptor = call.metadata.get('authorization') as string | undefined;
    return next(call);
  };
  const { address, log } = await startServer(t, { interceptors: [readAuth] });
  const { calc } = startClient(t, address, { interceptors: [addAuth] });
  await calc.add.with({ metadata: { 'x-caller': 'test' } })(1, 2);
  assert.equal(seenByInterceptor, 'Bearer t0k3n');
  assert.equal(log.calls[0]!.metadata.get('authorization'), 'Bearer t0k3n');
  assert.equal(log.calls[0]!.metadata.get('x-caller'), 'test', 'the caller\'s own metadata is kept');
});

test('a server interceptor can set response metadata that the client sees', async (t) => {
  const stamp: Interceptor = (next) => async (call) => {
    const started = Date.now();
    try {
      return await next(call);
    } finally {
      call.responseMetadata.set('x-served-by', 'node-1');
      call.responseMetadata.set('x-elapsed-ms', String(Date.now() - started));
    }
  };
  let inClientInterceptor: string | undefined;
  const readBack: Interceptor = (next) => async (call) => {
    const result = await next(call);
    inClientInterceptor = call.responseMetadata.get('x-served-by') as string | undefined;
    return result;
  };
  const { address } = await startServer(t, { interceptors: [stamp] });
  const { calc } = startClient(t, address, { interceptors: [readBack] });
  let received: Metadata | undefined;
  assert.equal(await calc.add.with({ onResponseMetadata: (md) => (received = md) })(2, 2), 4);
  assert.equal(received?.get('x-served-by'), 'node-1');
  assert.match(String(received?.get('x-elapsed-ms')), /^\d+$/);
  assert.equal(inClientInterceptor, 'node-1', 'client interceptors see response metadata after next() resolves');
  await assert.rejects(calc.divide.with({ onResponseMetadata: (md) => (received = md) })(1, 0), { code: Code.INVALID_ARGUMENT });
  assert.equal(received?.get('x-served-by'), 'node-1', 'also on an error response');
});

test('a client interceptor can short-circuit a call with an error; nothing reaches the server', async (t) => {
  const { address, log } = await startServer(t);
  const deny: Interceptor = (next) => (call) => {
    if (call.method === 'divide') return Promise.reject(new RpcError(Code.PERMISSION_DENIED, 'divide is off limits', { details: { method: call.method } }));
    return next(call);
  };
  const { calc } = startClient(t, address, { interceptors: [deny] });
  await assert.rejects(calc.divide(4, 2), { code: Code.PERMISSION_DENIED, message: 'divide is off limits' });
  assert.equal(await calc.add(4, 2), 6);
  assert.deepEqual(log.calls.map((c) => c.method), ['add']);
});

test('a server interceptor can short-circuit a call; the caller gets its error and the implementation never runs', async (t) => {
  const requireAuth: Interceptor = (next) => async (call) => {
    if (call.metadata.get('authorization') !== 'secret') {
      throw new RpcError(Code.UNAUTHENTICATED, 'missing credentials', { details: { scheme: 'Bearer' } });
    }
    return next(call);
  };
  const { address, log } = await startServer(t, { interceptors: [requireAuth] });
  const { calc } = startClient(t, address);
  await assert.rejects(calc.add(1, 2), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.code, Code.UNAUTHENTICATED);
    assert.equal(error.message, 'missing credentials');
    assert.deepEqual(error.details, { scheme: 'Bearer' });
    return true;
  });
  assert.equal(log.calls.length, 0);
  assert.equal(await calc.add.with({ metadata: { authorization: 'secret' } })(1, 2), 3);
  assert.equal(log.calls.length, 1);
});

test('a client interceptor can answer a call itself without a server', async (t) => {
  const { address, log } = await startServer(t);
  const cached: Interceptor = (next) => (call) => (call.method === 'add' && call.args[0] === 0 && call.args[1] === 0 ? Promise.resolve(0) : next(call));
  const { calc } = startClient(t, address, { interceptors: [cached] });
  assert.equal(await calc.add(0, 0), 0);
  assert.equal(log.calls.length, 0);
  assert.equal(await calc.add(1, 0), 1);
  assert.equal(log.calls.length, 1);
});

test('a server interceptor can change the arguments the implementation receives', async (t) => {
  const double: Interceptor = (next) => (call) => {
    if (call.method === 'add') call.args = call.args.map((value) => (value as number) * 2);
    return next(call);
  };
  const { address } = await startServer(t, { interceptors: [double] });
  const { calc } = startClient(t, address);
  assert.equal(await calc.add(1, 2), 6);
});
