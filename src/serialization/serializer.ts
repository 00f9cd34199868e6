/**
 * Turns call arguments and results into bytes and back. Each serializer has a one-byte id that
 * every frame carries, so a peer knows how to read a frame before it decodes it.
 */
export interface Serializer {
  readonly id: number;
  readonly name: string;
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}
