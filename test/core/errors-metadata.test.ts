import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, codeName, isCode } from '../../src/core/code.js';
import { Metadata } from '../../src/core/metadata.js';
import { RpcError, fromWireError, toWireError } from '../../src/core/rpc-error.js';

describe('RpcError', () => {
  it('carries code, message, name, details and unprocessed', () => {
    const error = new RpcError(Code.INVALID_ARGUMENT, 'divisor must not be 0', { details: { field: 'b' }, name: 'MathError', unprocessed: true });
    assert.ok(error instanceof Error);
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.equal(error.message, 'divisor must not be 0');
    assert.equal(error.name, 'MathError');
    assert.deepEqual(error.details, { field: 'b' });
    assert.equal(error.unprocessed, true);
    assert.equal(String(error), 'MathError [INVALID_ARGUMENT] divisor must not be 0');
  });

  it('defaults to name RpcError, no details and processed', () => {
    const error = new RpcError(Code.INTERNAL, 'boom');
    assert.equal(error.name, 'RpcError');
    assert.deepEqual(error.details, {});
    assert.equal(error.unprocessed, false);
  });

  it('names codes and recognises only the listed ones', () => {
    assert.equal(codeName(Code.NOT_FOUND), 'NOT_FOUND');
    assert.equal(codeName(6), 'CODE_6');
    assert.ok(isCode(16));
    for (const value of [6, 17, -1, 1.5, '5', null, undefined]) assert.ok(!isCode(value), String(value));
  });
});

describe('RpcError.from', () => {
  it('returns an RpcError as it is', () => {
    const error = new RpcError(Code.NOT_FOUND, 'gone');
    assert.equal(RpcError.from(error), error);
  });

  it('keeps name and message of another Error with code UNKNOWN and the error as cause', () => {
    const original = new TypeError('x is not a function');
    const error = RpcError.from(original);
    assert.equal(error.code, Code.UNKNOWN);
    assert.equal(error.name, 'TypeError');
    assert.equal(error.message, 'x is not a function');
    assert.equal(error.cause, original);
  });

  it('uses the fallback code when given one', () => {
    assert.equal(RpcError.from(new Error('bad'), Code.INVALID_ARGUMENT).code, Code.INVALID_ARGUMENT);
  });

  it('keeps a valid numeric code and plain-object details an Error carries', () => {
    const original = Object.assign(new Error('no such user'), { code: Code.NOT_FOUND, details: { user: 42 } });
    const error = RpcError.from(original);
    assert.equal(error.code, Code.NOT_FOUND);
    assert.deepEqual(error.details, { user: 42 });
  });

  it('ignores codes that are not status codes, such as Node error codes', () => {
    assert.equal(RpcError.from(Object.assign(new Error('x'), { code: 'ENOENT' })).code, Code.UNKNOWN);
    assert.equal(RpcError.from(Object.assign(new Error('x'), { code: 99 })).code, Code.UNKNOWN);
  });

  it('drops details that are not a plain record', () => {
    assert.deepEqual(RpcError.from(Object.assign(new Error('x'), { details: ['a'] })).details, {});
    assert.deepEqual(RpcError.from(Object.assign(new Error('x'), { details: 'text' })).details, {});
  });

  it('wraps thrown strings and other values', () => {
    assert.equal(RpcError.from('plain text').message, 'plain text');
    const odd = RpcError.from(42);
    assert.equal(odd.code, Code.UNKNOWN);
    assert.equal(odd.message, 'non-error value thrown: 42');
    assert.equal(odd.cause, 42);
  });
});

describe('wire errors', () => {
  it('writes code, name, message and details, and no stack', () => {
    const wire = toWireError(new RpcError(Code.INVALID_ARGUMENT, 'bad', { details: { field: 'b' }, name: 'MathError' }));
    assert.deepEqual(wire, { code: Code.INVALID_ARGUMENT, name: 'MathError', message: 'bad', details: { field: 'b' } });
  });

  it('leaves details out when there are none', () => {
    assert.ok(!('details' in toWireError(new RpcError(Code.INTERNAL, 'x'))));
  });

  it('round-trips through toWireError and fromWireError', () => {
    const original = new RpcError(Code.RESOURCE_EXHAUSTED, 'slow down', { details: { retryAfterMs: 100 }, name: 'Throttled' });
    const back = fromWireError(JSON.parse(JSON.stringify(toWireError(original))));
    assert.ok(back instanceof RpcError);
    assert.equal(back.code, original.code);
    assert.equal(back.name, original.name);
    assert.equal(back.message, original.message);
    assert.deepEqual(back.details, original.details);
  });

  for (const value of [null, undefined, 'oops', 42, true, [1, 2]]) {
    it(`turns the malformed wire error ${JSON.stringify(value) ?? 'undefined'} into INTERNAL`, () => {
      const error = fromWireError(value);
      assert.ok(error instanceof RpcError);
      assert.equal(error.code, Code.INTERNAL);
      assert.match(error.message, /malformed/);
    });
  }

  for (const code of [0, 6, 99, -1, 2.5, '5', null]) {
    it(`turns the code ${JSON.stringify(code)} from a peer into UNKNOWN`, () => {
      const error = fromWireError({ code, name: 'X', message: 'm' });
      assert.equal(error.code, Code.UNKNOWN);
      assert.equal(error.message, 'm');
    });
  }

  it('fills in a missing or wrongly typed name, message and details', () => {
    const error = fromWireError({ code: Code.NOT_FOUND, name: '', message: 7, details: [1] });
    assert.equal(error.code, Code.NOT_FOUND);
    assert.equal(error.name, 'RpcError');
    assert.equal(error.message, '');
    assert.deepEqual(error.details, {});
    assert.equal(fromWireError({ code: Code.NOT_FOUND, name: { evil: true } }).name, 'RpcError');
  });
});

describe('Metadata keys', () => {
  for (const key of ['x-tenant', 'trace.id', 'a_b', '0', 'a/b/c', '-x', 'x'.repeat(255)]) {
    it(`accepts the key ${JSON.stringify(key.length > 20 ? `${key.slice(0, 8)}…(${key.length})` : key)}`, () => {
      const md = new Metadata().set(key, 'v');
      assert.equal(md.get(key), 'v');
    });
  }

  for (const key of ['', ':service', ':method', '/a', 'a b', 'a:b', 'ü', 'a\nb', 'x'.repeat(256)]) {
    it(`rejects the key ${JSON.stringify(key.length > 20 ? `${key.slice(0, 8)}…(${key.length})` : key)} with INVALID_ARGUMENT`, () => {
      assert.throws(() => new Metadata().set(key, 'v'), (error: unknown) => {
        assert.ok(error instanceof RpcError);
        assert.equal(error.code, Code.INVALID_ARGUMENT);
        assert.match(error.message, /invalid metadata key/);
        return true;
      });
    });
  }

  it('rejects values that are neither text nor bytes', () => {
    assert.throws(() => new Metadata().set('x-n', 5 as unknown as string), { code: Code.INVALID_ARGUMENT });
    assert.throws(() => new Metadata({ 'x-n': null as unknown as string }), { code: Code.INVALID_ARGUMENT });
  });

  it('treats keys case-insensitively and stores them in lower case', () => {
    const md = new Metadata().set('X-Tenant', 'acme');
    assert.equal(md.get('x-tenant'), 'acme');
    assert.equal(md.get('X-TENANT'), 'acme');
    assert.ok(md.has('x-TeNaNt'));
    md.set('x-tenant', 'other');
    assert.equal(md.size, 1, 'the second set replaced the first');
    assert.deepEqual([...md], [['x-tenant', 'other']]);
    assert.ok(md.delete('X-TENANT'));
    assert.equal(md.size, 0);
  });

  it('keeps a __proto__ key as an ordinary entry', () => {
    const md = new Metadata().set('__proto__', 'v');
    assert.equal(md.get('__proto__'), 'v');
    const json = md.toJSON();
    assert.ok(Object.hasOwn(json, '__proto__'));
    assert.equal(Object.getPrototypeOf(json), Object.prototype);
    assert.equal(({} as Record<string, unknown>).v, undefined);
  });
});

describe('Metadata values and construction', () => {
  it('keeps binary values as the same bytes', () => {
    const bytes = new Uint8Array([0, 255, 128]);
    const md = new Metadata({ 'x-bin': bytes, 'x-text': 'hi' });
    assert.equal(md.get('x-bin'), bytes);
    assert.equal(md.get('x-text'), 'hi');
  });

  it('builds from a record, from pairs and from another Metadata', () => {
    const fromRecord = new Metadata({ 'X-A': '1', 'x-b': '2' });
    const fromPairs = new Metadata([['x-a', '1'], ['X-B', '2']]);
    const copy = new Metadata(fromRecord);
    for (const md of [fromRecord, fromPairs, copy]) assert.deepEqual([...md], [['x-a', '1'], ['x-b', '2']]);
    copy.set('x-c', '3');
    assert.equal(fromRecord.has('x-c'), false, 'a copy is independent');
  });

  it('writes text as is and bytes as base64 in toJSON', () => {
    const md = new Metadata({ 'x-text': 'héllo', 'x-bin': new Uint8Array([1, 2, 3, 250]) });
    assert.deepEqual(md.toJSON(), { 'x-text': 'héllo', 'x-bin': Buffer.from([1, 2, 3, 250]).toString('base64') });
    assert.equal(JSON.stringify(md), '{"x-text":"héllo","x-bin":"AQID+g=="}');
  });

  it('encodes only the viewed bytes of a binary value that is a slice of a larger buffer', () => {
    const backing = Buffer.from([9, 9, 1, 2, 9]);
    const md = new Metadata({ 'x-bin': backing.subarray(2, 4) });
    assert.equal(md.toJSON()['x-bin'], Buffer.from([1, 2]).toString('base64'));
  });
});
