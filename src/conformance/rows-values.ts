import assert from 'node:assert/strict';
import { Code, codeName } from '../core/code.js';
import { rejectionOf, type Row } from './fixture.js';
import { uniqueTag } from './probe.js';
import { valueCases, type Outcome, type ValueCase } from './values.js';

function assertArrived(arrived: unknown, valueCase: ValueCase, outcome: Outcome, direction: string): void {
  if (outcome.kind === 'unchanged' && valueCase.isUnchanged !== undefined) {
    assert.ok(valueCase.isUnchanged(arrived), `${valueCase.name} ${direction} arrived changed`);
    return;
  }
  const expected = outcome.kind === 'converted' ? outcome.expect() : valueCase.make();
  try {
    assert.deepStrictEqual(arrived, expected, `${valueCase.name} ${direction}`);
  } catch (error) {
    // The report keeps the message (with its diff) only: node:test's TAP writer throws on an invalid Date.
    throw new assert.AssertionError({ message: error instanceof Error ? error.message : String(error) });
  }
}

/** One row per line of the values table: the value sent as an argument, then returned as a result. */
export const valueRows: readonly Row[] = valueCases.map((valueCase): Row => ({
  name: `values: ${valueCase.name.replaceAll('`', '')}`,
  async run({ service, probe, column }) {
    const outcome = valueCase[column];
    const tag = uniqueTag('value');
    if (outcome.kind === 'refused') {
      const error = await rejectionOf(service.receive(tag, valueCase.make()), `${valueCase.name} as an argument`);
      assert.equal(codeName(error.code), codeName(Code.INVALID_ARGUMENT), error.message);
      assert.match(error.message, /cannot carry/);
      assert.equal(probe.received.has(tag), false, 'the handler did not run');
      const failure = await rejectionOf(service.produce(valueCase.name), `${valueCase.name} as a result`);
      assert.equal(codeName(failure.code), codeName(Code.INTERNAL), failure.message);
      assert.match(failure.message, /cannot carry/);
      return;
    }
    await service.receive(tag, valueCase.make());
    assert.ok(probe.received.has(tag), 'the handler ran');
    assertArrived(probe.received.get(tag), valueCase, outcome, 'as an argument');
    assertArrived(await service.produce(valueCase.name), valueCase, outcome, 'as a result');
  },
}));
