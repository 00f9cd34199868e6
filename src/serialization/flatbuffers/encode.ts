import type { Builder } from 'flatbuffers';
import { DEFAULT_DECODE_LIMITS } from '../serializer.js';
import { unfaithful } from '../unfaithful.js';
import { flatbuffersRuntime } from './runtime.js';
import { describe, enumNamesOf, path, toBool, toFloat, toInteger, type EnumNames } from './scalars.js';
import { BaseType, isScalar, scalarSize, type FbsField, type FbsObject, type FbsSchema } from './schema.js';

/**
 * Plain objects written as FlatBuffers messages with the `flatbuffers` package's `Builder`. A
 * table takes the fields of its schema and nothing else: a key the table does not have, a value
 * of the wrong kind, an integer out of range or a missing `required` field is a `TypeError` that
 * names the field, so that nothing is dropped or changed without a word. `null` and `undefined`
 * leave a field out (it reads back as its default). A scalar equal to its default is left out,
 * as flatc's code does; `-0` in a float field is written, since it is not its default `0`.
 */

// A message nested deeper than a receiver with the default limits reads is refused when written.
const MAX_DEPTH = DEFAULT_DECODE_LIMITS.maxDepth;
// A builder grown past this by one large message is dropped afterwards rather than kept for the next.
const KEEP_BUILDER_BYTES = 1024 * 1024;

/** A table's fields in the order they are added: widest first, so that little padding is needed. */
interface TablePlan {
  /** Indexes into the object's fields. */
  readonly order: readonly number[];
  readonly keys: ReadonlySet<string>;
}

export class MessageWriter {
  private readonly enumNames: EnumNames[];
  private readonly plans = new Map<FbsObject, TablePlan>();
  private builder: Builder | undefined;

  constructor(private readonly schema: FbsSchema) {
    this.enumNames = enumNamesOf(schema);
  }

  /** Writes `value` as a message whose root is the table `object`; `where` starts each error message. */
  write(object: FbsObject, value: unknown, where: string): Uint8Array {
    const builder = (this.builder ??= new (flatbuffersRuntime().Builder)(1024));
    builder.clear();
    builder.finish(this.table(builder, object, value, where, 1));
    // Copied out, since the builder is reused; into a Buffer, whose allocation skips the zero-fill
    // (and, when small, comes from Node's pool) that makes a large Uint8Array.slice() slow.
    const built = builder.asUint8Array();
    const bytes = Buffer.allocUnsafe(built.byteLength);
    bytes.set(built);
    if (builder.dataBuffer().capacity() > KEEP_BUILDER_BYTES) this.builder = undefined;
    return bytes;
  }

  private table(builder: Builder, object: FbsObject, value: unknown, where: string, depth: number): number {
    if (depth > MAX_DEPTH) throw new TypeError(`${where}: nesting deeper than ${MAX_DEPTH} levels (a cycle?)`);
    const plan = this.plan(object);
    const record = fieldsOf(value, object, plan.keys, where);
    const fields = object.fields;
    // Strings, vectors and tables are written before the table that points at them.
    const offsets = new Array<number>(fields.length);
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i]!;
      const item = record[field.key];
      if (item === undefined || item === null) {
        if (field.required) throw new TypeError(`${path(where, field.key)} is required by ${object.name}`);
        continue;
      }
      const base = field.type.base;
      if (base === BaseType.String) offsets[i] = this.string(builder, item, where, field.key);
      else if (base === BaseType.Vector) offsets[i] = this.vector(builder, field, item, path(where, field.key), depth + 1);
      else if (base === BaseType.Union) offsets[i] = this.unionValue(builder, field, item, path(where, field.key), depth + 1);
      else if (base === BaseType.Obj && !this.objectOf(field.type.index).isStruct) {
        offsets[i] = this.table(builder, this.objectOf(field.type.index), item, path(where, field.key), depth + 1);
      }
    }
    builder.startObject(object.slotCount);
    for (const index of plan.order) {
      const field = fields[index]!;
      const item = record[field.key];
      if (item === undefined || item === null) continue;
      const base = field.type.base;
      const offset = offsets[index];
      if (offset !== undefined) {
        builder.addOffset(offset);
        builder.slot(field.id);
        if (base === BaseType.Union) {
          builder.addInt8(this.unionType(field, item, path(where, field.key)));
          builder.slot(field.unionTypeId);
        }
      } else if (base === BaseType.Obj) {
        this.struct(builder, this.objectOf(field.type.index), item, path(where, field.key));
        builder.slot(field.id);
      } else {
        this.scalarField(builder, field, item, where);
      }
    }
    return builder.endObject();
  }

  private scalarField(builder: Builder, field: FbsField, item: unknown, where: string): void {
    const base = field.type.base;
    const value = this.scalar(base, field.type.index, item, where, field.key);
    if (!field.optional) {
      const fallback = base === BaseType.Float || base === BaseType.Double ? field.defaultReal
        : base === BaseType.Long || base === BaseType.ULong ? field.defaultInteger
          : base === BaseType.Bool ? (field.defaultInteger !== 0n ? 1 : 0) : Number(field.defaultInteger);
      if (Object.is(value, fallback)) return;
    }
    addScalar(builder, base, value);
    builder.slot(field.id);
  }

  /** A caller's value for a scalar of `base` (an enum's when `index` names one), as the builder writes it. */
  private scalar(base: number, index: number, item: unknown, where: string, key: string | number): number | bigint {
    if (base === BaseType.Bool) return toBool(item, where, key) ? 1 : 0;
    if (base === BaseType.Float || base === BaseType.Double) return toFloat(item, where, key);
    return toInteger(item, base, index >= 0 ? this.enumNames[index] : undefined, where, key);
  }

  private string(builder: Builder, item: unknown, where: string, key: string | number): number {
    if (typeof item !== 'string') throw new TypeError(`${path(where, key)}: FlatBuffers cannot carry ${describe(item)} in a string field`);
    if (!(item as string & { isWellFormed(): boolean }).isWellFormed()) {
      throw new TypeError(`${path(where, key)}: FlatBuffers cannot carry a string with a lone surrogate (UTF-8 has no form for it)`);
    }
    // Node's Buffer.from is several times faster than the TextEncoder the builder would use on a string.
    return builder.createString(Buffer.from(item, 'utf8'));
  }

  private vector(builder: Builder, field: FbsField, item: unknown, where: string, depth: number): number {
    const element = field.type.element;
    const index = field.type.index;
    const enumNames = isScalar(element) && index >= 0 ? this.enumNames[index] : undefined;
    if (element === BaseType.UByte && enumNames === undefined && item instanceof Uint8Array) return builder.createByteVector(item);
    if (!Array.isArray(item)) throw new TypeError(`${where}: FlatBuffers cannot carry ${describe(item)} in a vector field${element === BaseType.UByte ? ' (it takes a Uint8Array or an array of numbers)' : ''}`);
    if (depth > MAX_DEPTH) throw new TypeError(`${where}: nesting deeper than ${MAX_DEPTH} levels (a cycle?)`);
    const items = item as unknown[];
    // Loops, not map(): map() skips the holes of a sparse array, which must be refused, not written as 0.
    if (isScalar(element)) {
      const size = scalarSize(element);
      const values = new Array<number | bigint>(items.length);
      for (let i = 0; i < items.length; i++) values[i] = this.scalar(element, index, items[i], where, i);
      builder.startVector(size, values.length, size);
      for (let i = values.length - 1; i >= 0; i--) addScalar(builder, element, values[i]!);
      return builder.endVector();
    }
    if (element === BaseType.Obj && this.objectOf(index).isStruct) {
      const struct = this.objectOf(index);
      builder.startVector(struct.byteSize, items.length, struct.minAlign);
      for (let i = items.length - 1; i >= 0; i--) this.struct(builder, struct, items[i], path(where, i));
      return builder.endVector();
    }
    if (element !== BaseType.String && element !== BaseType.Obj) throw new TypeError(`${where}: a vector of base type ${element} is not carried`);
    const offsets = new Array<number>(items.length);
    for (let i = 0; i < items.length; i++) {
      offsets[i] = element === BaseType.String
        ? this.string(builder, items[i], where, i)
        : this.table(builder, this.objectOf(index), items[i], path(where, i), depth + 1);
    }
    builder.startVector(4, offsets.length, 4);
    for (let i = offsets.length - 1; i >= 0; i--) builder.addOffset(offsets[i]!);
    return builder.endVector();
  }

  /** A union field's value: `{ type: 'Member', value: { ...table } }`. */
  private unionValue(builder: Builder, field: FbsField, item: unknown, where: string, depth: number): number {
    const member = this.unionMember(field, item, where);
    return this.table(builder, this.objectOf(member.object), (item as { value: unknown }).value, `${where}.value`, depth);
  }

  private unionType(field: FbsField, item: unknown, where: string): number {
    return Number(this.unionMember(field, item, where).value);
  }

  private unionMember(field: FbsField, item: unknown, where: string): { object: number; value: bigint } {
    const union = this.enumNames[field.type.index]!.definition;
    const type = typeof item === 'object' && item !== null ? (item as { type?: unknown }).type : undefined;
    const member = typeof type === 'string' ? union.byName.get(type) : undefined;
    if (member === undefined || member.value === 0n || (item as { value?: unknown }).value == null) {
      throw new TypeError(`${where}: a ${union.name} union is written as { type, value } with type one of ${union.values.filter((v) => v.value !== 0n).map((v) => v.name).join(', ')} and value its table, not ${describe(item)}`);
    }
    return member;
  }

  /** A struct, in place: every field is required, since a struct has no defaults. */
  private struct(builder: Builder, struct: FbsObject, item: unknown, where: string): void {
    builder.prep(struct.minAlign, struct.byteSize);
    this.structBody(builder, struct, item, where);
  }

  private structBody(builder: Builder, struct: FbsObject, item: unknown, where: string): void {
    const record = fieldsOf(item, struct, this.plan(struct).keys, where);
    let end = struct.byteSize;
    // Written back to front, as the builder grows towards the start of the buffer.
    for (let i = struct.fields.length - 1; i >= 0; i--) {
      const field = struct.fields[i]!;
      const value = record[field.key];
      if (value === undefined || value === null) throw new TypeError(`${path(where, field.key)} is missing: every field of the struct ${struct.name} must be given`);
      builder.pad(end - field.offset - this.sizeInStruct(field));
      const base = field.type.base;
      if (base === BaseType.Obj) {
        this.structBody(builder, this.objectOf(field.type.index), value, path(where, field.key));
      } else if (base === BaseType.Array) {
        const at = path(where, field.key);
        const length = field.type.fixedLength;
        if (!Array.isArray(value) || value.length !== length) throw new TypeError(`${at}: FlatBuffers carries exactly ${length} items here, not ${describe(value)}${Array.isArray(value) ? ` of ${value.length}` : ''}`);
        for (let j = length - 1; j >= 0; j--) {
          if (field.type.element === BaseType.Obj) this.structBody(builder, this.objectOf(field.type.index), value[j], path(at, j));
          else writeScalar(builder, field.type.element, this.scalar(field.type.element, field.type.index, value[j], at, j));
        }
      } else {
        writeScalar(builder, base, this.scalar(base, field.type.index, value, where, field.key));
      }
      end = field.offset;
    }
    builder.pad(end);
  }

  private sizeInStruct(field: FbsField): number {
    const type = field.type;
    if (type.base === BaseType.Obj) return this.objectOf(type.index).byteSize;
    if (type.base === BaseType.Array) return type.fixedLength * (type.element === BaseType.Obj ? this.objectOf(type.index).byteSize : scalarSize(type.element));
    return scalarSize(type.base);
  }

  private objectOf(index: number): FbsObject {
    return this.schema.objects[index]!;
  }

  private plan(object: FbsObject): TablePlan {
    let plan = this.plans.get(object);
    if (plan === undefined) {
      const width = (field: FbsField): number => {
        const base = field.type.base;
        if (isScalar(base)) return scalarSize(base);
        if (base === BaseType.Obj && this.objectOf(field.type.index).isStruct) return this.objectOf(field.type.index).minAlign;
        return 4;
      };
      const fields = object.fields;
      const order = fields.map((_, i) => i).sort((a, b) => width(fields[b]!) - width(fields[a]!) || fields[a]!.id - fields[b]!.id);
      plan = { order, keys: new Set(object.fields.map((field) => field.key)) };
      this.plans.set(object, plan);
    }
    return plan;
  }
}

/** The fields of a table or struct value: a plain object or a class instance's own fields; anything else is refused. */
function fieldsOf(value: unknown, object: FbsObject, keys: ReadonlySet<string>, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Map || value instanceof Set || value instanceof Date) {
    throw new TypeError(`${where}: FlatBuffers cannot carry ${describe(value)} as the ${object.isStruct ? 'struct' : 'table'} ${object.name} (it takes an object of its fields)`);
  }
  const refused = unfaithful(value);
  if (refused !== undefined) throw new TypeError(`${where}: FlatBuffers cannot carry ${refused.what} as the ${object.isStruct ? 'struct' : 'table'} ${object.name}`);
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!keys.has(key) && record[key] !== undefined) throw new TypeError(`${where}: FlatBuffers cannot carry the field ${key}, which ${object.name} does not have`);
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) return record;
  // A class instance gives its own fields only: a getter or method of its class stays behind, as in MessagePack.
  const own: Record<string, unknown> = {};
  for (const key of keys) if (Object.hasOwn(record, key)) own[key] = record[key];
  return own;
}

/** Adds a scalar, aligned, at the front of what is built. */
function addScalar(builder: Builder, base: number, value: number | bigint): void {
  switch (scalarSize(base)) {
    case 1:
      builder.addInt8(value as number);
      return;
    case 2:
      builder.addInt16(value as number);
      return;
    case 4:
      if (base === BaseType.Float) builder.addFloat32(value as number);
      else builder.addInt32(value as number);
      return;
    default:
      if (base === BaseType.Double) builder.addFloat64(value as number);
      else builder.addInt64(value as bigint);
  }
}

/** Writes a scalar where a struct's layout already put the alignment. */
function writeScalar(builder: Builder, base: number, value: number | bigint): void {
  switch (scalarSize(base)) {
    case 1:
      builder.writeInt8(value as number);
      return;
    case 2:
      builder.writeInt16(value as number);
      return;
    case 4:
      if (base === BaseType.Float) builder.writeFloat32(value as number);
      else builder.writeInt32(value as number);
      return;
    default:
      if (base === BaseType.Double) builder.writeFloat64(value as number);
      else builder.writeInt64(value as bigint);
  }
}
