import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameDecoder } from '../../../src/transport/tcp/frame-decoder.js';
import { FrameType, HEADER_SIZE, ProtocolError, encodeMetadata, writeHeader, type Frame, type FrameHeader } from '../../../src/transport/tcp/frame.js';

const LIMIT = 64 * 1024;

interface FrameSpec {
  type?: number;
  requestId: number;
  metadata?: Array<[string, string]>;
  body?: Buffer;
}

/** The bytes of one frame, in a buffer of its own (Buffer.alloc never uses the shared pool). */
function frameBytes(spec: FrameSpec): Buffer {
  const metadata = encodeMetadata(spec.metadata ?? []);
  const body = spec.body ?? Buffer.alloc(0);
  const out = Buffer.alloc(HEADER_SIZE + metadata.length + body.length);
  writeHeader(out, 0, {
    type: spec.type ?? FrameType.REQUEST,
    flags: 0,
    serializer: 0,
    requestId: spec.requestId,
    metadataLength: metadata.length,
    bodyLength: body.length,
  });
  metadata.copy(out, HEADER_SIZE);
  body.copy(out, HEADER_SIZE + metadata.length);
  return out;
}

function headerOnly(h: Partial<FrameHeader>): Buffer {
  const out = Buffer.alloc(HEADER_SIZE);
  writeHeader(out, 0, { type: FrameType.REQUEST, flags: 0, serializer: 0, requestId: 1, metadataLength: 0, bodyLength: 0, ...h });
  return out;
}

/** A frame as plain data, so frames from different splits compare with deepEqual. */
function summary(frame: Frame) {
  const { type, flags, serializer, requestId, metadataLength, bodyLength } = frame;
  return { type, flags, serializer, requestId, metadataLength, bodyLength, metadata: frame.metadata.toString('hex'), body: frame.body.toString('hex') };
}

function feed(chunks: Buffer[], decoder = new FrameDecoder(LIMIT)): Frame[] {
  const frames: Frame[] = [];
  for (const chunk of chunks) decoder.push(chunk, (frame) => frames.push(frame));
  return frames;
}

const example = frameBytes({ requestId: 77, metadata: [[':service', 'demo.Calc:1.0.0'], [':method', 'add']], body: Buffer.from([0x92, 0x01, 0x02]) });
const expected = feed([example]).map(summary);

describe('FrameDecoder', () => {
  it('decodes one whole frame with its header fields, metadata and body', () => {
    assert.equal(expected.length, 1);
    assert.equal(expected[0]!.requestId, 77);
    assert.equal(expected[0]!.type, FrameType.REQUEST);
    assert.equal(expected[0]!.body, '920102');
    assert.equal(expected[0]!.metadata, encodeMetadata([[':service', 'demo.Calc:1.0.0'], [':method', 'add']]).toString('hex'));
  });

  it('decodes a frame split into two chunks at every possible byte boundary', () => {
    for (let cut = 1; cut < example.length; cut++) {
      const frames = feed([example.subarray(0, cut), example.subarray(cut)]);
      assert.deepEqual(frames.map(summary), expected, `split at byte ${cut}`);
    }
  });

  it('decodes a frame split into three chunks at every pair of boundaries', () => {
    for (let a = 1; a < example.length - 1; a++) {
      for (let b = a + 1; b < example.length; b++) {
        const frames = feed([example.subarray(0, a), example.subarray(a, b), example.subarray(b)]);
        assert.deepEqual(frames.map(summary), expected, `split at bytes ${a} and ${b}`);
      }
    }
  });

  it('decodes a frame fed one byte at a time, and only on its last byte', () => {
    const decoder = new FrameDecoder(LIMIT);
    const frames: Frame[] = [];
    for (let i = 0; i < example.length; i++) {
      decoder.push(example.subarray(i, i + 1), (frame) => frames.push(frame));
      assert.equal(frames.length, i === example.length - 1 ? 1 : 0, `after byte ${i}`);
    }
    assert.deepEqual(frames.map(summary), expected);
  });

  it('waits for the rest of a header split across chunks, then for the body', () => {
    const decoder = new FrameDecoder(LIMIT);
    const frames: Frame[] = [];
    decoder.push(example.subarray(0, 7), (f) => frames.push(f));
    decoder.push(example.subarray(7, HEADER_SIZE - 1), (f) => frames.push(f));
    assert.equal(frames.length, 0);
    decoder.push(example.subarray(HEADER_SIZE - 1, HEADER_SIZE + 2), (f) => frames.push(f));
    assert.equal(frames.length, 0);
    decoder.push(example.subarray(HEADER_SIZE + 2), (f) => frames.push(f));
    assert.deepEqual(frames.map(summary), expected);
  });

  it('decodes many frames from one chunk, in order, including empty ones', () => {
    const specs: FrameSpec[] = [];
    for (let i = 0; i < 200; i++) {
      specs.push(i % 5 === 0
        ? { type: FrameType.PING, requestId: i }
        : { requestId: i, metadata: [['x-i', String(i)]], body: Buffer.alloc(i % 37, i & 0xff) });
    }
    const chunk = Buffer.concat(specs.map(frameBytes));
    const frames = feed([chunk]);
    assert.equal(frames.length, specs.length);
    assert.deepEqual(frames.map((f) => f.requestId), specs.map((s) => s.requestId));
    for (const [i, frame] of frames.entries()) {
      assert.equal(frame.type, i % 5 === 0 ? FrameType.PING : FrameType.REQUEST);
      assert.equal(frame.body.length, i % 5 === 0 ? 0 : i % 37);
    }
  });

  it('decodes a stream of frames cut into chunks of every size from 1 to 64 bytes', () => {
    const specs = Array.from({ length: 12 }, (_, i): FrameSpec => ({ requestId: 1000 + i, metadata: [['x-n', 'v'.repeat(i)]], body: Buffer.alloc(i * 3, i) }));
    const stream = Buffer.concat(specs.map(frameBytes));
    const want = feed([stream]).map(summary);
    for (let size = 1; size <= 64; size++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < stream.length; at += size) chunks.push(stream.subarray(at, at + size));
      assert.deepEqual(feed(chunks).map(summary), want, `chunks of ${size} bytes`);
    }
  });

  it('tolerates empty chunks', () => {
    const frames = feed([Buffer.alloc(0), example.subarray(0, 5), Buffer.alloc(0), example.subarray(5), Buffer.alloc(0)]);
    assert.deepEqual(frames.map(summary), expected);
  });

  it('hands out frames that lie within one chunk as views of that chunk', () => {
    const second = frameBytes({ requestId: 78, metadata: [['x-k', 'v']], body: Buffer.from('payload') });
    const chunk = Buffer.alloc(example.length + second.length);
    example.copy(chunk, 0);
    second.copy(chunk, example.length);
    const frames = feed([chunk]);
    assert.equal(frames.length, 2);
    for (const frame of frames) {
      assert.ok(frame.metadata.buffer === chunk.buffer, `metadata of ${frame.requestId} is a view`);
      assert.ok(frame.body.buffer === chunk.buffer, `body of ${frame.requestId} is a view`);
    }
    assert.equal(frames[1]!.body.byteOffset, chunk.byteOffset + chunk.length - 'payload'.length);
  });

  it('reassembles a frame split across chunks into one contiguous frame', () => {
    const frames = feed([example.subarray(0, 30), example.subarray(30)]);
    assert.equal(frames.length, 1);
    const frame = frames[0]!;
    assert.ok(frame.metadata.buffer === frame.body.buffer, 'metadata and body share one buffer');
    assert.equal(frame.body.byteOffset, frame.metadata.byteOffset + frame.metadata.length);
  });
});

describe('FrameDecoder limits and garbage', () => {
  it('rejects an oversize frame from its 20-byte header alone, before any body arrives', () => {
    const decoder = new FrameDecoder(LIMIT);
    const header = headerOnly({ bodyLength: 1024 * 1024 * 1024 });
    assert.equal(header.length, HEADER_SIZE);
    let delivered = 0;
    assert.throws(() => decoder.push(header, () => delivered++), (error: unknown) => {
      assert.ok(error instanceof ProtocolError);
      assert.match(error.message, /exceeds the limit of 65536/);
      return true;
    });
    assert.equal(delivered, 0);
  });

  it('rejects a frame one byte over the limit, counting metadata and body together, once the header is complete', () => {
    const decoder = new FrameDecoder(LIMIT);
    const header = headerOnly({ metadataLength: LIMIT / 2, bodyLength: LIMIT / 2 + 1 });
    decoder.push(header.subarray(0, 12), () => assert.fail('no frame expected'));
    assert.throws(() => decoder.push(header.subarray(12), () => assert.fail('no frame expected')), ProtocolError);
  });

  it('accepts a frame exactly at the limit', () => {
    const metadataLength = encodeMetadata([['a', '']]).length;
    const body = Buffer.alloc(LIMIT - metadataLength, 1);
    const bytes = frameBytes({ requestId: 5, metadata: [['a', '']], body });
    assert.equal(bytes.length - HEADER_SIZE, LIMIT);
    const frames = feed([bytes.subarray(0, 1000), bytes.subarray(1000)]);
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.body.length, body.length);
  });

  it('throws ProtocolError for bytes that are not the protocol', () => {
    const decoder = new FrameDecoder(LIMIT);
    const http = Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    assert.throws(() => decoder.push(http, () => assert.fail('no frame expected')), (error: unknown) => {
      assert.ok(error instanceof ProtocolError);
      assert.match(error.message, /bad magic/);
      return true;
    });
  });

  it('delivers the good frames before the garbage that follows them, then throws', () => {
    const garbage = Buffer.alloc(HEADER_SIZE, 0xff);
    const frames: Frame[] = [];
    const decoder = new FrameDecoder(LIMIT);
    assert.throws(() => decoder.push(Buffer.concat([example, garbage]), (f) => frames.push(f)), ProtocolError);
    assert.deepEqual(frames.map(summary), expected);
  });

  it('throws ProtocolError for an unknown version or frame type in the stream', () => {
    const badVersion = Buffer.from(example);
    badVersion[2] = 9;
    assert.throws(() => feed([badVersion]), /unsupported protocol version 9/);
    const badType = Buffer.from(example);
    badType[3] = 0;
    assert.throws(() => feed([badType]), /unknown frame type 0/);
  });
});
