/**
 * Target `msgpack`: MessagePack decoding of untrusted bytes, as a server reads call arguments.
 * Property: decoding throws nothing but an `Error`, and the call path turns that into `RpcError`
 * INVALID_ARGUMENT; a decoded value has no cycles, no foreign prototype, writes to no prototype,
 * and is the same whatever was decoded before it (the decoder keeps no state between messages).
 * Round trip: every value the values table says MessagePack carries arrives unchanged.
 */
import fc from 'fast-check';
import { DEFAULT_DECODE_LIMITS } from '../../src/serialization/serializer.js';
import { Code } from '../../src/core/code.js';
import { RpcError } from '../../src/core/rpc-error.js';
import { msgpackSerializer } from '../../src/serialization/msgpack.js';
import { serializerCodec } from '../../src/transport/grpc/codec.js';
import type { Rng } from './mutator.js';
import { ensure, expectOnly, property, type FuzzTarget } from './runner.js';
import { checkDecoded, faithfulValue, fingerprint, sameValue, sampleValues } from './values.js';

const msgpack = msgpackSerializer();
const codec = serializerCodec(msgpack);
const isError = (error: unknown) => error instanceof Error;
const isInvalidArgument = (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT;

const seeds = sampleValues.map((value) => msgpack.encode(value));
// Type bytes that open containers, extensions and sized values; the ids of the extensions in use.
const dictionary = [
  [0xdc, 0xff, 0xff], [0xdd, 0xff, 0xff, 0xff, 0xff], [0xde, 0x00, 0x10], [0xdf, 0x7f, 0xff, 0xff, 0xff], [0xc4, 0xff], [0xc6, 0x7f, 0xff, 0xff, 0xff],
  [0xd9, 0xff], [0xdb, 0xff, 0xff, 0xff, 0xff], [0xd4, 0x4d], [0xd5, 0x53], [0xc7, 0x05, 0x4d], [0xd6, 0xff], [0xd7, 0xff], [0xc7, 0x0c, 0xff],
  [0xd4, 0x70], [0xd4, 0x78], [0xd5, 0x69], [0xd4, 0x42], [0xc7, 0x09, 0x42], [0xd4, 0x2d], [0xd4, 0x62], [0xd4, 0x72], [0xd4, 0x74], [0xc1],
  [0x81, 0xa9, ...Buffer.from('__proto__')], [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0],
].map((bytes) => Buffer.from(bytes));

/** Prototypes a decoded value may hold beyond plain data: none (msgpack-scan.ts refuses the rest). */
const reportedExtras = new Set<unknown>();

const MSGPACK_BOX_DEPTH = DEFAULT_DECODE_LIMITS.maxDepth;
let checked = 0;

function check(input: Buffer, rng: Rng): void {
  const args = expectOnly('msgpack decodeRequest', () => codec.decodeRequest(input), isInvalidArgument);
  ensure(args === undefined || Array.isArray(args), 'decodeRequest returned no array');
  const value = expectOnly('msgpack decode', () => msgpack.decode(input), isError);
  const { extra, depth } = checkDecoded(value, reportedExtras);
  // What arrived can be sent back (an echo) and arrives again as it is, as deep as the decoder
  // reads; a string with a lone surrogate (which msgpackr reads from CESU-8 bytes) is refused when sent.
  if (!extra && depth <= MSGPACK_BOX_DEPTH) {
    const bytes = expectOnly('msgpack encode of a decoded value', () => msgpack.encode(value), isLoneSurrogateRefusal);
    if (bytes !== undefined) ensure(sameValue(value, msgpack.decode(bytes)), `a decoded value changed when sent again: ${fingerprint(value).slice(0, 200)}`);
  }
  // Now and then: a fresh decoder must read the same bytes the same way, whatever the shared one read before.
  if ((++checked & 63) === 0 || rng.chance(0.01)) {
    const again = expectOnly('msgpack decode (fresh)', () => msgpackSerializer().decode(input), isError);
    ensure(fingerprint(value) === fingerprint(again), 'a fresh decoder read the bytes differently: the decoder keeps state');
  }
}

export const msgpackTarget: FuzzTarget = {
  name: 'msgpack',
  seeds,
  dictionary,
  maxLength: 4096,
  check,
  properties: [
    property('values the table says MessagePack carries arrive unchanged', fc.property(faithfulValue({ invalidDates: true }), (value) => {
      const got = msgpack.decode(msgpack.encode(value));
      ensure(sameValue(value, got), `changed on the way: ${fingerprint(value)} arrived as ${fingerprint(got)}`);
      checkDecoded(got);
    })),
    property('argument arrays survive the call path', fc.property(fc.array(faithfulValue({ invalidDates: true }), { maxLength: 4 }), (args) => {
      const got = codec.decodeRequest(codec.encodeRequest(args));
      ensure(sameValue(args, got), 'arguments changed on the way');
    })),
    property('any bytes: an Error from decode, INVALID_ARGUMENT from the call path', fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
      const input = Buffer.from(bytes);
      expectOnly('msgpack decodeRequest', () => codec.decodeRequest(input), isInvalidArgument);
      checkDecoded(expectOnly('msgpack decode', () => msgpack.decode(input), isError), reportedExtras);
    })),
  ],
};

function isLoneSurrogateRefusal(error: unknown): boolean {
  return error instanceof TypeError && error.message.includes('lone surrogate');
}
