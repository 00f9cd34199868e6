import assert from 'node:assert/strict';
import { Code, codeName } from '../core/code.js';
import { rejectionOf, type Row } from './fixture.js';
import { uniqueTag } from './probe.js';
import { ConformanceService } from './service.js';

/** Issues from an error's details, sorted by path so that the order schemas answered in does not matter. */
function issuesOf(details: Record<string, unknown>): Array<{ message: unknown; path: unknown }> {
  const { issues } = details;
  assert.ok(Array.isArray(issues), `details carry the issues: ${JSON.stringify(details)}`);
  return (issues as Array<{ message: unknown; path: unknown }>)
    .map(({ message, path }) => ({ message, path }))
    .sort((a, b) => JSON.stringify(a.path).localeCompare(JSON.stringify(b.path)));
}

export const schemaRows: readonly Row[] = [
  {
    name: 'schemas: arguments a schema refuses are INVALID_ARGUMENT with the issues in details, and the handler does not run',
    async run({ client, probe }) {
      const tag = uniqueTag('schema-refused');
      // Through invoke: the proxy's types would not let these arguments be sent.
      const error = await rejectionOf(client.invoke(ConformanceService, 'checkedPoint', [tag, { x: 1, y: 'two' }, 42]), 'checkedPoint with a bad point and label');
      assert.equal(codeName(error.code), codeName(Code.INVALID_ARGUMENT), error.message);
      assert.match(error.message, /invalid arguments for switchyard\.conformance\.Conformance:1\.0\.0\.checkedPoint/);
      assert.deepEqual(issuesOf(error.details), [
        { message: 'expected a number', path: [1, 'y'] },
        { message: 'expected a non-blank string', path: [2] },
      ]);
      assert.equal(probe.received.has(tag), false, 'the handler did not run');
    },
  },
  {
    name: 'schemas: more arguments than schemas are INVALID_ARGUMENT',
    async run({ client, probe }) {
      const tag = uniqueTag('schema-count');
      const error = await rejectionOf(client.invoke(ConformanceService, 'checkedPoint', [tag, { x: 1, y: 2 }, 'a', 2, 'extra']), 'checkedPoint with five arguments');
      assert.equal(codeName(error.code), codeName(Code.INVALID_ARGUMENT), error.message);
      assert.match(error.message, /takes 4 arguments, not 5/);
      assert.equal(probe.received.has(tag), false, 'the handler did not run');
    },
  },
  {
    name: 'schemas: the handler gets what the schemas output: defaults, conversions and async schemas',
    async run({ service, probe }) {
      const tag = uniqueTag('schema-output');
      const point = { x: 1.5, y: -2, note: 'dropped by the schema' } as { x: number; y: number };
      const answer = await service.checkedPoint(tag, point, '  Blue ');
      const expected = { point: { x: 1.5, y: -2 }, label: 'blue', scale: 1 };
      assert.deepEqual(probe.received.get(tag), expected, 'the handler saw the outputs');
      assert.deepEqual(answer, expected);
      assert.deepEqual(await service.checkedPoint(uniqueTag('schema-output'), { x: 0, y: 0 }, 'x', 3), { point: { x: 0, y: 0 }, label: 'x', scale: 3 });
    },
  },
  {
    name: 'schemas: a result its schema refuses is INTERNAL when the method checks results',
    async run({ service }) {
      assert.equal(await service.checkedResult(7), 7, 'a result that fits passes');
      const error = await rejectionOf(service.checkedResult('seven'), 'checkedResult("seven")');
      assert.equal(codeName(error.code), codeName(Code.INTERNAL), error.message);
      assert.match(error.message, /the result of .*checkedResult does not match its schema/);
    },
  },
  {
    name: 'client streams: each item passes its schema as the handler reads it; one refused fails the call with INVALID_ARGUMENT',
    async run({ service }) {
      const items = [{ index: 1 }, { index: '2' }, { index: 3 }] as Array<{ index: number }>;
      assert.deepEqual(await service.checkedTotal(items), { count: 3, indexSum: 6 }, 'the handler read the outputs ("2" became 2)');
      const bad = [{ index: 1 }, { index: 2 }, { index: 'three' }, { index: 4 }] as Array<{ index: number }>;
      const error = await rejectionOf(service.checkedTotal(bad), 'checkedTotal with a bad third item');
      assert.equal(codeName(error.code), codeName(Code.INVALID_ARGUMENT), error.message);
      assert.equal(error.details.item, 2, 'details name the item');
      assert.deepEqual(issuesOf(error.details), [{ message: 'expected a whole number', path: ['index'] }]);
    },
  },
];
