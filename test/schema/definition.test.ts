import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { Code, RpcError, defineService, type MethodOptions } from '../../src/index.js';
import { CallTable } from '../../src/core/call-table.js';
import { ServerCall } from '../../src/core/server-call.js';
import type { ServiceDefinition } from '../../src/core/service.js';

type AnyService = Record<string, (...args: unknown[]) => unknown>;

function define(options: Record<string, unknown>): ServiceDefinition {
  return defineService<AnyService>('test.schema.Defined', { methods: { run: options as MethodOptions } });
}

function refusedNaming(pattern: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof RpcError, `expected an RpcError, got ${String(error)}`);
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.match(error.message, /\brun\b/, 'the message names the method');
    assert.match(error.message, pattern);
    return true;
  };
}

describe('defineService checks schema options', () => {
  it('refuses args that are not Standard Schemas, naming the method and the position', () => {
    assert.throws(() => define({ args: [z.number(), { parse: () => 1 }] }), refusedNaming(/args\[1\] of run is not a Standard Schema/));
    assert.throws(() => define({ args: [null] }), refusedNaming(/args\[0\]/));
    assert.throws(() => define({ args: [{ '~standard': { validate: 'no' } }] }), refusedNaming(/args\[0\]/));
  });

  it('refuses args that are not an array', () => {
    assert.throws(() => define({ args: z.number() }), refusedNaming(/must be an array of schemas/));
  });

  it('refuses a result that is not a Standard Schema', () => {
    assert.throws(() => define({ result: (value: unknown) => value }), refusedNaming(/result of run is not a Standard Schema/));
  });

  it('refuses checkResult without a result schema', () => {
    assert.throws(() => define({ checkResult: true }), refusedNaming(/checkResult but no result schema/));
  });

  it('refuses more than one schema for a method that takes a stream', () => {
    assert.throws(() => define({ stream: 'client', args: [z.number(), z.number()] }), refusedNaming(/takes a stream: give one schema/));
  });

  it('accepts Standard Schemas of any library, and a function that is one', () => {
    const callable = Object.assign(() => undefined, { '~standard': { version: 1, vendor: 'test', validate: (value: unknown) => ({ value }) } });
    assert.equal(define({ args: [z.number(), callable], result: z.string(), checkResult: true }).methods.size, 1);
  });
});

describe('the call table with schemas', () => {
  const Sum = defineService('test.schema.Sum', {
    methods: {
      sync: { args: [z.number()] },
      async: { args: [z.number().refine(async () => true)] },
      bare: {},
    },
  });

  function started(method: 'sync' | 'async' | 'bare'): { ran: () => boolean; settled: Promise<unknown> } {
    let ran = false;
    const table = new CallTable();
    const run = async (n: unknown) => {
      ran = true;
      return n;
    };
    table.provide(Sum, { sync: run, async: run, bare: run }, []);
    const entry = table.lookup(Sum.id, method);
    assert.ok(!(entry instanceof RpcError));
    const settled = entry.handler(new ServerCall(entry.service, method, [1], undefined, undefined, false));
    return { ran: () => ran, settled };
  }

  it('runs the implementation at once after a synchronous schema: nothing is awaited on that path', async () => {
    const { ran, settled } = started('sync');
    assert.equal(ran(), true);
    assert.equal(await settled, 1);
  });

  it('runs the implementation only once an async schema has answered', async () => {
    const { ran, settled } = started('async');
    assert.equal(ran(), false);
    assert.equal(await settled, 1);
    assert.equal(ran(), true);
  });

  it('runs a method without schemas as before', async () => {
    const { ran, settled } = started('bare');
    assert.equal(ran(), true);
    assert.equal(await settled, 1);
  });
});
