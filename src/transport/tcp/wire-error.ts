import { Code } from '../../core/code.js';
import { RpcError, toWireError, type WireError } from '../../core/rpc-error.js';
import { errorSerializer } from '../../serialization/registry.js';
import type { Serializer } from '../../serialization/serializer.js';

/** An error ready for a frame: its body, the serializer that wrote it, and whether metadata still fits beside it. */
export interface EncodedError {
  serializer: Serializer;
  body: Uint8Array;
  keepMetadata: boolean;
}

// A shortened error keeps this much of its message and name: enough to tell what went wrong.
const SHORT_MESSAGE_CHARS = 1000;
const SHORT_NAME_CHARS = 100;

// Written by hand so that not even a broken serializer can keep an error from being sent.
const LAST_RESORT = Buffer.from(JSON.stringify({ code: Code.INTERNAL, name: 'RpcError', message: 'the error could not be encoded' }));

/**
 * Encodes `error` for an ERROR frame that must not exceed `limit` bytes together with
 * `metadataLength` bytes of metadata. Never throws, whatever the error holds. An error that does not
 * fit (a huge message or details) is replaced by a short one with the same code and name, the start
 * of its message and no details; response metadata is dropped only if even that does not fit.
 */
export function encodeError(serializer: Serializer, error: RpcError, limit: number, metadataLength = 0): EncodedError {
  const wire = toWireError(error);
  let encoded = encodeWith(serializer, wire);
  if (encoded !== undefined && encoded.body.length + metadataLength <= limit) return { ...encoded, keepMetadata: true };
  const size = encoded === undefined ? undefined : encoded.body.length + metadataLength;
  const short = shorten(wire, size, limit);
  encoded = encodeWith(serializer, short);
  if (encoded === undefined) return { serializer: errorSerializer, body: LAST_RESORT, keepMetadata: false };
  if (encoded.body.length + metadataLength <= limit) return { ...encoded, keepMetadata: true };
  if (encoded.body.length <= limit) return { ...encoded, keepMetadata: false };
  // A limit this small leaves room for no message at all.
  return { ...(encodeWith(serializer, { code: short.code, name: 'RpcError', message: '' }) ?? { serializer: errorSerializer, body: LAST_RESORT }), keepMetadata: false };
}

/** The body in `serializer`, or in JSON if that one fails; undefined if both do. */
function encodeWith(serializer: Serializer, wire: WireError): { serializer: Serializer; body: Uint8Array } | undefined {
  try {
    return { serializer, body: serializer.encode(wire) };
  } catch {
    // e.g. a serializer that cannot write some detail: JSON below gets a second try
  }
  if (serializer === errorSerializer) return undefined;
  try {
    return { serializer: errorSerializer, body: errorSerializer.encode(wire) };
  } catch {
    return undefined;
  }
}

function shorten(wire: WireError, size: number | undefined, limit: number): WireError {
  const why = size === undefined ? 'it could not be encoded' : `its ${size} bytes exceed the frame limit of ${limit}`;
  return {
    code: wire.code,
    name: truncate(wire.name, SHORT_NAME_CHARS),
    // Up to 4 bytes a character, with room left for the code, name and note.
    message: `${truncate(wire.message, Math.max(0, Math.min(SHORT_MESSAGE_CHARS, Math.floor((limit - 400) / 4))))} [error shortened: ${why}]`,
  };
}

function truncate(text: string, chars: number): string {
  if (text.length <= chars) return text;
  // Never cut between the two halves of a surrogate pair.
  const end = isHighSurrogate(text.charCodeAt(chars - 1)) ? chars - 1 : chars;
  return `${text.slice(0, end)}…`;
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}
