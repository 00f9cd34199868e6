import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test, type TestContext } from 'node:test';
import { Code, codeName, createClient, createServer, RpcError } from '../../src/index.js';
import { valueCases, type Outcome, type ValueCase } from '../../src/conformance/values.js';
import { defineServiceFromFbs } from '../../src/serialization/flatbuffers/service.js';
import { onCleanup } from '../support/calculator.js';
import { ensureFlatc, fixtures } from './flatbuffers-fixtures.js';
import { flatbuffersRow, flatbuffersTableMarkdown } from './flatbuffers-value-rows.js';

ensureFlatc();

type Box = Record<string, unknown>;
interface Values {
  receive(box: Box | undefined): Promise<Box>;
  produce(which: { name: string }): Promise<Box | undefined>;
}
const ValuesService = defineServiceFromFbs<Values>(fixtures.values, 'sy.values.Values');

/** A server whose `receive` records the box it got, and whose `produce` returns the named row's value in its field. */
async function start(t: TestContext, listen: string) {
  const received: Box[] = [];
  const server = createServer({ registry: false, listen: [listen], serializers: ['msgpack', 'json', 'flatbuffers'] });
  server.provide(ValuesService, {
    async receive(box) {
      received.push(box!);
      return {};
    },
    async produce({ name }) {
      const valueCase = valueCases.find((candidate) => candidate.name === name)!;
      const field = flatbuffersRow(name).field;
      return field === undefined ? (valueCase.make() as Box | undefined) : { [field]: valueCase.make() };
    },
  });
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  const client = createClient({ url: address!, serializer: 'flatbuffers' });
  onCleanup(t, () => client.close());
  return { received, values: client.proxy(ValuesService) };
}

async function failure(promise: Promise<unknown>, what: string): Promise<RpcError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof RpcError, `${what}: expected an RpcError, got ${String(error)}`);
    return error;
  }
  assert.fail(`${what} should have been refused`);
}

function assertArrived(arrived: unknown, valueCase: ValueCase, outcome: Outcome, direction: string): void {
  if (outcome.kind === 'unchanged' && valueCase.isUnchanged !== undefined) {
    assert.ok(valueCase.isUnchanged(arrived), `${valueCase.name} ${direction} arrived changed`);
    return;
  }
  const expected = outcome.kind === 'converted' ? outcome.expect() : valueCase.make();
  assert.deepStrictEqual(arrived, expected, `${valueCase.name} ${direction}`);
}

for (const listen of ['tcp://127.0.0.1:0', 'grpc://127.0.0.1:0']) {
  describe(`the conformance values table through a .fbs service over ${listen.split(':')[0]}://`, () => {
    for (const valueCase of valueCases) {
      const row = flatbuffersRow(valueCase.name);
      test(`values: ${valueCase.name.replaceAll('`', '')}`, async (t) => {
        const { received, values } = await start(t, listen);
        const sent = row.field === undefined ? valueCase.make() : { [row.field]: valueCase.make() };
        if (row.outcome.kind === 'refused') {
          const error = await failure(values.receive(sent as Box), `${valueCase.name} as an argument`);
          assert.equal(codeName(error.code), codeName(Code.INVALID_ARGUMENT), error.message);
          assert.match(error.message, /cannot carry/);
          assert.equal(received.length, 0, 'the handler did not run');
        } else {
          await values.receive(sent as Box);
          assertArrived(row.field === undefined ? received[0] : received[0]![row.field], valueCase, row.outcome, 'as an argument');
        }
        const result = row.result ?? row.outcome;
        if (result.kind === 'refused') {
          const error = await failure(values.produce({ name: valueCase.name }), `${valueCase.name} as a result`);
          assert.equal(codeName(error.code), codeName(Code.INTERNAL), error.message);
          assert.match(error.message, /cannot carry/);
        } else {
          const box = await values.produce({ name: valueCase.name });
          assertArrived(row.field === undefined ? box : box![row.field], valueCase, result, 'as a result');
        }
      });
    }
  });
}

/** The first table under `### <heading>` of docs/calls.md. */
function tableUnder(page: string, heading: string): string[] {
  const section = page.split(`\n### ${heading}\n`)[1]?.split('\n#')[0];
  assert.ok(section !== undefined, `docs/calls.md has a "${heading}" section`);
  return section.split('\n').filter((line) => line.startsWith('|'));
}

test('docs/calls.md shows the FlatBuffers column of the values table, row for row', () => {
  const page = readFileSync(new URL('../../docs/calls.md', import.meta.url), 'utf8');
  assert.deepEqual(tableUnder(page, 'FlatBuffers'), flatbuffersTableMarkdown().split('\n'));
});
