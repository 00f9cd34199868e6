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
