import { Code } from '../../core/code.js';
import { Metadata, isValidMetadataKey, type MetadataValue } from '../../core/metadata.js';
import { RpcError } from '../../core/rpc-error.js';
import type { MetadataLimits } from '../limits/server-limits.js';

/** Layout and constants of the frame header; see docs/protocol.md. */
export const MAGIC = 0x5359;
export const PROTOCOL_VERSION = 1;
export const HEADER_SIZE = 20;
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;

export const FrameType = {
  REQUEST: 1,
  RESPONSE: 2,
  ONEWAY: 3,
  PING: 4,
  PONG: 5,
  CANCEL: 6,
  GOAWAY: 7,
  STREAM_ITEM: 8,
  CREDIT: 9,
  CALLBACK: 10,
  CALLBACK_RESPONSE: 11,
  /** The caller's request stream ended (client and bidi streaming). */
  STREAM_END: 12,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/**
 * `ERROR`: the body is an error. `UNPROCESSED` (with `ERROR`): the server refused the call without
 * running any of it, so the caller may try it on another provider.
 */
export const Flags = { ERROR: 1, UNPROCESSED: 2 } as const;

/** Request id of the PING that carries a peer's settings when a connection opens. */
export const SETTINGS_PING_ID = 0;
/** Settings key: the largest frame (metadata + body) the sender accepts. */
export const MAX_FRAME_SIZE_KEY = ':max-frame-size';
/** `:timeout` carries at most 12 digits; a longer budget travels as no deadline at all. */
export const MAX_TIMEOUT_MS = 999_999_999_999;

export interface FrameHeader {
  type: number;
  flags: number;
  serializer: number;
  requestId: number;
  metadataLength: number;
  bodyLength: number;
}

/** One received frame; `metadata` and `body` are views of the received bytes. */
export interface Frame extends FrameHeader {
  metadata: Buffer;
  body: Buffer;
}

/** Thrown for bytes that break the protocol; the connection is closed with its message. */
export class ProtocolError extends Error {}

export function writeHeader(target: Buffer, offset: number, h: FrameHeader): void {
  target.writeUInt16BE(MAGIC, offset);
  target[offset + 2] = PROTOCOL_VERSION;
  target[offset + 3] = h.type;
  target[offset + 4] = h.flags;
  target[offset + 5] = h.serializer;
  target.writeUInt16BE(0, offset + 6);
  target.writeUInt32BE(h.requestId >>> 0, offset + 8);
  target.writeUInt32BE(h.metadataLength, offset + 12);
  target.writeUInt32BE(h.bodyLength, offset + 16);
}

/** Reads and checks a header; throws `ProtocolError` before anything is allocated for the frame. */
export function readHeader(source: Buffer, offset: number, maxFrameSize: number): FrameHeader {
  const magic = source.readUInt16BE(offset);
  if (magic !== MAGIC) throw new ProtocolError(`bad magic 0x${magic.toString(16).padStart(4, '0')}`);
  const version = source[offset + 2]!;
  if (version !== PROTOCOL_VERSION) throw new ProtocolError(`unsupported protocol version ${version}`);
  const type = source[offset + 3]!;
  if (type < FrameType.REQUEST || type > FrameType.STREAM_END) throw new ProtocolError(`unknown frame type ${type}`);
  const metadataLength = source.readUInt32BE(offset + 12);
  const bodyLength = source.readUInt32BE(offset + 16);
  if (metadataLength + bodyLength > maxFrameSize) {
    throw new ProtocolError(`frame of ${metadataLength + bodyLength} bytes exceeds the limit of ${maxFrameSize}`);
  }
  return {
    type,
    flags: source[offset + 4]!,
    serializer: source[offset + 5]!,
    requestId: source.readUInt32BE(offset + 8),
    metadataLength,
    bodyLength,
  };
}

const KIND_TEXT = 0;
const KIND_BYTES = 1;

/** Encodes metadata entries in the section format; pseudo-keys are passed in like any other key. */
export function encodeMetadata(entries: Iterable<readonly [string, MetadataValue]>): Buffer {
  const parts: Array<[Buffer, number, Buffer]> = [];
  let size = 0;
  for (const [key, value] of entries) {
    const keyBytes = Buffer.from(key, 'latin1');
    const kind = typeof value === 'string' ? KIND_TEXT : KIND_BYTES;
    const valueBytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    parts.push([keyBytes, kind, valueBytes]);
    size += 7 + keyBytes.length + valueBytes.length;
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const [keyBytes, kind, valueBytes] of parts) {
    out[at] = kind;
    out.writeUInt16BE(keyBytes.length, at + 1);
    keyBytes.copy(out, at + 3);
    at += 3 + keyBytes.length;
    out.writeUInt32BE(valueBytes.length, at);
    valueBytes.copy(out, at + 4);
    at += 4 + valueBytes.length;
  }
  return out;
}

/** Pseudo-keys of a request, read apart from the caller's metadata. */
export interface RequestTarget {
  service: string | undefined;
  method: string | undefined;
  timeoutMs: number | undefined;
  /** Streaming calls: how many items the server may send before it is granted more. */
  credit?: number;
  /** Indexes of the arguments that are the caller's callback functions. */
  callbacks?: number[];
  /** `:input` is `stream`: STREAM_ITEM frames from the caller follow, then STREAM_END. */
  inputStream?: boolean;
}

/**
 * Decodes a metadata section. Pseudo-keys go to `pseudo` (when given) and the rest to the returned
 * metadata; malformed sections throw `ProtocolError`.
 */
export function decodeMetadata(section: Buffer, pseudo?: (key: string, value: string) => void): Metadata;
export function decodeMetadata(section: Buffer, pseudo: (key: string, value: string) => void, emptyAsUndefined: true): Metadata | undefined;
export function decodeMetadata(section: Buffer, pseudo?: (key: string, value: string) => void, emptyAsUndefined = false): Metadata | undefined {
  let pairs: Array<[string, MetadataValue]> | undefined;
  let at = 0;
  while (at < section.length) {
    if (at + 3 > section.length) throw new ProtocolError('truncated metadata entry');
    const kind = section[at]!;
    const keyLength = section.readUInt16BE(at + 1);
    const keyEnd = at + 3 + keyLength;
    if (keyEnd + 4 > section.length) throw new ProtocolError('truncated metadata key');
    const key = section.toString('latin1', at + 3, keyEnd);
    const valueLength = section.readUInt32BE(keyEnd);
    const valueEnd = keyEnd + 4 + valueLength;
    if (valueEnd > section.length) throw new ProtocolError('truncated metadata value');
    if (kind !== KIND_TEXT && kind !== KIND_BYTES) throw new ProtocolError(`unknown metadata kind ${kind}`);
    if (key.charCodeAt(0) === 0x3a /* ':' */) {
      pseudo?.(key, section.toString('utf8', keyEnd + 4, valueEnd));
    } else {
      if (!isValidMetadataKey(key)) throw new ProtocolError(`invalid metadata key ${JSON.stringify(key)}`);
      (pairs ??= []).push([key, kind === KIND_TEXT ? section.toString('utf8', keyEnd + 4, valueEnd) : section.subarray(keyEnd + 4, valueEnd)]);
    }
    at = valueEnd;
  }
  if (pairs === undefined) return emptyAsUndefined ? undefined : new Metadata();
  return Metadata.unchecked(pairs);
}

/** A request's metadata section: where it goes, and the caller's metadata (undefined when it sent none). */
export interface RequestMetadata {
  target: RequestTarget;
  metadata: Metadata | undefined;
}

/**
 * Reads the request pseudo-keys and the caller's metadata of a REQUEST or ONEWAY frame; `metadata`
 * is undefined when the caller sent none. With `limits` (a server's), a section over
 * `maxMetadataBytes` (pseudo-keys included) is refused before it is read, and one with more than
 * `maxMetadataEntries` entries besides the pseudo-keys after; both with RESOURCE_EXHAUSTED.
 */
export function decodeRequestMetadata(section: Buffer, limits?: MetadataLimits): RequestMetadata {
  if (limits !== undefined && section.length > limits.maxMetadataBytes) throw limits.exceeded('maxMetadataBytes', section.length);
  const target: RequestTarget = { service: undefined, method: undefined, timeoutMs: undefined };
  const metadata = decodeMetadata(section, (key, value) => {
    if (key === ':service') target.service = value;
    else if (key === ':method') target.method = value;
    else if (key === ':timeout') {
      if (!/^\d{1,12}$/.test(value)) throw new RpcError(Code.INVALID_ARGUMENT, `invalid :timeout ${JSON.stringify(value)}`);
      target.timeoutMs = Number(value);
    } else if (key === ':credit') {
      target.credit = wholeNumber(key, value);
    } else if (key === ':input') {
      if (value !== 'stream') throw new RpcError(Code.INVALID_ARGUMENT, `invalid :input ${JSON.stringify(value)}`);
      target.inputStream = true;
    } else if (key === ':callbacks') {
      target.callbacks = value.split(',').map((index) => wholeNumber(key, index));
    }
  }, true);
  if (limits !== undefined && metadata !== undefined && metadata.size > limits.maxMetadataEntries) throw limits.exceeded('maxMetadataEntries', metadata.size);
  return { target, metadata };
}

function wholeNumber(key: string, value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new RpcError(Code.INVALID_ARGUMENT, `invalid ${key} ${JSON.stringify(value)}`);
  return Number(value);
}

/** The metadata of a settings PING: the limits this side accepts. */
export function encodeSettings(maxFrameSize: number): Buffer {
  return encodeMetadata([[MAX_FRAME_SIZE_KEY, String(maxFrameSize)]]);
}

/**
 * The peer's frame limit from a settings PING's metadata, or undefined if it names none. Keys this
 * side does not know are ignored, so later revisions can announce more.
 */
export function readSettings(section: Buffer): number | undefined {
  let maxFrameSize: number | undefined;
  decodeMetadata(section, (key, value) => {
    if (key !== MAX_FRAME_SIZE_KEY) return;
    if (!/^\d{1,10}$/.test(value) || Number(value) === 0 || Number(value) > 0xffffffff) {
      throw new ProtocolError(`invalid ${MAX_FRAME_SIZE_KEY} ${JSON.stringify(value)}`);
    }
    maxFrameSize = Number(value);
  });
  return maxFrameSize;
}

/** Reads a u32 count carried as a 4-byte body (CREDIT frames). */
export function readCount(body: Buffer): number {
  if (body.length !== 4) throw new ProtocolError(`a count body has 4 bytes, not ${body.length}`);
  return body.readUInt32BE(0);
}

export function countBody(count: number): Buffer {
  const body = Buffer.allocUnsafe(4);
  body.writeUInt32BE(count >>> 0, 0);
  return body;
}
