/**
 * The values table: what each serializer does with each kind of value. docs/calls.md ("Values:
 * what arrives") is this table in words, checked against it by test/conformance/values-doc.test.ts,
 * and the conformance suite sends every line both ways on every transport, so the page, the table
 * and the behaviour cannot drift apart.
 */

/** What arrives when a value is sent. */
export type Outcome =
  /** Arrives deep-equal to what was sent, with the same types; `note` says how it travels. */
  | { readonly kind: 'unchanged'; readonly note?: string }
  /** Arrives as `expect()` returns it: a documented conversion, described by `note`. */
  | { readonly kind: 'converted'; readonly note: string; readonly expect: () => unknown }
  /** The serializer refuses it: `INVALID_ARGUMENT` before an argument is sent, `INTERNAL` for a result. */
  | { readonly kind: 'refused'; readonly note?: string };

/** The serializers whose behaviour the table gives; a transport follows one of them. */
export type ValueColumn = 'msgpack' | 'json';

export interface ValueCase {
  /** The value as the table names it. */
  readonly name: string;
  readonly make: () => unknown;
  /** For a value `assert.deepStrictEqual` cannot compare (an invalid Date is unequal to itself): whether it arrived unchanged. */
  readonly isUnchanged?: (arrived: unknown) => boolean;
  readonly msgpack: Outcome;
  readonly json: Outcome;
}

const unchanged = (note?: string): Outcome => ({ kind: 'unchanged', note });
const refused = (note?: string): Outcome => ({ kind: 'refused', note });
const converted = (note: string, expect: () => unknown): Outcome => ({ kind: 'converted', note, expect });

/** A class instance with a field, a getter and a method, none of which a serializer can send as such. */
class Point {
  constructor(readonly x: number, readonly y: number) {}

  get length(): number {
    return Math.hypot(this.x, this.y);
  }

  scaled(by: number): Point {
    return new Point(this.x * by, this.y * by);
  }
}

const bytes = [0, 1, 127, 128, 254, 255];

export const valueCases: readonly ValueCase[] = [
  {
    name: '`Date`',
    make: () => new Date('2024-02-29T12:34:56.789Z'),
    msgpack: unchanged(),
    json: unchanged('as `{"$date": "2024-02-29T12:34:56.789Z"}`'),
  },
  {
    name: 'invalid `Date`',
    make: () => new Date(Number.NaN),
    isUnchanged: (arrived) => arrived instanceof Date && Number.isNaN(arrived.getTime()),
    msgpack: unchanged(),
    json: refused('it has no ISO form'),
  },
  {
    name: '`bigint`',
    make: () => ({ small: 5n, int64: 2n ** 63n - 1n, wide: -(2n ** 80n) }),
    msgpack: unchanged('any size'),
    json: unchanged('as `{"$bigint": "<digits>"}`, at most 4,300 digits'),
  },
  {
    name: '`Map`',
    make: () => new Map<unknown, unknown>([[1, 'one'], ['inner', new Map([[true, null]])]]),
    msgpack: unchanged('keys of any type'),
    json: unchanged('as `{"$map": [[key, value], …]}`, keys of any type'),
  },
  {
    name: '`Set`',
    make: () => new Set<unknown>(['a', 1, 2n]),
    msgpack: unchanged(),
    json: unchanged('as `{"$set": [item, …]}`'),
  },
  {
    name: '`Uint8Array`',
    make: () => new Uint8Array(bytes),
    msgpack: converted('a `Buffer` (a `Uint8Array`) of the same bytes, viewing the received frame', () => Buffer.from(bytes)),
    json: converted('a `Buffer` (a `Uint8Array`) of the same bytes, as `{"$bytes": "<base64>"}`', () => Buffer.from(bytes)),
  },
  {
    name: '`Buffer`',
    make: () => Buffer.from(bytes),
    msgpack: unchanged(),
    json: unchanged('as `{"$bytes": "<base64>"}`'),
  },
  {
    name: '`undefined` as an argument or a result',
    make: () => undefined,
    msgpack: unchanged(),
    json: unchanged('a result of `undefined` is an empty body'),
  },
  {
    name: '`undefined` in an array',
    make: () => ['a', undefined, 'b'],
    msgpack: unchanged(),
    json: unchanged('as `{"$undefined": true}`'),
  },
  {
    name: '`undefined` in an object field',
    make: () => ({ kept: 1, empty: undefined }),
    msgpack: unchanged(),
    json: converted('the field is left out (reading it still gives `undefined`)', () => ({ kept: 1 })),
  },
  {
    name: '`NaN`, `Infinity`, `-Infinity`',
    make: () => [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
    msgpack: unchanged(),
    json: unchanged('as `{"$number": "NaN"}`, `"Infinity"`, `"-Infinity"`'),
  },
  {
    name: '`-0`',
    make: () => ({ zero: -0 }),
    msgpack: unchanged('as a float64'),
    json: unchanged('as `{"$number": "-0"}`'),
  },
  {
    name: 'nested objects and arrays',
    make: () => ({ list: [1, { deeper: [{ deepest: 'yes' }] }], tree: { left: { leaf: null }, right: { leaf: true } } }),
    msgpack: unchanged(),
    json: unchanged(),
  },
  {
    name: 'class instance',
    make: () => new Point(3, 4),
    msgpack: converted('a plain object of its own enumerable fields (or what its `toJSON()` returns): prototype, getters and methods stay behind', () => ({ x: 3, y: 4 })),
    json: converted('the same as MessagePack', () => ({ x: 3, y: 4 })),
  },
  {
    name: '`Error` value (returned or sent, not thrown)',
    make: () => new TypeError('a value, not a failure'),
    msgpack: refused('send its name and message as plain data; a *thrown* error travels as an `RpcError` (see Errors)'),
    json: refused(),
  },
  {
    name: '`RegExp`',
    make: () => /ab+c/giu,
    msgpack: refused('send its source and flags'),
    json: refused(),
  },
  {
    name: 'typed arrays other than `Uint8Array` (`Float64Array`, `Int32Array`, …)',
    make: () => ({ samples: new Float64Array([1.5, -2]) }),
    msgpack: refused('send the bytes as a `Uint8Array`, or the numbers as an array'),
    json: refused(),
  },
  {
    name: '`ArrayBuffer`, `DataView`',
    make: () => [new ArrayBuffer(4)],
    msgpack: refused('send a `Uint8Array` over it'),
    json: refused(),
  },
  {
    name: 'sparse array',
    // eslint-disable-next-line no-sparse-arrays -- the hole is the point of this case
    make: () => [1, , 3],
    msgpack: converted('holes arrive as `undefined` items (same length)', () => [1, undefined, 3]),
    json: converted('the same as MessagePack, holes as `{"$undefined": true}`', () => [1, undefined, 3]),
  },
];

/** The text of one cell of the table. */
export function describeOutcome(outcome: Outcome): string {
  if (outcome.kind === 'converted') return outcome.note;
  if (outcome.note === undefined) return outcome.kind;
  return `${outcome.kind}${outcome.kind === 'refused' ? ':' : ','} ${outcome.note}`;
}

/** The table as docs/calls.md shows it. */
export function valuesTableMarkdown(): string {
  const lines = ['| value | MessagePack | JSON |', '| --- | --- | --- |'];
  for (const valueCase of valueCases) {
    lines.push(`| ${valueCase.name} | ${describeOutcome(valueCase.msgpack)} | ${describeOutcome(valueCase.json)} |`);
  }
  return lines.join('\n');
}
