import { CheckedBuffer } from './checked-buffer.js';
import { BaseType, camelCase, type FbsCall, type FbsEnum, type FbsEnumValue, type FbsField, type FbsObject, type FbsSchema, type FbsService, type FbsType, type StreamingKind } from './schema.js';

/**
 * Reads the binary schema `flatc --binary --schema` writes (`.bfbs`): itself a FlatBuffer of
 * `reflection.fbs` (`Schema` → objects, enums, services), read with the same checked reader as
 * messages. The field ids below are those of `reflection.fbs`, which only ever appends fields.
 */

// reflection.Schema
const SCHEMA = { objects: 0, enums: 1, rootTable: 4, services: 5 };
// reflection.Object
const OBJECT = { name: 0, fields: 1, isStruct: 2, minAlign: 3, byteSize: 4, attributes: 5 };
// reflection.Field
const FIELD = { name: 0, type: 1, id: 2, offset: 3, defaultInteger: 4, defaultReal: 5, deprecated: 6, required: 7, optional: 11 };
// reflection.Type
const TYPE = { base: 0, element: 1, index: 2, fixedLength: 3 };
// reflection.Enum
const ENUM = { name: 0, values: 1, isUnion: 2, underlying: 3, attributes: 4 };
// reflection.EnumVal
const ENUM_VALUE = { name: 0, value: 1, object: 2, unionType: 3 };
// reflection.Service and reflection.RPCCall
const SERVICE = { name: 0, calls: 1 };
const CALL = { name: 0, request: 1, response: 2, attributes: 3 };
// reflection.KeyValue
const KEY_VALUE = { key: 0, value: 1 };

/** One table of the binary schema: its position and vtable. */
interface Node {
  readonly pos: number;
  readonly vt: number;
}

class SchemaReader {
  constructor(private readonly buf: CheckedBuffer) {}

  node(pos: number): Node {
    return { pos, vt: this.buf.vtable(pos) };
  }

  child(node: Node, id: number): Node | undefined {
    const at = this.buf.field(node.pos, node.vt, id, 4);
    return at < 0 ? undefined : this.node(this.buf.indirect(at));
  }

  children(node: Node, id: number): Node[] {
    const at = this.buf.field(node.pos, node.vt, id, 4);
    if (at < 0) return [];
    const vector = this.buf.vector(at, 4);
    const nodes: Node[] = [];
    for (let i = 0, n = this.buf.u32(vector); i < n; i++) nodes.push(this.node(this.buf.indirect(vector + 4 + 4 * i)));
    return nodes;
  }

  string(node: Node, id: number): string {
    const at = this.buf.field(node.pos, node.vt, id, 4);
    return at < 0 ? '' : this.buf.string(at);
  }

  int(node: Node, id: number, size: 1 | 2 | 4, fallback = 0): number {
    const at = this.buf.field(node.pos, node.vt, id, size);
    if (at < 0) return fallback;
    return size === 1 ? this.buf.i8(at) : size === 2 ? this.buf.u16(at) : this.buf.i32(at);
  }

  bool(node: Node, id: number): boolean {
    const at = this.buf.field(node.pos, node.vt, id, 1);
    return at >= 0 && this.buf.u8(at) !== 0;
  }

  long(node: Node, id: number): bigint {
    const at = this.buf.field(node.pos, node.vt, id, 8);
    return at < 0 ? 0n : this.buf.i64(at);
  }

  double(node: Node, id: number): number {
    const at = this.buf.field(node.pos, node.vt, id, 8);
    return at < 0 ? 0 : this.buf.f64(at);
  }

  attributes(node: Node, id: number): Map<string, string> {
    return new Map(this.children(node, id).map((pair) => [this.string(pair, KEY_VALUE.key), this.string(pair, KEY_VALUE.value)]));
  }

  type(node: Node | undefined): FbsType {
    if (node === undefined) return { base: BaseType.None, element: BaseType.None, index: -1, fixedLength: 0 };
    return {
      base: this.int(node, TYPE.base, 1),
      element: this.int(node, TYPE.element, 1),
      index: this.int(node, TYPE.index, 4, -1),
      fixedLength: this.int(node, TYPE.fixedLength, 2),
    };
  }
}

/** Reads a `.bfbs`; `keepCase` keeps field names as the `.fbs` writes them instead of lowerCamelCase. */
export function readBinarySchema(bytes: Uint8Array, keepCase = false): FbsSchema {
  const buf = new CheckedBuffer(bytes);
  if (bytes.byteLength < 8 || buf.buffer.toString('latin1', 4, 8) !== 'BFBS') {
    throw new RangeError('not a binary FlatBuffers schema (flatc --binary --schema writes one, with the file identifier BFBS)');
  }
  const read = new SchemaReader(buf);
  const schema = read.node(buf.root());
  const objectNodes = read.children(schema, SCHEMA.objects);
  const objectNames = objectNodes.map((node) => read.string(node, OBJECT.name));
  const indexOf = (node: Node | undefined): number => (node === undefined ? -1 : objectNames.indexOf(read.string(node, OBJECT.name)));
  const objects = objectNodes.map((node, i) => readObject(read, node, objectNames[i]!, keepCase));
  const enums = read.children(schema, SCHEMA.enums).map((node) => readEnum(read, node, indexOf));
  const services = read.children(schema, SCHEMA.services).map((node): FbsService => ({
    name: read.string(node, SERVICE.name),
    calls: read.children(node, SERVICE.calls).map((call): FbsCall => ({
      name: read.string(call, CALL.name),
      request: indexOf(read.child(call, CALL.request)),
      response: indexOf(read.child(call, CALL.response)),
      streaming: streamingOf(read.attributes(call, CALL.attributes).get('streaming'), read.string(call, CALL.name)),
    })),
  }));
  return { objects, enums, services, rootTable: indexOf(read.child(schema, SCHEMA.rootTable)) };
}

function readObject(read: SchemaReader, node: Node, name: string, keepCase: boolean): FbsObject {
  const raw = read.children(node, OBJECT.fields).map((field) => {
    const type = read.type(read.child(field, FIELD.type));
    return {
      name: read.string(field, FIELD.name),
      type,
      id: read.int(field, FIELD.id, 2),
      offset: read.int(field, FIELD.offset, 2),
      defaultInteger: unsignedIf(type.base, read.long(field, FIELD.defaultInteger)),
      defaultReal: read.double(field, FIELD.defaultReal),
      deprecated: read.bool(field, FIELD.deprecated),
      required: read.bool(field, FIELD.required),
      optional: read.bool(field, FIELD.optional),
    };
  });
  const fields: FbsField[] = [];
  const keys = new Set<string>();
  for (const field of raw.sort((a, b) => a.id - b.id)) {
    // A union's type slot is read and written with its value field, which holds both.
    if (field.deprecated || field.type.base === BaseType.UType || (field.type.base === BaseType.Vector && field.type.element === BaseType.UType)) continue;
    if (field.type.base === BaseType.Vector && field.type.element === BaseType.Union) {
      throw new RangeError(`${name}.${field.name} is a vector of unions, which Switchyard's FlatBuffers codec does not carry (nor do most flatc languages): use a vector of tables that each hold one union`);
    }
    if (field.type.base === BaseType.Vector64) throw new RangeError(`${name}.${field.name} is a 64-bit vector (vector64), which Switchyard's FlatBuffers codec does not carry`);
    const key = keepCase ? field.name : camelCase(field.name);
    if (keys.has(key)) throw new RangeError(`${name} has two fields named ${key} in JavaScript: load the schema with keepCase`);
    // Decoded tables are plain objects: a field of this name would set their prototype.
    if (key === '__proto__') throw new RangeError(`${name} has a field named __proto__, which a JavaScript object cannot hold as data`);
    keys.add(key);
    const unionType = field.type.base === BaseType.Union ? raw.find((other) => other.name === `${field.name}_type`) : undefined;
    fields.push({ ...field, key, unionTypeId: unionType?.id ?? -1 });
  }
  const isStruct = read.bool(node, OBJECT.isStruct);
  return {
    name,
    isStruct,
    minAlign: read.int(node, OBJECT.minAlign, 4),
    byteSize: read.int(node, OBJECT.byteSize, 4),
    fields,
    slotCount: raw.reduce((most, field) => Math.max(most, field.id + 1), 0),
  };
}

function readEnum(read: SchemaReader, node: Node, indexOf: (node: Node | undefined) => number): FbsEnum {
  const isUnion = read.bool(node, ENUM.isUnion);
  const underlying = read.type(read.child(node, ENUM.underlying)).base;
  const values = read.children(node, ENUM.values).map((value): FbsEnumValue => {
    const unionType = read.child(value, ENUM_VALUE.unionType);
    const object = unionType === undefined ? indexOf(read.child(value, ENUM_VALUE.object)) : read.type(unionType).index;
    return { name: read.string(value, ENUM_VALUE.name), value: unsignedIf(underlying, read.long(value, ENUM_VALUE.value)), object: isUnion ? object : -1 };
  });
  return {
    name: read.string(node, ENUM.name),
    isUnion,
    bitFlags: read.attributes(node, ENUM.attributes).has('bit_flags'),
    underlying,
    values,
    byName: new Map(values.map((value) => [value.name, value])),
    byValue: new Map(values.map((value) => [value.value, value])),
  };
}

function streamingOf(attribute: string | undefined, call: string): StreamingKind | undefined {
  if (attribute === undefined || attribute === 'none') return undefined;
  if (attribute === 'server' || attribute === 'client' || attribute === 'bidi') return attribute;
  throw new RangeError(`rpc ${call} has streaming: ${JSON.stringify(attribute)}; FlatBuffers knows "none", "server", "client" and "bidi"`);
}

/** The schema keeps every integer as a signed 64-bit `long`: a `ulong` past 2^63 comes back negative. */
function unsignedIf(base: number, value: bigint): bigint {
  return base === BaseType.ULong ? BigInt.asUintN(64, value) : value;
}
