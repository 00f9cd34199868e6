import assert from 'node:assert/strict';
import test from 'node:test';
import { Code, RpcError } from '../../../src/index.js';
import { jsonSerializer } from '../../../src/serialization/json.js';
import { msgpackSerializer } from '../../../src/serialization/msgpack.js';
import type { Serializer } from '../../../src/serialization/serializer.js';
import { encodeError } from '../../../src/transport/tcp/wire-error.js';

const msgpack = msgpackSerializer();
const json = jsonSerializer();

function decoded(result: { serializer: Serializer; body: Uint8Array }): Record<string, unknown> {
  return result.serializer.decode(result.body) as Record<string, unknown>;
}

test('an error that fits is written whole in the given serializer, with its metadata', () => {
  const error = new RpcError(Code.NOT_FOUND, 'no such user', { name: 'MissingUser', details: { id: 7 } });
  const result = encodeError(msgpack, error, 1024, 100);
  assert.equal(result.serializer, msgpack);
  assert.equal(result.keepMetadata, true);
  assert.deepEqual(decoded(result), { code: Code.NOT_FOUND, name: 'MissingUser', message: 'no such user', details: { id: 7 } });
});

test('an error over the limit keeps its code and name, the start of its message, and loses its details', () => {
  const error = new RpcError(Code.FAILED_PRECONDITION, 'm'.repeat(100_000), { name: 'Big', details: { blob: 'd'.repeat(100_000) } });
  const result = encodeError(msgpack, error, 64 * 1024);
  assert.ok(result.body.length <= 64 * 1024);
  const body = decoded(result);
  assert.equal(body.code, error.code);
  assert.equal(body.name, 'Big');
  assert.equal(body.details, undefined);
  assert.match(String(body.message), /^m{1000}… \[error shortened: its \d+ bytes exceed the frame limit of 65536\]$/);
});

test('huge details alone are dropped and the message kept whole', () => {
  const error = new RpcError(Code.INVALID_ARGUMENT, 'bad field', { details: { blob: 'd'.repeat(10_000) } });
  const body = decoded(encodeError(json, error, 2048));
  assert.match(String(body.message), /^bad field \[error shortened/);
  assert.equal(body.details, undefined);
});

test('metadata that leaves no room is dropped rather than the error', () => {
  const error = new RpcError(Code.INTERNAL, 'oops');
  const result = encodeError(msgpack, error, 1024, 1000);
  assert.equal(result.keepMetadata, false);
  assert.ok(result.body.length <= 1024);
  assert.match(String(decoded(result).message), /^oops \[error shortened: its \d+ bytes exceed the frame limit of 1024\]$/);
});

test('a message cut short never splits a surrogate pair', () => {
  const message = `${'a'.repeat(999)}😀${'b'.repeat(20_000)}`;
  const body = decoded(encodeError(json, new RpcError(Code.UNKNOWN, message), 8 * 1024));
  const kept = String(body.message).split('…')[0]!;
  assert.equal(kept, 'a'.repeat(999));
});

test('a serializer that cannot write the error falls back to JSON, and a tiny limit still gets the code across', () => {
  const broken: Serializer = { id: 42, name: 'broken', encode: () => { throw new Error('no'); }, decode: () => undefined };
  const fallback = encodeError(broken, new RpcError(Code.UNAVAILABLE, 'down'), 1024);
  assert.equal(fallback.serializer.id, json.id);
  assert.equal(decoded(fallback).message, 'down');
  const tiny = encodeError(json, new RpcError(Code.UNAVAILABLE, 'x'.repeat(500), { name: 'N'.repeat(500) }), 120);
  assert.ok(tiny.body.length <= 120, `${tiny.body.length} bytes`);
  assert.equal(decoded(tiny).code, Code.UNAVAILABLE);
});
