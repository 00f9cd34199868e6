import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { Code, isCode } from '../../core/code.js';
import { RpcError, toWireError, type WireError } from '../../core/rpc-error.js';
import { decodeStatusDetails, encodeStatusDetails } from './status-details.js';

/**
 * The status of a call as gRPC trailers: `grpc-status` (Switchyard's codes are gRPC's numbers),
 * `grpc-message` (percent-encoded UTF-8), `grpc-status-details-bin` (a `google.rpc.Status` holding
 * the error's details) and, for errors with a name of their own, `switchyard-error-name`.
 */

export const OK_TRAILERS: OutgoingHttpHeaders = Object.freeze({ 'grpc-status': '0' });

// Node sends header blocks of at most 64,000 bytes and resets the stream beyond that, so that the
// caller would get no status at all: the parts an error controls are kept well within it.
const MAX_MESSAGE_BYTES = 16 * 1024;
const MAX_NAME_BYTES = 256;
const MAX_DETAILS_BYTES = 32 * 1024;
const ELLIPSIS = '%E2%80%A6'; // …

/**
 * Adds the trailers that describe `error` to `headers`; never throws, whatever the error holds.
 * Its fields are read once, through `toWireError`, which copies the details as plain data.
 */
export function writeErrorStatus(error: RpcError, headers: OutgoingHttpHeaders): void {
  let wire: WireError;
  try {
    wire = toWireError(error);
  } catch {
    wire = { code: Code.UNKNOWN, name: 'RpcError', message: 'error that cannot be described' };
  }
  headers['grpc-status'] = String(wire.code);
  if (wire.message !== '') headers['grpc-message'] = percentEncodeWithin(wire.message, MAX_MESSAGE_BYTES);
  if (wire.name !== 'RpcError') headers['switchyard-error-name'] = percentEncodeWithin(wire.name, MAX_NAME_BYTES);
  if (wire.details === undefined) return;
  try {
    const bin = Buffer.from(encodeStatusDetails(wire.code, wire.message, wire.details)).toString('base64').replace(/=+$/, '');
    if (bin.length <= MAX_DETAILS_BYTES) headers['grpc-status-details-bin'] = bin;
  } catch {
    // details that cannot be encoded are left out; code and message still tell the caller what failed
  }
}

/**
 * The error a received status describes, or undefined for OK. A missing or unknown status is
 * reported as such; gRPC codes Switchyard does not name (ALREADY_EXISTS, ABORTED, OUT_OF_RANGE,
 * DATA_LOSS) arrive as UNKNOWN with the original number in `details.grpcStatus`.
 */
export function readStatus(headers: IncomingHttpHeaders): RpcError | undefined {
  const raw = headers['grpc-status'];
  const status = typeof raw === 'string' && /^\d{1,3}$/.test(raw) ? Number(raw) : NaN;
  if (status === 0) return undefined;
  const messageHeader = headers['grpc-message'];
  const message = typeof messageHeader === 'string' ? percentDecode(messageHeader) : '';
  if (Number.isNaN(status)) return new RpcError(Code.INTERNAL, `response carries no valid grpc-status (${JSON.stringify(raw)})${message ? `: ${message}` : ''}`);
  const detailsHeader = headers['grpc-status-details-bin'];
  let details = typeof detailsHeader === 'string' ? decodeStatusDetails(Buffer.from(detailsHeader, 'base64')) : undefined;
  let code: Code;
  if (isCode(status)) {
    code = status;
  } else {
    code = Code.UNKNOWN;
    details = { ...details, grpcStatus: status };
  }
  const nameHeader = headers['switchyard-error-name'];
  const name = typeof nameHeader === 'string' && nameHeader !== '' ? percentDecode(nameHeader) : undefined;
  return new RpcError(code, message, { name, details });
}

/** gRPC's mapping of HTTP statuses, for responses that are not gRPC at all (a proxy's error page). */
export function codeForHttpStatus(status: number): Code {
  switch (status) {
    case 400:
      return Code.INTERNAL;
    case 401:
      return Code.UNAUTHENTICATED;
    case 403:
      return Code.PERMISSION_DENIED;
    case 404:
      return Code.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return Code.UNAVAILABLE;
    default:
      return Code.UNKNOWN;
  }
}

const plain = /^[\x20-\x24\x26-\x7e]*$/;

/** `grpc-message` encoding: bytes outside printable ASCII, and `%`, as `%XX` of their UTF-8. */
export function percentEncode(text: string): string {
  if (plain.test(text)) return text;
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * `percentEncode(text)` cut to at most `max` characters, ending in `…` when cut. The cut falls
 * between whole characters: never inside a `%XX` escape or the UTF-8 bytes of one character.
 */
export function percentEncodeWithin(text: string, max: number): string {
  // One character more than fits, so that a text that is cut always shows it
  const encoded = percentEncode(text.length > max ? text.slice(0, max + 1) : text);
  if (encoded.length <= max) return encoded;
  let end = max - ELLIPSIS.length;
  if (encoded[end - 1] === '%') end -= 1;
  else if (encoded[end - 2] === '%') end -= 2;
  while (end >= 3 && encoded[end] === '%' && isContinuation(encoded, end)) end -= 3;
  return encoded.slice(0, end) + ELLIPSIS;
}

/** Whether the escape at `at` is a UTF-8 continuation byte (0x80-0xBF: `%8X`, `%9X`, `%AX`, `%BX`). */
function isContinuation(encoded: string, at: number): boolean {
  const high = encoded[at + 1];
  return high === '8' || high === '9' || high === 'A' || high === 'B';
}

const utf8 = new TextDecoder('utf-8');

/** Decodes `grpc-message`; a `%` not followed by two hex digits is kept as it is. */
export function percentDecode(value: string): string {
  if (!value.includes('%')) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25 && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(c & 0xff);
    }
  }
  return utf8.decode(new Uint8Array(bytes));
}
