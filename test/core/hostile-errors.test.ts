import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, isCode } from '../../src/core/code.js';
import { plainDetails } from '../../src/core/plain-data.js';
import { RpcError, cancelledBy, errorMessage, toWireError } from '../../src/core/rpc-error.js';
import { jsonSerializer } from '../../src/serialization/json.js';
import { msgpackSerializer } from '../../src/serialization/msgpack.js';
import { thrownValues } from '../hardening/odd-values.js';

describe('RpcError.from on hostile values', () => {
  for (const value of thrownValues) {
    it(`turns ${value.name} into a failure RpcError without throwing, and its wire form encodes`, () => {
      const error = RpcError.from(value.make());
      assert.ok(error instanceof RpcError);
      assert.ok(isCode(error.code) && error.code !== Code.OK, `code ${error.code}`);
      if (value.code !== undefined) assert.equal(error.code, value.code);
      assert.equal(typeof error.message, 'string');
      const wire = toWireError(error);
      for (const serializer of [msgpackSerializer(), jsonSerializer()]) assert.ok(serializer.encode(wire).length > 0, serializer.name);
      assert.equal(typeof errorMessage(value.make()), 'string');
    });
  }

  it('never makes an RpcError with code OK or an unknown code', () => {
    assert.equal(new RpcError(Code.OK, 'x').code, Code.UNKNOWN);
    assert.equal(new RpcError(99 as Code, 'x').code, Code.UNKNOWN);
    assert.equal(RpcError.from(Object.assign(new Error('x'), { code: 0 }), Code.INTERNAL).code, Code.INTERNAL, 'code 0 takes the fallback');
  });

  it('describes what it could not read', () => {
    const error = new Error('hidden');
    Object.defineProperty(error, 'message', { get: () => { throw new Error('no'); } });
    assert.equal(RpcError.from(error).message, 'error with an unreadable message');
    assert.equal(RpcError.from(42).message, 'non-error value thrown: 42');
    assert.equal(RpcError.from(null).message, 'non-error value thrown: null');
    assert.equal(RpcError.from('text').message, 'text');
  });

  it('rebuilds an RpcError whose fields a handler replaced', () => {
    const error = new RpcError(Code.NOT_FOUND, 'gone', { details: { id: 1 } });
    Object.defineProperty(error, 'message', { get: () => { throw new Error('no'); } });
    const safe = RpcError.from(error);
    assert.notEqual(safe, error);
    assert.equal(safe.code, Code.NOT_FOUND);
    assert.deepEqual(safe.details, { id: 1 });
  });
});

describe('plainDetails', () => {
  it('keeps JSON-like data, bigints, dates and bytes', () => {
    const when = new Date(5);
    assert.deepEqual(plainDetails({ a: [1, 'b', null, true], n: 3n, when, bytes: new Uint8Array([1]) }), { a: [1, 'b', null, true], n: 3n, when, bytes: new Uint8Array([1]) });
  });

  it('leaves out cycles, functions, symbols, class instances and fields whose getters throw', () => {
    const value: Record<string, unknown> = { keep: 1, f: () => 1, s: Symbol('s'), instance: new (class Box {})(), list: [() => 1] };
    value.self = value;
    Object.defineProperty(value, 'bad', { get: () => { throw new Error('no'); }, enumerable: true });
    assert.deepEqual(plainDetails(value), { keep: 1, list: [null] });
  });

  it('keeps a __proto__ key as a key and bounds how much it copies', () => {
    const copy = plainDetails(JSON.parse('{"__proto__": {"polluted": true}}'))!;
    assert.ok(Object.hasOwn(copy, '__proto__'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const wide = plainDetails({ items: Array.from({ length: 100_000 }, (_, i) => i) }) as { items: unknown[] };
    assert.ok(wide.items.length < 2000, `${wide.items.length} items copied`);
  });
});

describe('cancelledBy', () => {
  it('keeps an RpcError reason, and makes any other reason CANCELLED without throwing', () => {
    const deadline = new RpcError(Code.DEADLINE_EXCEEDED, 'late');
    assert.equal(cancelledBy(deadline), deadline);
    assert.equal(cancelledBy(undefined).message, 'cancelled by the caller');
    assert.equal(cancelledBy(new Error('user pressed stop')).message, 'cancelled: user pressed stop');
    for (const value of thrownValues) {
      const error = cancelledBy(value.make());
      assert.ok(error instanceof RpcError && error.code !== Code.OK, value.name);
    }
  });
});
