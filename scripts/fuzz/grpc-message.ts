/**
 * Target `grpc-message`: gRPC's length-prefixed messages as a stream's DATA arrives, then what is
 * done with each message (decompression, decoding by a serializer codec). Property: the reader
 * throws nothing but `RpcError` (RESOURCE_EXHAUSTED over a limit, INTERNAL for a bad flag or from
 * its sink); cut into chunks anywhere it gives the same messages as in one piece; the bytes it
 * takes from the connection's budget stay within it and all come back on `release()`;
 * decompression rejects only with `RpcError` and never gives more than the limit; decoding a
 * request throws only `RpcError` INVALID_ARGUMENT.
 */
import { gzipSync, deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { Code } from '../../src/core/code.js';
import { RpcError } from '../../src/core/rpc-error.js';
import { msgpackSerializer } from '../../src/serialization/msgpack.js';
import { serializerCodec } from '../../src/transport/grpc/codec.js';
import { decompress } from '../../src/transport/grpc/compression.js';
import { MessageReader, PREFIX_SIZE, frameMessage, type ByteBudget, type ReceivedMessage } from '../../src/transport/grpc/message.js';
import type { Rng } from './mutator.js';
import { ensure, expectOnly, expectOnlyAsync, property, type FuzzTarget } from './runner.js';

const msgpack = msgpackSerializer();
const codec = serializerCodec(msgpack);
const isCode = (...codes: Code[]) => (error: unknown) => error instanceof RpcError && codes.includes(error.code);
const framed = (message: Uint8Array, compressed = false) => Buffer.concat([frameMessage(message, compressed)].flat());

const seeds = [
  framed(msgpack.encode([1, 'two', { three: 3 }])),
  framed(Buffer.from([0x0a, 0x02, 0x68, 0x69])),
  framed(gzipSync(msgpack.encode(['x'.repeat(200)])), true),
  framed(deflateSync(msgpack.encode([new Uint8Array(100)])), true),
  framed(gzipSync(Buffer.alloc(100_000)), true), // a small bomb: 100 KB from a few hundred bytes
  Buffer.concat([framed(Buffer.alloc(0)), framed(msgpack.encode([null])), framed(Buffer.alloc(40, 0x90))]),
];
const dictionary = [[0, 0, 0, 0, 0], [1, 0, 0, 0, 0], [0, 0xff, 0xff, 0xff, 0xff], [0x1f, 0x8b, 0x08], [0x78, 0x9c], [2]].map((bytes) => Buffer.from(bytes));

/** A connection's budget that counts what is taken and refuses past its cap. */
class CountingBudget implements ByteBudget {
  taken = 0;
  constructor(readonly cap: number) {}
  take(bytes: number): boolean {
    if (this.taken + bytes > this.cap) return false;
    this.taken += bytes;
    return true;
  }
  give(bytes: number): void {
    this.taken -= bytes;
    ensure(this.taken >= 0, 'the reader gave back more than it took');
  }
}

interface Read {
  messages: ReceivedMessage[];
  error: RpcError | undefined;
  partial: boolean;
}

/** The messages of `stream` in the chunks between `cuts`; `most` messages, as a unary server takes one. */
function read(stream: Buffer, cuts: readonly number[], max: number, budget: CountingBudget | undefined, most = Infinity): Read {
  const reader = new MessageReader(max, budget);
  const messages: ReceivedMessage[] = [];
  const sink = {
    onMessage(message: ReceivedMessage) {
      if (messages.length >= most) throw new RpcError(Code.INTERNAL, 'takes one request message, not several');
      ensure(message.data.length <= max, `a message of ${message.data.length} bytes passed a limit of ${max}`);
      messages.push(message);
    },
  };
  let error: RpcError | undefined;
  for (let i = 1; i < cuts.length && error === undefined; i++) {
    expectOnly('MessageReader.push', () => reader.push(stream.subarray(cuts[i - 1], cuts[i]), sink), (thrown) => {
      error = thrown as RpcError;
      return isCode(Code.RESOURCE_EXHAUSTED, Code.INTERNAL)(thrown);
    });
    ensure(budget === undefined || budget.taken <= budget.cap, 'the reader holds more than its budget');
  }
  const partial = reader.partial;
  reader.release();
  ensure(budget === undefined || budget.taken === 0, `release() left ${budget?.taken} bytes of the budget taken`);
  return { messages, error, partial };
}

const sameMessages = (a: ReceivedMessage[], b: ReceivedMessage[]) => a.every((m, i) => b[i] !== undefined && m.compressed === b[i].compressed && m.data.equals(b[i].data));

async function check(input: Buffer, rng: Rng): Promise<void> {
  const max = rng.pick([0, 16, 1024, 4 * 1024 * 1024]);
  const whole = read(input, [0, input.length], max, undefined);
  const budget = new CountingBudget(rng.pick([0, 64, 4096, Infinity]));
  const cut = read(input, rng.cuts(input.length, 10), max, budget, rng.chance(0.2) ? 1 : Infinity);
  ensure(cut.messages.length <= whole.messages.length && sameMessages(cut.messages, whole.messages), 'chunking changed the messages');
  if (cut.error === undefined) ensure(whole.error === undefined && cut.messages.length === whole.messages.length && cut.partial === whole.partial, 'chunking changed the end of the stream');
  else if (cut.error.message !== whole.error?.message) ensure(/too many bytes|not several/.test(cut.error.message), `chunking changed the error to ${cut.error.message}`);
  for (const message of whole.messages.slice(0, 4)) {
    let data: Buffer | undefined = message.data;
    if (message.compressed) {
      if (!rng.chance(0.25)) continue;
      const limit = rng.pick([0, 100, 64 * 1024]);
      const encoding = rng.pick(['gzip', 'deflate', 'identity'] as const);
      data = await expectOnlyAsync('decompress', () => decompress(encoding, message.data, limit), isCode(Code.INTERNAL, Code.RESOURCE_EXHAUSTED));
      ensure(data === undefined || data.length <= Math.max(1, limit), `decompressed ${data?.length} bytes past a limit of ${limit}`);
      if (data === undefined) continue;
    }
    expectOnly('decodeRequest', () => codec.decodeRequest(data), isCode(Code.INVALID_ARGUMENT));
    expectOnly('decodeResponse', () => codec.decodeResponse(data), (error) => error instanceof Error);
  }
}

export const grpcMessageTarget: FuzzTarget = {
  name: 'grpc-message',
  seeds,
  dictionary,
  maxLength: 4096,
  check,
  properties: [
    property('messages, cut anywhere, arrive as sent', fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.boolean()), { maxLength: 5 }), fc.array(fc.nat(), { maxLength: 8 }), (messages, rawCuts) => {
      const stream = Buffer.concat(messages.map(([data, compressed]) => framed(data, compressed)));
      const cuts = [0, ...rawCuts.map((cut) => cut % (stream.length + 1)).sort((a, b) => a - b), stream.length];
      const got = read(stream, cuts, 300, new CountingBudget(Infinity));
      ensure(got.error === undefined && !got.partial && got.messages.length === messages.length, 'valid messages did not all arrive');
      got.messages.forEach((message, i) => ensure(message.compressed === messages[i]![1] && Buffer.from(messages[i]![0]).equals(message.data), 'a message changed'));
    })),
    property('a declared length over the limit is refused before anything is allocated', fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.nat({ max: 1 << 20 }), (length, max) => {
      const prefix = Buffer.alloc(PREFIX_SIZE);
      prefix.writeUInt32BE(length, 1);
      const budget = new CountingBudget(Infinity);
      const got = read(prefix, [0, PREFIX_SIZE], max, budget);
      ensure((got.error?.code === Code.RESOURCE_EXHAUSTED) === (length > max), `a length of ${length} against a limit of ${max}`);
    })),
    property('decompression stops at the limit', fc.asyncProperty(fc.nat({ max: 200_000 }), fc.nat({ max: 50_000 }), async (size, limit) => {
      const data = await expectOnlyAsync('decompress', () => decompress('gzip', gzipSync(Buffer.alloc(size, 1)), limit), isCode(Code.RESOURCE_EXHAUSTED));
      ensure(data === undefined ? size > Math.max(1, limit) : data.length === size, `${size} bytes against a limit of ${limit}`);
    })),
  ],
};
