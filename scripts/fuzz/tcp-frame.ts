/**
 * Target `tcp-frame`: the TCP transport's frame decoder and the readers of a frame's sections.
 * Property: a byte stream, cut into chunks anywhere, gives the same frames (and the same error) as
 * when it comes in one piece; the decoder throws nothing but `ProtocolError`; every section reader
 * throws `ProtocolError` (request pseudo-keys also `RpcError` INVALID_ARGUMENT) or returns values in
 * their documented ranges.
 */
import fc from 'fast-check';
import { Code } from '../../src/core/code.js';
import { isValidMetadataKey, type MetadataValue } from '../../src/core/metadata.js';
import { RpcError } from '../../src/core/rpc-error.js';
import { msgpackSerializer } from '../../src/serialization/msgpack.js';
import { FrameDecoder } from '../../src/transport/tcp/frame-decoder.js';
import {
  DEFAULT_MAX_FRAME_SIZE, FrameType, MAX_TIMEOUT_MS, ProtocolError, countBody, decodeMetadata, decodeRequestMetadata,
  encodeMetadata, encodeSettings, readCount, readSettings, type Frame,
} from '../../src/transport/tcp/frame.js';
import { buildFrame, requestFrame, settingsFrame } from '../../test/support/raw-socket.js';
import type { Rng } from './mutator.js';
import { ensure, expectOnly, property, type FuzzTarget } from './runner.js';

const msgpack = msgpackSerializer();
const isProtocolError = (error: unknown) => error instanceof ProtocolError;
const isRequestError = (error: unknown) => error instanceof ProtocolError || (error instanceof RpcError && error.code === Code.INVALID_ARGUMENT);

const seeds = [
  requestFrame({ service: 'demo.Calculator', method: 'add', requestId: 1, serializer: 0, body: msgpack.encode([1, 2]) }),
  requestFrame({ service: 'demo.Calculator', method: 'echo', requestId: 2, serializer: 1, body: Buffer.from('["x"]'), extra: [[':timeout', '50'], [':credit', '16'], [':callbacks', '0,1'], ['x-tenant', 'acme']] }),
  requestFrame({ service: 'a/b:1.0', method: 'm', requestId: 0xffffffff, serializer: 0, body: Buffer.alloc(0), type: FrameType.ONEWAY }),
  buildFrame({ type: FrameType.RESPONSE, flags: 1, requestId: 3, metadata: encodeMetadata([['x-bin', new Uint8Array([0, 255])]]), body: Buffer.from('{}') }),
  buildFrame({ type: FrameType.CREDIT, requestId: 4, body: countBody(8) }),
  buildFrame({ type: FrameType.CANCEL, requestId: 5 }),
  buildFrame({ type: FrameType.GOAWAY, requestId: 0, metadata: encodeMetadata([[':reason', 'bye']]) }),
  buildFrame({ type: FrameType.STREAM_ITEM, requestId: 6, body: msgpack.encode({ a: [1, 'b'] }) }),
  settingsFrame(1024),
  Buffer.concat([settingsFrame(DEFAULT_MAX_FRAME_SIZE), requestFrame({ service: 's', method: 'm', requestId: 7, serializer: 0, body: Buffer.from([0x90]) })]),
];

const dictionary = [':service', ':method', ':timeout', ':credit', ':callbacks', ':max-frame-size', '999999999999', '0,', 'x-a'].map((word) => Buffer.from(word))
  .concat([Buffer.from([0x53, 0x59, 0x01]), Buffer.from([0xff, 0xff, 0xff, 0xff])]);

interface Decoded {
  frames: Frame[];
  error: string | undefined;
}

/** Every frame of `stream` given in the chunks between `cuts`, and the ProtocolError that ended it, if any. */
function decodeStream(stream: Buffer, cuts: readonly number[], maxFrameSize: number): Decoded {
  const decoder = new FrameDecoder(maxFrameSize);
  const frames: Frame[] = [];
  let error: string | undefined;
  for (let i = 1; i < cuts.length && error === undefined; i++) {
    expectOnly('FrameDecoder.push', () => decoder.push(stream.subarray(cuts[i - 1], cuts[i]), (frame) => frames.push(frame)), (thrown) => {
      if (!isProtocolError(thrown)) return false;
      error = (thrown as Error).message;
      return true;
    });
  }
  return { frames, error };
}

function sameFrames(a: Decoded, b: Decoded): boolean {
  if (a.error !== b.error || a.frames.length !== b.frames.length) return false;
  return a.frames.every((x, i) => {
    const y = b.frames[i]!;
    return x.type === y.type && x.flags === y.flags && x.serializer === y.serializer && x.requestId === y.requestId
      && x.metadata.equals(y.metadata) && x.body.equals(y.body);
  });
}

/** Runs every reader of a frame's sections over `frame`, as either side of a connection might. */
function checkSections(frame: Frame, maxFrameSize: number): void {
  ensure(frame.metadata.length === frame.metadataLength && frame.body.length === frame.bodyLength, 'frame sections differ from their header');
  ensure(frame.metadataLength + frame.bodyLength <= maxFrameSize, 'frame over the limit was decoded');
  ensure(frame.type >= FrameType.REQUEST && frame.type <= FrameType.CALLBACK_RESPONSE, `frame of unknown type ${frame.type}`);
  const metadata = expectOnly('decodeMetadata', () => decodeMetadata(frame.metadata, () => undefined), isProtocolError);
  for (const [key, value] of metadata ?? []) checkEntry(key, value);
  const request = expectOnly('decodeRequestMetadata', () => decodeRequestMetadata(frame.metadata), isRequestError);
  if (request !== undefined) {
    const { timeoutMs, credit, callbacks } = request.target;
    ensure(timeoutMs === undefined || (Number.isInteger(timeoutMs) && timeoutMs >= 0 && timeoutMs <= MAX_TIMEOUT_MS), `:timeout read as ${timeoutMs}`);
    ensure(credit === undefined || (Number.isInteger(credit) && credit >= 0 && credit < 1e9), `:credit read as ${credit}`);
    ensure(callbacks === undefined || callbacks.every((index) => Number.isInteger(index) && index >= 0 && index < 1e9), ':callbacks read as a bad index');
    for (const [key, value] of request.metadata ?? []) checkEntry(key, value);
  }
  const limit = expectOnly('readSettings', () => readSettings(frame.metadata), isProtocolError);
  ensure(limit === undefined || (Number.isInteger(limit) && limit >= 1 && limit <= 0xffffffff), `settings read as ${limit}`);
  const count = expectOnly('readCount', () => readCount(frame.body), isProtocolError);
  ensure(count === undefined || (Number.isInteger(count) && count >= 0 && count <= 0xffffffff), `count read as ${count}`);
}

function checkEntry(key: string, value: MetadataValue): void {
  ensure(isValidMetadataKey(key), `metadata key ${JSON.stringify(key)} passed the decoder`);
  ensure(typeof value === 'string' || value instanceof Uint8Array, 'metadata value is neither text nor bytes');
}

function check(input: Buffer, rng: Rng): void {
  const maxFrameSize = rng.pick([0, 32, 1024, DEFAULT_MAX_FRAME_SIZE]);
  const whole = decodeStream(input, [0, input.length], maxFrameSize);
  const cut = decodeStream(input, rng.cuts(input.length, 12), maxFrameSize);
  ensure(sameFrames(whole, cut), 'chunking changed the frames or the error');
  for (const frame of whole.frames) checkSections(frame, maxFrameSize);
}

const metadataKey = fc.stringMatching(/^[a-z0-9_.-][a-z0-9_.\-/]{0,20}$/);
const metadataValue = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 20 }), fc.uint8Array({ maxLength: 20 }));
const frameSpec = fc.record({
  type: fc.integer({ min: FrameType.REQUEST, max: FrameType.CALLBACK_RESPONSE }),
  flags: fc.integer({ min: 0, max: 255 }),
  serializer: fc.integer({ min: 0, max: 255 }),
  requestId: fc.nat({ max: 0xffffffff }),
  entries: fc.uniqueArray(fc.tuple(metadataKey, metadataValue), { maxLength: 5, selector: ([key]) => key }),
  body: fc.uint8Array({ maxLength: 64 }),
});

export const tcpFrameTarget: FuzzTarget = {
  name: 'tcp-frame',
  seeds,
  dictionary,
  maxLength: 4096,
  check,
  properties: [
    property('valid frames, cut anywhere, decode as sent', fc.property(fc.array(frameSpec, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (specs, rawCuts) => {
      const stream = Buffer.concat(specs.map((spec) => buildFrame({ ...spec, metadata: encodeMetadata(spec.entries) })));
      const cuts = [0, ...rawCuts.map((cut) => cut % (stream.length + 1)).sort((a, b) => a - b), stream.length];
      const { frames, error } = decodeStream(stream, cuts, DEFAULT_MAX_FRAME_SIZE);
      ensure(error === undefined && frames.length === specs.length, 'valid frames did not all decode');
      frames.forEach((frame, i) => {
        const spec = specs[i]!;
        ensure(frame.type === spec.type && frame.requestId === spec.requestId && Buffer.from(spec.body).equals(frame.body), 'a frame changed');
        const entries = [...decodeMetadata(frame.metadata)].map(([key, value]) => [key, typeof value === 'string' ? value : Buffer.from(value).toString('hex')]);
        ensure(JSON.stringify(entries) === JSON.stringify(spec.entries.map(([key, value]) => [key, typeof value === 'string' ? value : Buffer.from(value).toString('hex')])), 'metadata changed');
      });
    })),
    property('any bytes in any chunks: the same frames, ProtocolError only', fc.property(fc.uint8Array({ maxLength: 512 }), fc.integer(), (bytes, seed) => {
      const stream = Buffer.from(bytes);
      // A valid header now and then, so that the sections are reached too.
      if (seed % 3 === 0 && stream.length >= 20) buildFrame({ type: 1 + (seed & 7), metadata: stream.subarray(20) }).copy(stream, 0, 0, 20);
      const whole = decodeStream(stream, [0, stream.length], 1024);
      ensure(sameFrames(whole, decodeStream(stream, [0, Math.abs(seed) % (stream.length + 1), stream.length], 1024)), 'chunking changed the frames');
      for (const frame of whole.frames) checkSections(frame, 1024);
    })),
    property('settings round-trip; other limits are refused with ProtocolError', fc.property(fc.oneof(fc.integer({ min: 1, max: 0xffffffff }), fc.string({ maxLength: 12 })), (limit) => {
      const section = typeof limit === 'number' ? encodeSettings(limit) : encodeMetadata([[':max-frame-size', limit]]);
      const read = expectOnly('readSettings', () => readSettings(section), isProtocolError);
      ensure(typeof limit !== 'number' || read === limit, `settings ${limit} read as ${read}`);
    })),
  ],
};
