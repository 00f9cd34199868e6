// The pieces of gRPC's wire format, one contract each.
import assert from 'node:assert/strict';
import test from 'node:test';
import { Code, Metadata, RpcError } from '../../src/index.js';
import { contentTypeFor, parseContentType } from '../../src/transport/grpc/content-type.js';
import { frameMessage, MessageReader, type ReceivedMessage } from '../../src/transport/grpc/message.js';
import { readMetadata, writeMetadata } from '../../src/transport/grpc/metadata.js';
import { channelSettings, serverSettings } from '../../src/transport/grpc/options.js';
import { decodeStatusDetails, encodeStatusDetails } from '../../src/transport/grpc/status-details.js';
import { percentDecode, percentEncode, percentEncodeWithin, readStatus, writeErrorStatus } from '../../src/transport/grpc/status.js';
import { formatTimeout, parseTimeout } from '../../src/transport/grpc/timeout.js';

const ignore = { onMessage: () => {} };

function readAll(reader: MessageReader, chunks: Buffer[]): ReceivedMessage[] {
  const out: ReceivedMessage[] = [];
  const sink = { onMessage: (message: ReceivedMessage) => out.push({ compressed: message.compressed, data: Buffer.from(message.data) }) };
  for (const chunk of chunks) reader.push(chunk, sink);
  return out;
}

test('length-prefixed messages are read back whole however the bytes are split', () => {
  const messages = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(20_000, 7), Buffer.from('last')];
  const wire = Buffer.concat(messages.flatMap((m, i) => {
    const framed = frameMessage(m, i === 3);
    return Array.isArray(framed) ? framed.map((part) => Buffer.from(part)) : [framed];
  }));
  for (const size of [1, 2, 5, 7, 4096, wire.length]) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < wire.length; i += size) chunks.push(wire.subarray(i, i + size));
    const reader = new MessageReader(1 << 20);
    const read = readAll(reader, chunks);
    assert.deepEqual(read.map((m) => m.data), messages, `chunks of ${size}`);
    assert.deepEqual(read.map((m) => m.compressed), [false, false, false, true]);
    assert.equal(reader.partial, false);
  }
  const reader = new MessageReader(100);
  readAll(reader, [wire.subarray(0, 3)]);
  assert.equal(reader.partial, true, 'a prefix cut short is a partial message');
});

test('the reader refuses a length over the limit before allocating, and a flag other than 0 or 1', () => {
  const huge = Buffer.from([0, 0xff, 0xff, 0xff, 0xff]);
  assert.throws(() => new MessageReader(1024).push(huge, ignore), (e: unknown) => e instanceof RpcError && e.code === Code.RESOURCE_EXHAUSTED);
  assert.throws(() => new MessageReader(1024).push(Buffer.from([2, 0, 0, 0, 0]), ignore), (e: unknown) => e instanceof RpcError && e.code === Code.INTERNAL);
});

test('messages that span chunks draw on a shared byte budget and give it back', () => {
  let left = 100;
  const budget = { take: (n: number) => (n <= left ? ((left -= n), true) : false), give: (n: number) => void (left += n) };
  const reader = new MessageReader(1000, budget);
  reader.push(Buffer.from([0, 0, 0, 0, 80, 1]), ignore);
  assert.equal(left, 20);
  assert.throws(() => new MessageReader(1000, budget).push(Buffer.from([0, 0, 0, 0, 50, 1]), ignore), (e: unknown) => e instanceof RpcError && e.code === Code.RESOURCE_EXHAUSTED);
  reader.release();
  assert.equal(left, 100);
});

test('grpc-timeout: the finest unit that fits 8 digits out, every unit in, malformed refused', () => {
  assert.equal(formatTimeout(0.2), '1m');
  assert.equal(formatTimeout(1500), '1500m');
  assert.equal(formatTimeout(99_999_999), '99999999m');
  assert.equal(formatTimeout(100_000_000), '100000S');
  assert.equal(formatTimeout(1e12), '16666667M');
  assert.equal(formatTimeout(1e15), '99999999H');
  assert.deepEqual(['2H', '3M', '4S', '5m', '6000u', '7000000n'].map(parseTimeout), [7_200_000, 180_000, 4000, 5, 6, 7]);
  for (const bad of ['', '5', 'm', '123456789m', '1.5S', '-1S', '5s', '5 m']) assert.equal(parseTimeout(bad), undefined, bad);
});

test('grpc-message is percent-encoded UTF-8; a stray % decodes as itself', () => {
  const text = 'déjà 100% ✓\nnext';
  const encoded = percentEncode(text);
  assert.match(encoded, /^[\x20-\x7e]*$/);
  assert.equal(encoded, 'd%C3%A9j%C3%A0 100%25 %E2%9C%93%0Anext');
  assert.equal(percentDecode(encoded), text);
  assert.equal(percentEncode('plain text'), 'plain text');
  assert.equal(percentDecode('50% off %zz %4'), '50% off %zz %4');
});

test('a long grpc-message is cut to size between whole characters, and ends in …', () => {
  assert.equal(percentEncodeWithin('x'.repeat(16), 16), 'x'.repeat(16));
  for (const text of ['x'.repeat(40), 'é'.repeat(40), '✓'.repeat(40), '😀'.repeat(40), 'a%b'.repeat(20)]) {
    const cut = percentEncodeWithin(text, 30);
    assert.ok(cut.length <= 30, cut);
    const decoded = percentDecode(cut);
    assert.ok(decoded.endsWith('…') && text.startsWith(decoded.slice(0, -1)), `${text.slice(0, 4)}: ${decoded}`);
  }
});

test('content-type: no subtype and +proto are Protobuf; other subtypes name serializers; others are not gRPC', () => {
  assert.equal(parseContentType('application/grpc'), 'proto');
  assert.equal(parseContentType('application/grpc+proto'), 'proto');
  assert.equal(parseContentType('application/grpc+msgpack'), 'msgpack');
  assert.equal(parseContentType('application/grpc+JSON; charset=utf-8'), 'json');
  assert.equal(parseContentType('application/grpc-web'), undefined);
  assert.equal(parseContentType('application/json'), undefined);
  assert.equal(parseContentType(undefined), undefined);
  assert.equal(contentTypeFor('proto'), 'application/grpc');
  assert.equal(contentTypeFor('json'), 'application/grpc+json');
});

test('metadata as headers: bytes as base64 under -bin keys, reserved keys and non-ASCII text refused, transport headers skipped', () => {
  const headers: Record<string, string | string[] | number> = {};
  writeMetadata(new Metadata({ 'x-text': 'plain', 'x-raw-bin': new Uint8Array([0xff, 0, 1]), 'x-bytes': new Uint8Array([1]), 'x-utf8-bin': 'é' }), headers);
  assert.deepEqual(headers, { 'x-text': 'plain', 'x-raw-bin': '/wAB', 'x-bytes-bin': 'AQ', 'x-utf8-bin': 'w6k' });
  for (const key of ['grpc-status', 'te', 'content-type', 'switchyard-version', 'connection']) {
    assert.throws(() => writeMetadata([[key, 'v']], {}), (e: unknown) => e instanceof RpcError && e.code === Code.INVALID_ARGUMENT, key);
  }
  assert.throws(() => writeMetadata([['x-name', 'Zoë']], {}), /printable ASCII/);
  const read = readMetadata({ ':path': '/a/b', 'content-type': 'application/grpc', 'grpc-timeout': '1S', date: 'now', 'x-text': 'plain', 'x-raw-bin': '/wAB', 'x-list': ['a', 'b'] });
  assert.deepEqual([...read!].map(([k, v]) => [k, typeof v === 'string' ? v : [...v]]), [['x-text', 'plain'], ['x-raw-bin', [0xff, 0, 1]], ['x-list', 'a, b']]);
  assert.equal(readMetadata({ ':status': '200', 'content-type': 'application/grpc' }), undefined);
});

test('status trailers: code, message, name and details out and back; unknown gRPC codes kept as UNKNOWN', () => {
  const headers: Record<string, string> = {};
  writeErrorStatus(new RpcError(Code.NOT_FOUND, 'no such ✓', { name: 'MissingError', details: { id: 7, path: ['a', { b: null }], ok: false } }), headers);
  assert.equal(headers['grpc-status'], '5');
  const back = readStatus(headers)!;
  assert.equal(back.code, Code.NOT_FOUND);
  assert.equal(back.message, 'no such ✓');
  assert.equal(back.name, 'MissingError');
  assert.deepEqual(back.details, { id: 7, path: ['a', { b: null }], ok: false });
  assert.equal(readStatus({ 'grpc-status': '0' }), undefined);
  const aborted = readStatus({ 'grpc-status': '10', 'grpc-message': 'aborted' })!;
  assert.deepEqual([aborted.code, aborted.details], [Code.UNKNOWN, { grpcStatus: 10 }]);
  assert.equal(readStatus({ 'grpc-status': 'x' })!.code, Code.INTERNAL);
  assert.equal(readStatus({})!.code, Code.INTERNAL);
});

test('google.rpc.Status details: Struct values round-trip; a __proto__ key stays an own property; garbage is ignored', () => {
  const details = decodeStatusDetails(encodeStatusDetails(3, 'bad', JSON.parse('{"__proto__": {"polluted": true}, "n": 1.5, "s": "x", "list": [true, null]}')))!;
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(details), Object.prototype);
  assert.deepEqual(Object.keys(details), ['__proto__', 'n', 's', 'list']);
  assert.deepEqual(details.list, [true, null]);
  assert.equal(decodeStatusDetails(Buffer.from([0xff, 0xff, 0xff])), undefined);
});

test('status details given a cyclic or hugely shared graph still encode, cut short, without walking it all', () => {
  const loop: Record<string, unknown> = { name: 'loop' };
  loop.a = loop;
  assert.deepEqual(decodeStatusDetails(encodeStatusDetails(3, 'x', loop)), { name: 'loop', a: null });
  let wide: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < 16; i++) wide = { l: wide, r: wide }; // 17 objects, 65,536 paths to a leaf
  assert.ok(encodeStatusDetails(3, 'x', wide).length < 64 * 1024);
  const headers: Record<string, string> = {};
  writeErrorStatus(new RpcError(Code.FAILED_PRECONDITION, 'wide', { details: wide }), headers);
  assert.ok(headers['grpc-status-details-bin'] !== undefined && headers['grpc-status-details-bin'].length < 32 * 1024);
});

test('grpc:// address options are read from the query; bad values and unknown names are refused', () => {
  const server = serverSettings('grpc://127.0.0.1:0?maxConcurrentStreams=10&compression=gzip', 4096);
  assert.equal(server.maxConcurrentStreams, 10);
  assert.equal(server.compression, 'gzip');
  assert.equal(server.maxMessageSize, 4096, 'defaults to the server maxFrameSize');
  assert.equal(channelSettings('grpc://h:1?maxMessageSize=99', 4096).maxMessageSize, 99);
  assert.equal(server.messageTimeoutMs, 30_000);
  assert.equal(serverSettings('grpc://h:1?messageTimeoutMs=500', 1).messageTimeoutMs, 500);
  for (const url of ['grpc://h:1?maxConcurrentStreams=0', 'grpc://h:1?maxConcurrentStreams=abc', 'grpc://h:1?compression=zstd', 'grpc://h:1?maxConcurentStreams=5', `grpc://h:1?messageTimeoutMs=${2 ** 31}`]) {
    assert.throws(() => serverSettings(url, 1), (e: unknown) => e instanceof RpcError && e.code === Code.INVALID_ARGUMENT, url);
  }
});
