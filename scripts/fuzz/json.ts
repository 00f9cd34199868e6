/**
 * Target `json`: JSON decoding of untrusted bytes, the body of every HTTP call and of TCP calls
 * made with `serializer: 'json'`. Property: decoding throws nothing but `SyntaxError` (bad JSON,
 * a malformed tag), `RangeError` (a `$bigint` over the digit limit, nesting past the stack) or
 * `TypeError` (bytes that are not UTF-8), and the call path turns each into `RpcError`
 * INVALID_ARGUMENT; a decoded value has no cycle, no foreign prototype, writes to no prototype, can
 * be sent back and arrives again as it is, and is the same whatever was decoded before it.
 * Round trip: every value the values table says JSON carries arrives unchanged.
 */
import fc from 'fast-check';
import { Code } from '../../src/core/code.js';
import { RpcError } from '../../src/core/rpc-error.js';
import { jsonSerializer } from '../../src/serialization/json.js';
import { serializerCodec } from '../../src/transport/grpc/codec.js';
import { bodyArgs } from '../../src/transport/http/routes.js';
import type { Rng } from './mutator.js';
import { ensure, expectOnly, property, type FuzzTarget } from './runner.js';
import { checkDecoded, faithfulValue, fingerprint, sameValue, sampleValues } from './values.js';

const json = jsonSerializer();
const codec = serializerCodec(json);
const isDecodeError = (error: unknown) => error instanceof SyntaxError || error instanceof RangeError || error instanceof TypeError;
const isInvalidArgument = (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT;

const tagged = [
  '{"$bytes":"AAEC/w=="}', '{"$bigint":"-123456789012345678901234567890"}', '{"$map":[[1,"a"],[{"$bigint":"1"},[2]]]}',
  '{"$set":[1,"a",{"$date":"2024-02-29T12:34:56.789Z"}]}', '[{"$number":"NaN"},{"$number":"-0"},{"$undefined":true},null]',
  '{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}', '[1.5e308,-0,0.1,"\\ud800\\udc00","\\u0000"]',
];
const seeds = [...sampleValues.map((value) => json.encode(value)), ...tagged.map((text) => Buffer.from(text))];
const dictionary = [
  '{"$bytes":"', '{"$bigint":"', '{"$map":[', '{"$set":[', '{"$date":"', '{"$number":"', '{"$undefined":true}', '"__proto__"',
  '[', ']', '{', '}', ',', ':', '"', '\\u0000', '\\ud800', '1e999', '-0', 'NaN', '9'.repeat(4301), '[[[[[[[[', '"==', '2024-02-30T00:00:00.000Z',
].map((word) => Buffer.from(word)).concat([Buffer.from([0xff]), Buffer.from([0xc0, 0x80]), Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from([0xed, 0xa0, 0x80])]);

const tags = ['$bytes', '$bigint', '$map', '$set', '$date', '$number', '$undefined'];
const atoms = ['null', 'true', 'false', '0', '-0', '1e308', '-1e-320', '"x"', '""', '"AAEC/w=="', '"-12"', '"9007199254740993"', '"NaN"', '"-Infinity"',
  '"-0"', '"2024-02-29T12:34:56.789Z"', '"+275760-09-13T00:00:00.000Z"', '"__proto__"', '"\\ud800"', '[]', '{}', '"="', '"-"', '"1_0"'];

/** Random JSON text made of tags, with contents of the right form and of the wrong one. */
function generate(rng: Rng): Buffer {
  const value = (depth: number): string => {
    const roll = depth > 6 ? 0 : rng.int(6);
    if (roll <= 1) return rng.pick(atoms);
    if (roll === 2) return `[${Array.from({ length: rng.int(4) }, () => value(depth + 1)).join(',')}]`;
    if (roll === 3) return `{${Array.from({ length: rng.int(3) }, () => `${JSON.stringify(rng.pick([...tags, 'a', '__proto__']))}:${value(depth + 1)}`).join(',')}}`;
    const tag = rng.pick(tags);
    const content = tag === '$map' ? `[${Array.from({ length: rng.int(3) }, () => `[${value(depth + 1)},${value(depth + 1)}]`).join(',')}]` : value(depth + 1);
    return `{${JSON.stringify(tag)}:${content}}`;
  };
  return Buffer.from(value(0));
}

let checked = 0;

function check(input: Buffer, rng: Rng): void {
  const args = expectOnly('json decodeRequest', () => codec.decodeRequest(input), isInvalidArgument);
  ensure(args === undefined || Array.isArray(args), 'decodeRequest returned no array');
  const value = expectOnly('json decode', () => json.decode(input), isDecodeError);
  if (value === undefined) return;
  const { depth } = checkDecoded(value);
  ensure(bodyArgs(value).length >= 0, 'bodyArgs');
  // What arrived can be sent back (an echo, an HTTP answer) and arrives again as it is.
  if (depth < 1000) {
    const bytes = expectOnly('json encode of a decoded value', () => json.encode(value), () => false)!;
    ensure(sameValue(value, json.decode(bytes), true), `a decoded value changed when sent again: ${fingerprint(value).slice(0, 200)}`);
  }
  if ((++checked & 63) === 0 || rng.chance(0.01)) {
    const again = expectOnly('json decode (fresh)', () => jsonSerializer().decode(input), () => false);
    ensure(fingerprint(value) === fingerprint(again), 'a fresh decoder read the bytes differently: the decoder keeps state');
  }
}

export const jsonTarget: FuzzTarget = {
  name: 'json',
  seeds,
  dictionary,
  maxLength: 4096,
  text: true,
  generate,
  check,
  properties: [
    property('values the table says JSON carries arrive unchanged', fc.property(faithfulValue({ invalidDates: false }), (value) => {
      const got = json.decode(json.encode(value));
      ensure(sameValue(value, got, true), `changed on the way: ${fingerprint(value)} arrived as ${fingerprint(got)}`);
      checkDecoded(got);
    })),
    property('any JSON text: a decode error or a clean value', fc.property(fc.json({ maxDepth: 4 }), fc.constantFrom(...dictionary.map(String)), fc.nat(), (text, word, at) => {
      const bytes = Buffer.from(text.slice(0, at % (text.length + 1)) + word + text.slice(at % (text.length + 1)));
      expectOnly('json decodeRequest', () => codec.decodeRequest(bytes), isInvalidArgument);
      const value = expectOnly('json decode', () => json.decode(bytes), isDecodeError);
      if (value !== undefined) checkDecoded(value);
    })),
    property('any bytes: a decode error or a clean value', fc.property(fc.uint8Array({ maxLength: 128 }), (bytes) => {
      const input = Buffer.from(bytes);
      expectOnly('json decodeRequest', () => codec.decodeRequest(input), isInvalidArgument);
      checkDecoded(expectOnly('json decode', () => json.decode(input), isDecodeError));
    })),
  ],
};
