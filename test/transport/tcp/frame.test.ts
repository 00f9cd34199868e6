import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code } from '../../../src/core/code.js';
import type { MetadataValue } from '../../../src/core/metadata.js';
import { RpcError } from '../../../src/core/rpc-error.js';
import {
  DEFAULT_MAX_FRAME_SIZE,
  Flags,
  FrameType,
  HEADER_SIZE,
  MAGIC,
  PROTOCOL_VERSION,
  ProtocolError,
  decodeMetadata,
  decodeRequestMetadata,
  encodeMetadata,
  readHeader,
  writeHeader,
  type FrameHeader,
} from '../../../src/transport/tcp/frame.js';

const sample: FrameHeader = { type: FrameType.RESPONSE, flags: Flags.ERROR, serializer: 1, requestId: 0xfffffffe, metadataLength: 12, bodyLength: 3400 };

function headerBytes(h: FrameHeader = sample): Buffer {
  const out = Buffer.alloc(HEADER_SIZE);
  writeHeader(out, 0, h);
  return out;
}

function protocolError(pattern: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ProtocolError, `expected a ProtocolError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  };
}

describe('frame header', () => {
  it('writes the documented layout, big-endian', () => {
    const bytes = headerBytes({ type: FrameType.REQUEST, flags: 0, serializer: 0, requestId: 0x01020304, metadataLength: 0x0a0b, bodyLength: 0x0c0d0e0f });
    assert.equal(bytes.toString('hex'), '5359' + '01' + '01' + '00' + '00' + '0000' + '01020304' + '00000a0b' + '0c0d0e0f');
    assert.equal(bytes.readUInt16BE(0), MAGIC);
    assert.equal(bytes[2], PROTOCOL_VERSION);
    assert.equal(bytes.subarray(0, 2).toString('latin1'), 'SY');
  });

  it('reads back what it wrote, at any offset', () => {
    const buffer = Buffer.alloc(HEADER_SIZE + 7, 0xaa);
    writeHeader(buffer, 7, sample);
    assert.deepEqual(readHeader(buffer, 7, DEFAULT_MAX_FRAME_SIZE), sample);
  });

  it('round-trips every frame type', () => {
    for (const type of Object.values(FrameType)) {
      assert.equal(readHeader(headerBytes({ ...sample, type }), 0, DEFAULT_MAX_FRAME_SIZE).type, type);
    }
  });

  it('ignores the reserved field on receipt', () => {
    const bytes = headerBytes();
    bytes.writeUInt16BE(0xbeef, 6);
    assert.deepEqual(readHeader(bytes, 0, DEFAULT_MAX_FRAME_SIZE), sample);
  });

  it('rejects bad magic', () => {
    const bytes = headerBytes();
    bytes.write('GE', 0, 'latin1');
    assert.throws(() => readHeader(bytes, 0, DEFAULT_MAX_FRAME_SIZE), protocolError(/bad magic 0x4745/));
  });

  for (const version of [0, 2, 255]) {
    it(`rejects protocol version ${version}`, () => {
      const bytes = headerBytes();
      bytes[2] = version;
      assert.throws(() => readHeader(bytes, 0, DEFAULT_MAX_FRAME_SIZE), protocolError(new RegExp(`unsupported protocol version ${version}`)));
    });
  }

  for (const type of [0, FrameType.STREAM_END + 1, 255]) {
    it(`rejects frame type ${type}`, () => {
      const bytes = headerBytes({ ...sample, type });
      assert.throws(() => readHeader(bytes, 0, DEFAULT_MAX_FRAME_SIZE), protocolError(new RegExp(`unknown frame type ${type}`)));
    });
  }

  it('accepts metadata plus body exactly at the limit and rejects one byte more', () => {
    const atLimit = headerBytes({ ...sample, metadataLength: 600, bodyLength: 424 });
    assert.equal(readHeader(atLimit, 0, 1024).bodyLength, 424);
    const over = headerBytes({ ...sample, metadataLength: 601, bodyLength: 424 });
    assert.throws(() => readHeader(over, 0, 1024), protocolError(/1025 bytes exceeds the limit of 1024/));
  });

  it('rejects lengths whose sum is over the limit even when each alone is under it', () => {
    const bytes = headerBytes({ ...sample, metadataLength: 0xffffffff, bodyLength: 0xffffffff });
    assert.throws(() => readHeader(bytes, 0, DEFAULT_MAX_FRAME_SIZE), ProtocolError);
    const halves = headerBytes({ ...sample, metadataLength: 600, bodyLength: 600 });
    assert.throws(() => readHeader(halves, 0, 1000), ProtocolError);
  });
});

describe('metadata section', () => {
  const entries: Array<[string, MetadataValue]> = [
    [':service', 'blue/demo.Calculator:1.0.0'],
    [':method', 'add'],
    ['x-tenant', 'acmé ✓'],
    ['x-bin', new Uint8Array([0, 1, 2, 255])],
    ['x-empty', ''],
  ];

  it('round-trips text and binary values and hands pseudo-keys to the callback', () => {
    const pseudo: Array<[string, string]> = [];
    const md = decodeMetadata(encodeMetadata(entries), (key, value) => pseudo.push([key, value]));
    assert.deepEqual(pseudo, [[':service', 'blue/demo.Calculator:1.0.0'], [':method', 'add']]);
    assert.deepEqual([...md].map(([k]) => k), ['x-tenant', 'x-bin', 'x-empty']);
    assert.equal(md.get('x-tenant'), 'acmé ✓');
    assert.equal(md.get('x-empty'), '');
    const bin = md.get('x-bin');
    assert.ok(bin instanceof Uint8Array && typeof bin !== 'string');
    assert.deepEqual([...bin], [0, 1, 2, 255]);
  });

  it('drops pseudo-keys when no callback is given', () => {
    const md = decodeMetadata(encodeMetadata(entries));
    assert.ok(!md.has(':service'));
    assert.equal(md.size, 3);
  });

  it('writes the documented entry layout', () => {
    const bytes = encodeMetadata([['ab', 'xyz'], ['c', new Uint8Array([7])]]);
    assert.equal(bytes.toString('hex'), '00' + '0002' + '6162' + '00000003' + '78797a' + '01' + '0001' + '63' + '00000001' + '07');
  });

  it('encodes only the viewed bytes of a binary value that is a slice', () => {
    const backing = Buffer.from([9, 9, 5, 6, 9]);
    const md = decodeMetadata(encodeMetadata([['x-bin', backing.subarray(2, 4)]]));
    assert.deepEqual([...(md.get('x-bin') as Uint8Array)], [5, 6]);
  });

  it('decodes an empty section as empty metadata', () => {
    assert.equal(decodeMetadata(Buffer.alloc(0)).size, 0);
    assert.equal(encodeMetadata([]).length, 0);
  });

  it('throws ProtocolError for a section cut anywhere inside an entry', () => {
    const full = encodeMetadata(entries);
    const boundaries = new Set<number>([0]);
    for (let i = 1; i <= entries.length; i++) boundaries.add(encodeMetadata(entries.slice(0, i)).length);
    let checked = 0;
    for (let end = 1; end < full.length; end++) {
      if (boundaries.has(end)) continue;
      assert.throws(() => decodeMetadata(full.subarray(0, end)), protocolError(/truncated metadata/), `cut at ${end}`);
      checked++;
    }
    assert.ok(checked > 50);
  });

  it('throws ProtocolError for an unknown value kind', () => {
    const bytes = encodeMetadata([['x-a', 'v']]);
    bytes[0] = 2;
    assert.throws(() => decodeMetadata(bytes), protocolError(/unknown metadata kind 2/));
  });

  for (const key of ['X-Upper', 'a b', '/lead', '', 'k'.repeat(256)]) {
    it(`throws ProtocolError for the invalid key ${JSON.stringify(key.length > 20 ? `k…(${key.length})` : key)}`, () => {
      assert.throws(() => decodeMetadata(encodeMetadata([[key, 'v']])), protocolError(/invalid metadata key/));
    });
  }

  it('throws ProtocolError when a value length points past the section', () => {
    const bytes = encodeMetadata([['x-a', 'v']]);
    bytes.writeUInt32BE(0xffffffff, 3 + 3);
    assert.throws(() => decodeMetadata(bytes), protocolError(/truncated metadata value/));
  });
});

describe('request metadata', () => {
  it('reads :service, :method and :timeout apart from the caller metadata', () => {
    const section = encodeMetadata([[':service', 'demo.Calculator:1.0.0'], [':method', 'divide'], [':timeout', '1500'], ['x-k', 'v']]);
    const { target, metadata } = decodeRequestMetadata(section);
    assert.deepEqual(target, { service: 'demo.Calculator:1.0.0', method: 'divide', timeoutMs: 1500 });
    assert.deepEqual([...(metadata ?? [])], [['x-k', 'v']]);
  });

  it('leaves absent pseudo-keys undefined and ignores unknown ones', () => {
    const { target, metadata } = decodeRequestMetadata(encodeMetadata([[':future', 'x'], ['x-k', 'v']]));
    assert.deepEqual(target, { service: undefined, method: undefined, timeoutMs: undefined });
    assert.equal(metadata?.size, 1);
  });

  it('accepts :timeout 0 and twelve digits', () => {
    assert.equal(decodeRequestMetadata(encodeMetadata([[':timeout', '0']])).target.timeoutMs, 0);
    assert.equal(decodeRequestMetadata(encodeMetadata([[':timeout', '999999999999']])).target.timeoutMs, 999999999999);
  });

  for (const bad of ['', '-5', '1.5', 'abc', '1e3', ' 10', '0x10', '1234567890123', '١٢']) {
    it(`rejects :timeout ${JSON.stringify(bad)} with INVALID_ARGUMENT, not a protocol error`, () => {
      const section = encodeMetadata([[':service', 's'], [':method', 'm'], [':timeout', bad]]);
      assert.throws(() => decodeRequestMetadata(section), (error: unknown) => {
        assert.ok(error instanceof RpcError, `got ${String(error)}`);
        assert.ok(!(error instanceof ProtocolError));
        assert.equal(error.code, Code.INVALID_ARGUMENT);
        assert.match(error.message, /invalid :timeout/);
        return true;
      });
    });
  }

  it('still throws ProtocolError for a malformed request section', () => {
    const section = encodeMetadata([[':service', 's'], [':method', 'm']]);
    assert.throws(() => decodeRequestMetadata(section.subarray(0, section.length - 1)), ProtocolError);
  });
});
