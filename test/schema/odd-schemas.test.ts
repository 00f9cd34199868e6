import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { Code, defineService } from '../../src/index.js';
import { schemaIssuesOf } from '../../src/schema/issues.js';
import { recordEscapes, rejection } from '../support/assertions.js';
import { serve } from './peers.js';

/** A Standard Schema whose `validate` is `validate`, however badly it keeps the contract. */
function schema(validate: (value: unknown) => unknown): StandardSchemaV1 {
  return { '~standard': { version: 1, vendor: 'odd', validate: validate as StandardSchemaV1.Props['validate'] } };
}

const hostileIssue = {
  get message(): string {
    throw new Error('no message for you');
  },
  path: ['kept'],
};

const Odd = defineService('test.schema.Odd', {
  methods: {
    oddIssues: { args: [schema(() => ({ issues: [{ message: 'symbol key', path: [Symbol('secret'), { key: 3 }] }, hostileIssue, 'not an issue'] }))] },
    noIssues: { args: [schema(() => ({ issues: true }))] },
    throws: { args: [schema(() => { throw new TypeError('schema bug'); })] },
    rejects: { args: [schema(async () => { throw new TypeError('async schema bug'); }), schema(async () => ({ issues: [{ message: 'late' }] }))] },
    answersNothing: { args: [schema(() => undefined)] },
  },
});

describe('schemas that keep the contract loosely, or break it', () => {
  it('turns whatever a schema puts in its issues into plain messages and paths', async (t) => {
    const escaped = recordEscapes(t);
    let ran = 0;
    const odd = await serve(t, Odd, { oddIssues: async () => void ran++, noIssues: async () => void ran++, throws: async () => void ran++, rejects: async () => void ran++, answersNothing: async () => void ran++ });
    const error = await rejection(odd.oddIssues(1));
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.deepEqual(schemaIssuesOf(error), [
      { message: 'symbol key', path: [0, 'Symbol(secret)', 3] },
      { message: 'invalid value', path: [0] },
      { message: 'invalid value', path: [0] },
    ]);
    const none = await rejection(odd.noIssues(1));
    assert.deepEqual(schemaIssuesOf(none), [{ message: 'the schema refused the value', path: [0] }]);
    assert.equal(ran, 0);
    assert.deepEqual(escaped, []);
  });

  it('fails the call with INTERNAL when a schema throws, rejects or answers no result, and nothing escapes', async (t) => {
    const escaped = recordEscapes(t);
    let ran = 0;
    const odd = await serve(t, Odd, { oddIssues: async () => void ran++, noIssues: async () => void ran++, throws: async () => void ran++, rejects: async () => void ran++, answersNothing: async () => void ran++ });
    const thrown = await rejection(odd.throws(1));
    assert.equal(thrown.code, Code.INTERNAL);
    assert.match(thrown.message, /the schema of argument 0 of test\.schema\.Odd\.throws threw: schema bug/);
    const rejected = await rejection(odd.rejects(1, 2));
    assert.equal(rejected.code, Code.INTERNAL);
    assert.match(rejected.message, /rejected: async schema bug/);
    const nothing = await rejection(odd.answersNothing(1));
    assert.equal(nothing.code, Code.INTERNAL);
    assert.match(nothing.message, /answered undefined, not a result/);
    assert.equal(ran, 0);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(escaped, []);
  });
});
