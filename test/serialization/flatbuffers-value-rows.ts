import type { Outcome } from '../../src/conformance/values.js';
import { describeOutcome, valueCases } from '../../src/conformance/values.js';

/**
 * The FlatBuffers column of the conformance suite's values table (src/conformance/values.ts): for
 * each row, the field of `sy.values.Box` (test/fixtures/flatbuffers/values.fbs) that the value is
 * sent in, and what arrives. A FlatBuffers message is a table of a schema, so a value can only
 * travel where a field declares its type; each row uses the field closest to the value, and a
 * row FlatBuffers cannot express is refused there with INVALID_ARGUMENT, saying why. docs/calls.md
 * shows this table (checked by test/serialization/flatbuffers-conformance.test.ts).
 */
export interface FlatBuffersRow {
  /** The field of `Box` the value goes in; undefined: the value is the whole argument (and result). */
  readonly field: string | undefined;
  /** The field's type, as the table shows it. */
  readonly type: string;
  readonly outcome: Outcome;
  /** When a result fares otherwise than an argument. */
  readonly result?: Outcome;
}

const unchanged = (note?: string): Outcome => ({ kind: 'unchanged', note });
const refused = (note?: string): Outcome => ({ kind: 'refused', note });
const converted = (note: string, expect: () => unknown): Outcome => ({ kind: 'converted', note, expect });

const bytes = [0, 1, 127, 128, 254, 255];

export const flatbuffersRows: Readonly<Record<string, FlatBuffersRow>> = {
  '`Date`': { field: 'date', type: '`long`', outcome: refused('FlatBuffers has no date type: send `getTime()` in a `long`') },
  'invalid `Date`': { field: 'date', type: '`long`', outcome: refused('as `Date`') },
  '`bigint`': { field: 'bigints', type: 'a table of `long`s', outcome: refused('a `long` holds 64 bits, and the row holds `-(2n ** 80n)`; 64-bit integers arrive as `bigint`') },
  '`Map`': { field: 'map', type: 'a table', outcome: refused('a table has the fields its schema declares: use a vector of key/value tables') },
  '`Set`': { field: 'set', type: '`[int]`', outcome: refused('send an array') },
  '`Uint8Array`': { field: 'bytes', type: '`[ubyte]`', outcome: converted('a `Buffer` of the same bytes, viewing the received message', () => Buffer.from(bytes)) },
  '`Buffer`': { field: 'bytes', type: '`[ubyte]`', outcome: unchanged('viewing the received message') },
  '`undefined` as an argument or a result': {
    field: undefined,
    type: 'the whole message',
    outcome: refused('a call takes one table'),
    result: unchanged('a result of `undefined` is an empty answer, read as `undefined`'),
  },
  '`undefined` in an array': { field: 'strings', type: '`[string]`', outcome: refused('a vector has no empty items') },
  '`undefined` in an object field': { field: 'kept', type: 'a table', outcome: converted('the field is left out and reads as its default (`null` for a string)', () => ({ kept: 1, empty: null })) },
  '`NaN`, `Infinity`, `-Infinity`': { field: 'doubles', type: '`[double]`', outcome: unchanged() },
  '`-0`': { field: 'zero', type: 'a table of a `double`', outcome: unchanged() },
  'nested objects and arrays': { field: 'nested', type: 'a table of `[int]` and tables', outcome: refused('a vector holds one type, and `[1, { … }]` mixes two: nest tables instead') },
  'class instance': { field: 'point', type: 'a table', outcome: converted('a plain object of its own fields that the table declares', () => ({ x: 3, y: 4 })) },
  '`Error` value (returned or sent, not thrown)': { field: 'error', type: 'a table', outcome: refused('send its name and message in a table') },
  '`RegExp`': { field: 'pattern', type: '`string`', outcome: refused('send its source and flags as strings') },
  'typed arrays other than `Uint8Array` (`Float64Array`, `Int32Array`, …)': { field: 'samples', type: 'a table of `[double]`', outcome: refused('send the numbers as an array') },
  '`ArrayBuffer`, `DataView`': { field: 'buffers', type: '`[ubyte]`', outcome: refused('send a `Uint8Array` over it') },
  'sparse array': { field: 'ints', type: '`[int]`', outcome: refused('a vector has no empty items') },
};

/** The row of a values-table case; every case has one. */
export function flatbuffersRow(name: string): FlatBuffersRow {
  const row = flatbuffersRows[name];
  if (row === undefined) throw new Error(`the values table has a row ${name} that flatbuffers-value-rows.ts does not place`);
  return row;
}

/** The table as docs/calls.md shows it, in the order of the values table. */
export function flatbuffersTableMarkdown(): string {
  const lines = ['| value | sent in | FlatBuffers |', '| --- | --- | --- |'];
  for (const valueCase of valueCases) {
    const row = flatbuffersRow(valueCase.name);
    const result = row.result === undefined ? '' : `; as a result: ${describeOutcome(row.result)}`;
    lines.push(`| ${valueCase.name} | ${row.type} | ${describeOutcome(row.outcome)}${result} |`);
  }
  return lines.join('\n');
}
