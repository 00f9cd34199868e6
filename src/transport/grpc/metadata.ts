import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { Code } from '../../core/code.js';
import { Metadata, isValidMetadataKey, type MetadataValue } from '../../core/metadata.js';
import { RpcError } from '../../core/rpc-error.js';

/**
 * Metadata travels as HTTP/2 headers (request metadata and response headers) and trailers. Keys
 * ending in `-bin` carry bytes, base64-encoded; other values must be printable ASCII. Headers that
 * belong to HTTP/2, to gRPC (`grpc-*`) or to this transport (`switchyard-*`) are not metadata.
 */

const reservedHeaders = new Set([
  'content-type', 'te', 'user-agent', 'host', 'connection', 'keep-alive', 'proxy-connection',
  'transfer-encoding', 'upgrade', 'content-length', 'accept-encoding', 'content-encoding', 'http2-settings', 'date',
]);
const printable = /^[\x20-\x7e]*$/;

export function isReservedHeader(key: string): boolean {
  return key.charCodeAt(0) === 58 /* : */ || key.startsWith('grpc-') || key.startsWith('switchyard-') || reservedHeaders.has(key);
}

/**
 * Adds metadata to outgoing headers. Bytes under a key without `-bin` travel under `<key>-bin`;
 * a text value under a `-bin` key travels as its UTF-8 bytes.
 */
export function writeMetadata(metadata: Iterable<[string, MetadataValue]>, headers: OutgoingHttpHeaders): void {
  for (const [key, value] of metadata) {
    if (isReservedHeader(key)) throw new RpcError(Code.INVALID_ARGUMENT, `metadata key ${JSON.stringify(key)} is reserved by HTTP/2 or gRPC`);
    if (typeof value !== 'string') {
      headers[key.endsWith('-bin') ? key : `${key}-bin`] = base64(value);
    } else if (key.endsWith('-bin')) {
      headers[key] = base64(Buffer.from(value, 'utf8'));
    } else if (printable.test(value)) {
      headers[key] = value;
    } else {
      throw new RpcError(Code.INVALID_ARGUMENT, `metadata value of ${JSON.stringify(key)} must be printable ASCII; send other text as bytes under a -bin key`);
    }
  }
}

/** The metadata among received headers; undefined when there is none, so nothing is allocated. */
export function readMetadata(headers: IncomingHttpHeaders, into?: Metadata): Metadata | undefined {
  let pairs: Array<[string, MetadataValue]> | undefined;
  for (const key in headers) {
    if (isReservedHeader(key) || !isValidMetadataKey(key)) continue;
    const raw = headers[key];
    if (raw === undefined) continue;
    let value: MetadataValue;
    if (key.endsWith('-bin')) value = Buffer.from(Array.isArray(raw) ? raw[raw.length - 1]! : raw, 'base64');
    else value = Array.isArray(raw) ? raw.join(', ') : raw;
    if (into !== undefined) into.set(key, value);
    else (pairs ??= []).push([key, value]);
  }
  return pairs === undefined ? into : Metadata.unchecked(pairs);
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64').replace(/=+$/, '');
}
