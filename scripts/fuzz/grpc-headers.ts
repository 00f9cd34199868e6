/**
 * Target `grpc-headers`: what the gRPC transport reads from headers and trailers: the status
 * (`grpc-status`, `grpc-message` percent-decoding, `grpc-status-details-bin` as a
 * `google.rpc.Status`), `grpc-timeout`, the content type and metadata. An input is a header block
 * (`name: value` lines), then after a blank line the bytes of a `grpc-status-details-bin`.
 * Property: none of these readers throws (each is documented to answer undefined, or an `RpcError`
 * value, for what it cannot read); the error a status makes has a valid code; details are plain
 * data that wrote to no prototype; a timeout is a finite number of milliseconds, at least 0.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import fc from 'fast-check';
import { Code, isCode } from '../../src/core/code.js';
import { Metadata, isValidMetadataKey } from '../../src/core/metadata.js';
import { RpcError } from '../../src/core/rpc-error.js';
import { parseContentType } from '../../src/transport/grpc/content-type.js';
import { isReservedHeader, readMetadata, writeMetadata } from '../../src/transport/grpc/metadata.js';
import { decodeStatusDetails, encodeStatusDetails } from '../../src/transport/grpc/status-details.js';
import { percentDecode, percentEncode, percentEncodeWithin, readStatus, writeErrorStatus } from '../../src/transport/grpc/status.js';
import { formatTimeout, parseTimeout } from '../../src/transport/grpc/timeout.js';
import { ensure, expectOnly, property, type FuzzTarget } from './runner.js';
import { checkDecoded } from './values.js';

const never = () => false;

const block = (lines: string[], details?: Uint8Array) => Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), details ?? Buffer.alloc(0)]);
const seeds = [
  block(['grpc-status: 3', 'grpc-message: bad%20input%E2%80%A6', 'switchyard-error-name: ValidationError', 'x-trace-bin: AAEC', 'x-tenant: acme'],
    encodeStatusDetails(3, 'bad input', { field: 'b', limits: [1, 2.5, null, true], nested: { deep: { er: 'x' } } })),
  block(['grpc-status: 0', 'content-type: application/grpc+msgpack; charset=x', 'grpc-timeout: 99999999H']),
  block(['grpc-status: 17', 'grpc-message: %ZZ%e2%82', 'grpc-timeout: 250m', 'content-type: application/grpc'], encodeStatusDetails(17, '', {})),
  block(['grpc-status: 14', 'content-type: application/grpc-web', 'grpc-timeout: 1n', 'user-agent: x', 'grpc-encoding: gzip']),
];
const dictionary = ['grpc-status: ', 'grpc-message: ', 'grpc-status-details-bin: ', 'grpc-timeout: ', 'content-type: application/grpc+', '%', '%C3%', '-bin: ',
  'switchyard-error-name: ', '\r\n', '99999999', 'H', 'u', 'n', 'type.googleapis.com/google.protobuf.Struct', '__proto__']
  .map((word) => Buffer.from(word, 'latin1')).concat([Buffer.from([0x1a, 0x7f, 0x0a, 0x2c]), Buffer.from([0x0a, 0x05, 0x0a, 0x03, 0x0a, 0x01, 0x2a])]);

/** The header block and details bytes of an input, as Node hands HTTP/2 headers over (duplicates as arrays). */
function parse(input: Buffer): { headers: IncomingHttpHeaders; details: Buffer } {
  const text = input.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const headers: Record<string, string | string[]> = {};
  for (const line of (end < 0 ? text : text.slice(0, end)).split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(line[colon + 1] === ' ' ? colon + 2 : colon + 1);
    const old = headers[name];
    headers[name] = old === undefined ? value : [old, value].flat();
  }
  const details = end < 0 ? Buffer.alloc(0) : input.subarray(end + 4);
  if (details.length > 0 && headers['grpc-status-details-bin'] === undefined) headers['grpc-status-details-bin'] = details.toString('base64');
  return { headers, details };
}

function check(input: Buffer): void {
  const { headers, details } = parse(input);
  const decoded = expectOnly('decodeStatusDetails', () => decodeStatusDetails(details), never);
  if (decoded !== undefined) checkDecoded(decoded);
  const status = expectOnly('readStatus', () => readStatus(headers), never);
  if (status !== undefined) {
    ensure(status instanceof RpcError && isCode(status.code) && status.code !== Code.OK, `readStatus made ${String(status)}`);
    checkDecoded(status.details);
  }
  for (const value of Object.values(headers).flat()) {
    if (value === undefined) continue;
    expectOnly('percentDecode', () => percentDecode(value), never);
    const ms = expectOnly('parseTimeout', () => parseTimeout(value), never);
    ensure(ms === undefined || (Number.isFinite(ms) && ms >= 0), `grpc-timeout ${value} read as ${ms}`);
    const codec = expectOnly('parseContentType', () => parseContentType(value), never);
    ensure(codec === undefined || (codec.length > 0 && codec === codec.toLowerCase()), `content type ${value} read as ${codec}`);
  }
  const metadata = expectOnly('readMetadata', () => readMetadata(headers), never);
  for (const [key] of metadata ?? []) ensure(isValidMetadataKey(key), `metadata key ${key} passed`);
  // The client adds response metadata to the call's: keys that passed must pass again.
  expectOnly('readMetadata into', () => readMetadata(headers, new Metadata()), never);
}

const plainData = fc.dictionary(fc.string({ maxLength: 6 }).filter((key) => key !== 'any'), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 });
const metadataKey = fc.stringMatching(/^[a-z0-9_.-][a-z0-9_.\-/]{0,12}$/).filter((key) => !key.endsWith('-bin') && !isReservedHeader(key) && !isReservedHeader(`${key}-bin`));

export const grpcHeadersTarget: FuzzTarget = {
  name: 'grpc-headers',
  seeds,
  dictionary,
  maxLength: 2048,
  text: true,
  check,
  properties: [
    property('an error written as trailers reads back with its code, message and details', fc.property(
      fc.constantFrom(...Object.values(Code).filter((code) => code !== Code.OK)), fc.string({ unit: 'binary', maxLength: 40 }), plainData, (code, message, details) => {
        const trailers: OutgoingHttpHeaders = {};
        writeErrorStatus(new RpcError(code, message, { details }), trailers);
        const read = readStatus(parse(Buffer.from(Object.entries(trailers).map(([name, value]) => `${name}: ${String(value)}`).join('\r\n'), 'latin1')).headers);
        ensure(read?.code === code && read.message === message, `status ${code} ${JSON.stringify(message)} read as ${String(read)}`);
        ensure(JSON.stringify(read.details) === JSON.stringify(JSON.parse(JSON.stringify(details))), 'details changed');
      })),
    property('percent-encoding round-trips, and a cut one stays within its size', fc.property(fc.string({ unit: 'binary', maxLength: 60 }), fc.integer({ min: 12, max: 80 }), (text, max) => {
      ensure(percentDecode(percentEncode(text)) === text, `${JSON.stringify(text)} changed`);
      const cut = percentEncodeWithin(text, max);
      const back = percentDecode(cut);
      ensure(cut.length <= max && (back === text || (back.endsWith('…') && text.startsWith(back.slice(0, -1)))), `cut ${JSON.stringify(text)} to ${cut}`);
    })),
    property('a formatted timeout parses to at least the time it was made from', fc.property(fc.double({ min: 0, max: 1e15, noNaN: true }), (ms) => {
      const parsed = parseTimeout(formatTimeout(ms));
      ensure(parsed !== undefined && (parsed >= ms || parsed === 99_999_999 * 3_600_000), `${ms} ms formatted as ${formatTimeout(ms)}`);
    })),
    property('metadata written as headers reads back', fc.property(fc.uniqueArray(fc.tuple(metadataKey, fc.oneof(fc.stringMatching(/^[\x20-\x7e]{0,10}$/), fc.uint8Array({ maxLength: 10 }))), { selector: ([key]) => key, maxLength: 4 }), (entries) => {
      const headers: OutgoingHttpHeaders = {};
      writeMetadata(entries, headers);
      const read = readMetadata(headers as IncomingHttpHeaders);
      for (const [key, value] of entries) {
        const got = read?.get(typeof value === 'string' ? key : `${key}-bin`);
        ensure(typeof value === 'string' ? got === value : Buffer.from(value).equals(got as Uint8Array), `metadata ${key} changed`);
      }
    })),
  ],
};
