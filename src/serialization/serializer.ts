import type { ServiceDefinition } from '../core/service.js';

/**
 * Turns call arguments and results into bytes and back. Each serializer has a one-byte id that
 * every frame carries, so a peer knows how to read a frame before it decodes it.
 */
export interface Serializer {
  readonly id: number;
  readonly name: string;
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
  /**
   * Optional: the encoding as pieces to be written one after another, so that large binary values
   * go to the socket as they are instead of being copied; undefined where `encode` should be used.
   */
  encodeChunks?(value: unknown): Uint8Array[] | undefined;
  /**
   * Optional, for a serializer whose messages follow a schema per method (FlatBuffers): the
   * serializer of one method's messages on one side of a call, with the same `id` and `name`. A
   * client encodes the argument array and request stream items with it and decodes results and
   * stream items; a server decodes arguments and request stream items and encodes results. Errors
   * are written with the serializer itself (or JSON), never with the one this returns.
   */
  forMethod?(service: ServiceDefinition, method: string, side: CallSide): Serializer;
}

/** Which end of a call a serializer works for: the caller or the one that answers. */
export type CallSide = 'client' | 'server';

/** The serializer of one method's messages: `forMethod`'s where the serializer has it, else the serializer itself. */
export function methodSerializer(serializer: Serializer, service: ServiceDefinition, method: string, side: CallSide): Serializer {
  return serializer.forMethod === undefined ? serializer : serializer.forMethod(service, method, side);
}

/** The body of a frame: one buffer, or pieces written back to back. */
export type Body = Uint8Array | readonly Uint8Array[];

/** Encodes with the serializer's chunked form where it has one. */
export function encodeBody(serializer: Serializer, value: unknown): Body {
  return serializer.encodeChunks?.(value) ?? serializer.encode(value);
}

export function bodyLength(body: Body | undefined): number {
  if (body === undefined) return 0;
  if (body instanceof Uint8Array) return body.byteLength;
  let total = 0;
  for (const chunk of body) total += chunk.byteLength;
  return total;
}

/**
 * What a decoder accepts, so that a small hostile message cannot exhaust the stack or the heap:
 * nesting and item counts are checked on the encoded bytes before any value is built.
 */
export interface DecodeLimits {
  /** Deepest nesting of arrays and maps (objects); a call's argument array is the first level. */
  readonly maxDepth: number;
  /** Most array items and map entries in one message, counted over all its levels. */
  readonly maxItems: number;
  /** Told of each refusal, by the option's name (a server counts them). */
  readonly refused?: (limit: 'maxDecodeDepth' | 'maxDecodeItems') => void;
}

/** 100 levels is protobuf's recursion limit; a million items keep one 16 MiB message within tens of MiB of heap. */
export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxDepth: 100, maxItems: 1_000_000 };

/** Messages this short cannot break either limit, so they are not scanned: every level or item takes a byte. */
export function mayExceed(length: number, limits: DecodeLimits): boolean {
  return length > limits.maxDepth || length > limits.maxItems;
}

/** The error a decoder throws for a message past its limits; transports answer it INVALID_ARGUMENT. */
export function decodeLimitError(limits: DecodeLimits, limit: 'maxDecodeDepth' | 'maxDecodeItems', format: string): RangeError {
  limits.refused?.(limit);
  return limit === 'maxDecodeDepth'
    ? new RangeError(`${format} nesting deeper than ${limits.maxDepth} levels (maxDecodeDepth)`)
    : new RangeError(`${format} with more than ${limits.maxItems} items (maxDecodeItems)`);
}
