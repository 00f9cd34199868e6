import assert from 'node:assert/strict';
import test from 'node:test';
import { ConflictException, HttpException, HttpStatus, ServiceUnavailableException } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { Code, RpcError, codeName } from '../../src/index.js';
import { codeOfHttpStatus, toRpcError } from '../../src/nestjs/index.js';

function summary(error: RpcError): { code: string; name: string; message: string } {
  return { code: codeName(error.code), name: error.name, message: error.message };
}

test('an RpcError passes as it is', () => {
  const error = new RpcError(Code.NOT_FOUND, 'no such user', { details: { id: 3 } });
  assert.equal(toRpcError(error), error);
});

test('an RpcException object names its code by number, by name, or by HTTP statusCode', () => {
  assert.deepEqual(summary(toRpcError(new RpcException({ code: Code.UNAVAILABLE, message: 'down' }))), { code: 'UNAVAILABLE', name: 'RpcException', message: 'down' });
  assert.deepEqual(summary(toRpcError(new RpcException({ code: 'PERMISSION_DENIED', message: 'no', name: 'NotYours' }))), { code: 'PERMISSION_DENIED', name: 'NotYours', message: 'no' });
  assert.deepEqual(summary(toRpcError(new RpcException({ statusCode: 429, message: 'slow down' }))), { code: 'RESOURCE_EXHAUSTED', name: 'RpcException', message: 'slow down' });
  // OK is no failure, and a name that is no code is ignored: UNKNOWN.
  assert.equal(toRpcError(new RpcException({ code: 'OK', message: 'fine?' })).code, Code.UNKNOWN);
  assert.equal(toRpcError(new RpcException({ code: 'toString', message: 'odd' })).code, Code.UNKNOWN);
  assert.equal(toRpcError(new RpcException({ code: 0, message: 'zero' })).code, Code.UNKNOWN);
});

test('the plain objects of Nest’s own exception filter become UNKNOWN errors with their message', () => {
  assert.deepEqual(summary(toRpcError({ status: 'error', message: 'Internal server error' })), { code: 'UNKNOWN', name: 'RpcError', message: 'Internal server error' });
  assert.deepEqual(summary(toRpcError('plain words')), { code: 'UNKNOWN', name: 'RpcError', message: 'plain words' });
});

test('an HttpException maps by its status; 422 is INVALID_ARGUMENT, other 4xx FAILED_PRECONDITION, other 5xx INTERNAL', () => {
  assert.deepEqual(summary(toRpcError(new ConflictException('taken'))), { code: 'FAILED_PRECONDITION', name: 'ConflictException', message: 'taken' });
  assert.deepEqual(summary(toRpcError(new ServiceUnavailableException())), { code: 'UNAVAILABLE', name: 'ServiceUnavailableException', message: 'Service Unavailable' });
  assert.deepEqual(summary(toRpcError(new HttpException('teapot', HttpStatus.I_AM_A_TEAPOT))), { code: 'FAILED_PRECONDITION', name: 'HttpException', message: 'teapot' });
  const table: Array<[number, Code]> = [
    [400, Code.INVALID_ARGUMENT], [401, Code.UNAUTHENTICATED], [403, Code.PERMISSION_DENIED], [404, Code.NOT_FOUND],
    [408, Code.DEADLINE_EXCEEDED], [409, Code.FAILED_PRECONDITION], [412, Code.FAILED_PRECONDITION], [422, Code.INVALID_ARGUMENT],
    [429, Code.RESOURCE_EXHAUSTED], [499, Code.CANCELLED], [500, Code.INTERNAL], [501, Code.UNIMPLEMENTED], [502, Code.UNAVAILABLE],
    [503, Code.UNAVAILABLE], [504, Code.DEADLINE_EXCEEDED], [507, Code.INTERNAL], [302, Code.UNKNOWN],
  ];
  for (const [status, code] of table) assert.equal(codeName(codeOfHttpStatus(status)), codeName(code), `HTTP ${status}`);
});

test('another Error keeps its name and message as UNKNOWN; a value that is no object is described', () => {
  assert.deepEqual(summary(toRpcError(new RangeError('too far'))), { code: 'UNKNOWN', name: 'RangeError', message: 'too far' });
  assert.deepEqual(summary(toRpcError(42)), { code: 'UNKNOWN', name: 'RpcError', message: 'non-error value thrown: 42' });
});

test('an object whose fields throw when read is still described, not thrown again', () => {
  const hostile = new Proxy({}, { get: () => { throw new Error('trap'); }, ownKeys: () => { throw new Error('trap'); } });
  const error = toRpcError(hostile);
  assert.ok(error instanceof RpcError);
  assert.equal(error.code, Code.UNKNOWN);
});
