import { decodeLimitError, type DecodeLimits } from '../serializer.js';
import { CheckedBuffer } from './checked-buffer.js';
import { defaultOf, enumNamesOf, readScalar, type EnumNames } from './scalars.js';
import { BaseType, isScalar, scalarSize, type FbsField, type FbsObject, type FbsSchema } from './schema.js';

/**
 * FlatBuffers messages read into plain objects, as flatc's object API would give them: every field
 * of the table is present, a left-out scalar as its default (an optional scalar as `null`), a
 * left-out string, table, struct or union as `null` and a left-out vector as `[]`. `[ubyte]` is a
 * `Buffer` viewing the received bytes (no copy). Nesting and items are counted against the
 * decode limits as the message is read, so a small message that points many times at one big
 * table cannot make the reader build more than `maxItems` values.
 */

// Strings this long are decoded once however many offsets point at them (flatc shares strings).
const SHARED_STRING_BYTES = 64;
const FORMAT = 'a FlatBuffers message';

export class MessageReader {
  private readonly enumNames: EnumNames[];
  private readonly defaults = new Map<FbsField, unknown>();

  constructor(
    private readonly schema: FbsSchema,
    private readonly limits: DecodeLimits,
  ) {
    this.enumNames = enumNamesOf(schema);
  }

  /** Reads a message whose root is the table `object`; throws a `RangeError` for a malformed one. */
  read(object: FbsObject, bytes: Uint8Array): Record<string, unknown> {
    const reading = new Reading(this, new CheckedBuffer(bytes), this.limits);
    return reading.table(object, reading.buf.root(), 1);
  }

  objectOf(field: { type: { index: number } }): FbsObject {
    return this.schema.objects[field.type.index]!;
  }

  namesOf(index: number, base: number): EnumNames | undefined {
    // An integer's `index` names its enum (a table's, its object; a union type's, its union).
    return index >= 0 && isScalar(base) && base !== BaseType.UType ? this.enumNames[index] : undefined;
  }

  unionOf(field: FbsField): EnumNames {
    return this.enumNames[field.type.index]!;
  }

  defaultOf(field: FbsField): unknown {
    let value = this.defaults.get(field);
    if (value === undefined && !this.defaults.has(field)) {
      value = defaultOf(field, this.namesOf(field.type.index, field.type.base));
      this.defaults.set(field, value);
    }
    return value;
  }
}

/** The state of reading one message: the bytes, and the items counted so far. */
class Reading {
  private items = 0;
  private shared: Map<number, string> | undefined;

  constructor(
    private readonly reader: MessageReader,
    readonly buf: CheckedBuffer,
    private readonly limits: DecodeLimits,
  ) {}

  table(object: FbsObject, pos: number, depth: number): Record<string, unknown> {
    if (depth > this.limits.maxDepth) throw decodeLimitError(this.limits, 'maxDecodeDepth', FORMAT);
    this.count(1);
    const vt = this.buf.vtable(pos);
    const out: Record<string, unknown> = {};
    for (const field of object.fields) out[field.key] = this.field(field, pos, vt, depth);
    return out;
  }

  private field(field: FbsField, pos: number, vt: number, depth: number): unknown {
    const base = field.type.base;
    if (isScalar(base)) {
      const at = this.buf.field(pos, vt, field.id, scalarSize(base));
      if (at < 0) return this.reader.defaultOf(field);
      const value = readScalar(this.buf, base, at);
      const names = this.reader.namesOf(field.type.index, base);
      return names === undefined ? value : names.nameOf(value as number | bigint);
    }
    if (base === BaseType.Obj) {
      const object = this.reader.objectOf(field);
      const at = this.buf.field(pos, vt, field.id, object.isStruct ? object.byteSize : 4);
      if (at < 0) return this.absent(field);
      return object.isStruct ? this.struct(object, at) : this.table(object, this.buf.indirect(at), depth + 1);
    }
    const at = this.buf.field(pos, vt, field.id, 4);
    if (at < 0 && field.required) this.absent(field);
    if (base === BaseType.String) return at < 0 ? null : this.string(at);
    if (base === BaseType.Vector) return this.vector(field, at, depth + 1);
    if (base === BaseType.Union) return this.union(field, pos, vt, at, depth + 1);
    throw new RangeError(`field ${field.name} has base type ${base}, which a table cannot hold`);
  }

  /** A left-out table or struct, which reads as null unless the schema requires it. */
  private absent(field: FbsField): null {
    if (field.required) throw new RangeError(`the required field ${field.name} is missing`);
    return null;
  }

  private union(field: FbsField, pos: number, vt: number, at: number, depth: number): unknown {
    const typeAt = this.buf.field(pos, vt, field.unionTypeId, 1);
    const type = typeAt < 0 ? 0 : this.buf.u8(typeAt);
    if (type === 0) return null;
    const union = this.reader.unionOf(field);
    const member = union.definition.byValue.get(BigInt(type));
    // A member added to the union after this schema was compiled: its type is kept, its value is unknown here.
    if (member === undefined) return { type, value: null };
    if (at < 0) return { type: member.name, value: null };
    const object = this.reader.objectOf({ type: { index: member.object } });
    return { type: member.name, value: this.table(object, this.buf.indirect(at), depth) };
  }

  private vector(field: FbsField, at: number, depth: number): unknown {
    const element = field.type.element;
    const names = this.reader.namesOf(field.type.index, element);
    if (element === BaseType.UByte && names === undefined) {
      if (at < 0) return Buffer.alloc(0);
      const vector = this.buf.vector(at, 1);
      this.count(1);
      return this.buf.buffer.subarray(vector + 4, vector + 4 + this.buf.u32(vector));
    }
    if (at < 0) return [];
    if (depth > this.limits.maxDepth) throw decodeLimitError(this.limits, 'maxDecodeDepth', FORMAT);
    if (isScalar(element)) {
      const size = scalarSize(element);
      const vector = this.buf.vector(at, size);
      const length = this.count(this.buf.u32(vector));
      const out = new Array<unknown>(length);
      for (let i = 0; i < length; i++) {
        const value = readScalar(this.buf, element, vector + 4 + i * size);
        out[i] = names === undefined ? value : names.nameOf(value as number | bigint);
      }
      return out;
    }
    if (element === BaseType.String) {
      const vector = this.buf.vector(at, 4);
      const length = this.count(this.buf.u32(vector));
      const out = new Array<string>(length);
      for (let i = 0; i < length; i++) out[i] = this.string(vector + 4 + 4 * i);
      return out;
    }
    if (element === BaseType.Obj) {
      const object = this.reader.objectOf(field);
      const vector = this.buf.vector(at, object.isStruct ? object.byteSize : 4);
      const length = this.count(this.buf.u32(vector));
      const out = new Array<Record<string, unknown>>(length);
      for (let i = 0; i < length; i++) {
        out[i] = object.isStruct
          ? this.struct(object, vector + 4 + i * object.byteSize)
          : this.table(object, this.buf.indirect(vector + 4 + 4 * i), depth + 1);
      }
      return out;
    }
    throw new RangeError(`field ${field.name} is a vector of base type ${element}, which this codec does not read`);
  }

  /** A struct at `pos`; the caller checked that its `byteSize` bytes lie in the message. */
  private struct(object: FbsObject, pos: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const field of object.fields) {
      const at = pos + field.offset;
      const base = field.type.base;
      if (base === BaseType.Obj) {
        out[field.key] = this.struct(this.reader.objectOf(field), at);
      } else if (base === BaseType.Array) {
        out[field.key] = this.fixedArray(field, at);
      } else {
        const value = readScalar(this.buf, base, at);
        const names = this.reader.namesOf(field.type.index, base);
        out[field.key] = names === undefined ? value : names.nameOf(value as number | bigint);
      }
    }
    return out;
  }

  private fixedArray(field: FbsField, pos: number): unknown[] {
    const element = field.type.element;
    const out = new Array<unknown>(field.type.fixedLength);
    if (element === BaseType.Obj) {
      const object = this.reader.objectOf(field);
      for (let i = 0; i < out.length; i++) out[i] = this.struct(object, pos + i * object.byteSize);
      return out;
    }
    const size = scalarSize(element);
    const names = this.reader.namesOf(field.type.index, element);
    for (let i = 0; i < out.length; i++) {
      const value = readScalar(this.buf, element, pos + i * size);
      out[i] = names === undefined ? value : names.nameOf(value as number | bigint);
    }
    return out;
  }

  private string(at: number): string {
    const target = this.buf.indirect(at);
    if (target + 4 <= this.buf.length && this.buf.u32(target) >= SHARED_STRING_BYTES) {
      const known = this.shared?.get(target);
      if (known !== undefined) return known;
      const text = this.buf.string(at);
      (this.shared ??= new Map()).set(target, text);
      return text;
    }
    return this.buf.string(at);
  }

  /** Counts `n` more values against `maxItems`; returns `n`. */
  private count(n: number): number {
    this.items += n;
    if (this.items > this.limits.maxItems) throw decodeLimitError(this.limits, 'maxDecodeItems', FORMAT);
    return n;
  }
}
