import { DEFAULT_DECODE_LIMITS, type DecodeLimits } from '../serializer.js';
import { MessageReader } from './decode.js';
import { MessageWriter } from './encode.js';
import type { FbsObject, FbsSchema } from './schema.js';

// Messages this codec read, so that checking them again (`normalize`) costs nothing.
const decoded = new WeakSet<object>();
const codecs = new WeakMap<FbsSchema, SchemaCodec>();

/** Writes and reads the tables of one schema; one per schema (`schemaCodec`), shared by every serializer. */
export class SchemaCodec {
  private readonly writer: MessageWriter;
  private readonly readers = new WeakMap<DecodeLimits, MessageReader>();

  constructor(readonly schema: FbsSchema) {
    this.writer = new MessageWriter(schema);
  }

  /** A message of the table `object`; a `TypeError` naming the field for a value it cannot carry. */
  encode(object: FbsObject, value: unknown, where: string): Uint8Array {
    return this.writer.write(object, value, where);
  }

  /** A message of the table `object` as a plain object; a `RangeError` for a malformed message or one past `limits`. */
  decode(object: FbsObject, bytes: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Record<string, unknown> {
    let reader = this.readers.get(limits);
    if (reader === undefined) {
      reader = new MessageReader(this.schema, limits);
      this.readers.set(limits, reader);
    }
    let message: Record<string, unknown>;
    try {
      message = reader.read(object, bytes);
    } catch (error) {
      if (error instanceof RangeError) throw new RangeError(`cannot read ${object.name}: ${error.message}`, { cause: error });
      throw error;
    }
    decoded.add(message);
    return message;
  }

  /**
   * `value` as it would arrive had it travelled as FlatBuffers (defaults filled in, 64-bit
   * integers as bigints, enums by name, `[ubyte]` as a `Buffer`), so that a handler sees the same
   * request whichever serializer carried it; a message this codec read is returned as it is.
   */
  normalize(object: FbsObject, value: unknown, where: string): Record<string, unknown> {
    if (typeof value === 'object' && value !== null && decoded.has(value)) return value as Record<string, unknown>;
    return this.decode(object, this.encode(object, value, where));
  }
}

export function schemaCodec(schema: FbsSchema): SchemaCodec {
  let codec = codecs.get(schema);
  if (codec === undefined) {
    codec = new SchemaCodec(schema);
    codecs.set(schema, codec);
  }
  return codec;
}
