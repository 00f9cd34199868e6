import type { IncomingMessage } from 'node:http';
import { fromBase64, toBase64 } from '../../core/base64.js';
import { Code } from '../../core/code.js';
import { Metadata } from '../../core/metadata.js';
import { RpcError } from '../../core/rpc-error.js';

/** Request headers of the HTTP transport besides metadata. */
export const Header = {
  version: 'x-switchyard-version',
  group: 'x-switchyard-group',
  /** Remaining time budget of the call in whole milliseconds. */
  timeout: 'x-switchyard-timeout-ms',
  /** `1`: the server answers 202 at once and runs the call without sending its result. */
  oneWay: 'x-switchyard-one-way',
  /** Response header `1`: the server is shutting down; this connection closes after the answer. */
  draining: 'x-switchyard-draining',
} as const;

/** Every metadata entry is a header `sy-meta-<key>`; binary values add `-bin` and are base64. */
export const META_PREFIX = 'sy-meta-';

/**
 * Standard headers that are metadata under their own names, in both directions, so that
 * credentials, trace context and proxy headers sent by any HTTP client, browser or gateway reach
 * handlers, and the client sends them as those headers (`authorization` as `Authorization`). A text
 * value only: bytes under these keys still travel as `sy-meta-<key>-bin`. `user-agent` is not one,
 * as on gRPC, where it belongs to the transport. Listed in docs/http.md.
 */
export const STANDARD_METADATA_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'accept-language',
  'x-request-id',
  'x-correlation-id',
  'traceparent',
  'tracestate',
  'baggage',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  // What an EventSource sends when it reconnects: a resumable stream's `resumeAfter()` (core/resumable.ts).
  'last-event-id',
]);
const BIN_SUFFIX = '-bin';
const printable = /^(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?$/;
const base64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Metadata as header pairs. A `/` in a key travels as `%2f`, since header names cannot hold it.
 * Text values must be printable ASCII without leading or trailing blanks (send others as bytes),
 * and a text value's key must not end in `-bin`.
 */
export function metadataHeaders(metadata: Metadata): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [key, value] of metadata) {
    const standard = STANDARD_METADATA_HEADERS.has(key);
    const name = standard ? key : META_PREFIX + key.replaceAll('/', '%2f');
    if (typeof value !== 'string') {
      out.push([(standard ? META_PREFIX + key : name) + BIN_SUFFIX, toBase64(value)]);
      continue;
    }
    if (key.endsWith(BIN_SUFFIX)) {
      throw new RpcError(Code.INVALID_ARGUMENT, `metadata ${JSON.stringify(key)} ends in -bin, so over HTTP its value must be bytes`);
    }
    if (!printable.test(value)) {
      throw new RpcError(Code.INVALID_ARGUMENT, `metadata ${JSON.stringify(key)} is not printable ASCII; send it as bytes over HTTP`);
    }
    out.push([name, value]);
  }
  return out;
}

/**
 * Reads `sy-meta-*` headers and the standard metadata headers into `into` (made when the first one
 * is found); other headers are skipped.
 */
export function readMetadata(headers: Iterable<readonly [string, string | string[] | undefined]>, into?: Metadata): Metadata | undefined {
  let metadata = into;
  for (const [rawName, rawValue] of headers) {
    if (rawValue === undefined) continue;
    const name = rawName.toLowerCase();
    const value = Array.isArray(rawValue) ? rawValue.join(', ') : rawValue;
    if (STANDARD_METADATA_HEADERS.has(name)) {
      (metadata ??= new Metadata()).set(name, value);
      continue;
    }
    if (!name.startsWith(META_PREFIX)) continue;
    let key = name.slice(META_PREFIX.length).replaceAll('%2f', '/');
    metadata ??= new Metadata();
    if (key.endsWith(BIN_SUFFIX)) {
      key = key.slice(0, -BIN_SUFFIX.length);
      const text = value.trim();
      if (!base64.test(text)) throw new RpcError(Code.INVALID_ARGUMENT, `header ${rawName} is not base64`);
      metadata.set(key, fromBase64(text));
    } else {
      metadata.set(key, value);
    }
  }
  return metadata;
}

/** Whether a header, by its lower-case name, carries metadata. */
function isMetadataHeader(name: string): boolean {
  return name.startsWith(META_PREFIX) || STANDARD_METADATA_HEADERS.has(name);
}

/**
 * `readMetadata` of headers kept as an object with lower-case names (a Node request's `headers`,
 * undici's response headers), which looks at the names first: most calls carry no metadata, and
 * then nothing is copied out of the headers.
 */
export function readHeaderObjectMetadata(headers: Readonly<Record<string, string | string[] | undefined>>): Metadata | undefined {
  for (const name in headers) {
    if (isMetadataHeader(name)) return readMetadata(Object.entries(headers));
  }
  return undefined;
}

/** The longest timeout the header carries (12 digits, 31 years): a longer deadline is sent as this. */
export const MAX_TIMEOUT_MS = 999_999_999_999;

/** Parses the timeout header: undefined when absent. */
export function readTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,12}$/.test(value.trim())) throw new RpcError(Code.INVALID_ARGUMENT, `invalid ${Header.timeout} ${JSON.stringify(value)}`);
  return Number(value);
}

/** Whether a content type is JSON (`application/json`, any parameters). */
export function isJson(contentType: string | null | undefined): boolean {
  if (contentType == null) return false;
  return contentType === 'application/json' || /^application\/json\s*(;|$)/i.test(contentType.trim());
}

/** `group/name:version` into its parts (names hold neither `/` nor `:`). */
export function splitServiceId(id: string): { name: string; version: string | undefined; group: string | undefined } {
  const slash = id.indexOf('/');
  const group = slash < 0 ? undefined : id.slice(0, slash);
  const rest = slash < 0 ? id : id.slice(slash + 1);
  const colon = rest.indexOf(':');
  return colon < 0 ? { name: rest, version: undefined, group } : { name: rest.slice(0, colon), version: rest.slice(colon + 1), group };
}

/** A request header's value; the first of them when it came more than once. */
export function firstHeader(req: IncomingMessage, name: string): string | undefined {
  return firstValue(req.headers[name]);
}

/** The first of a header's values, as Node gives them (an array for a header that came more than once). */
export function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
