import type * as Protobuf from 'protobufjs';
import type { ServiceDefinition } from '../../core/service.js';
// The Protobuf side of a definition made by defineServiceFromProto: a registry with no runtime
// dependency, which the http transport reads for the message types of such a definition.
import { protoServiceOf } from '../grpc/proto-registry.js';
import { refTo, type Schema, type SchemaComponents } from './openapi-components.js';

/**
 * How a message travels: `received` is the message as the codec decodes it and as a handler
 * returns it (the `Item` type `switchyard-proto` writes): every field present with its default,
 * unset sub-messages `null`, oneofs named. `sent` is what a caller may send (`ItemInit`): every
 * field may be left out, enums may be numbers, 64-bit integers may be numbers or decimal text.
 */
type Form = 'received' | 'sent';

/**
 * JSON Schemas of the messages of `.proto` services as the HTTP transport carries them. That is not
 * the proto3 JSON mapping: a request body is handed to the handler as the JSON serializer decodes
 * it (only its 64-bit integers are made bigints), and the result is the handler's object as the
 * JSON serializer writes it. So 64-bit integers and bytes are tagged values (`{"$bigint": "5"}`,
 * `{"$bytes": "AQI="}`), and well-known types are their message objects: a Timestamp is
 * `{seconds, nanos}`, not RFC 3339 text; a wrapper is `{value}`; a Struct is `{fields}` of
 * `Value` messages. Field names are those of the definition (lowerCamelCase unless `keepCase`).
 */
export class ProtoSchemas {
  private readonly names = { received: new Map<Protobuf.ReflectionObject, string>(), sent: new Map<Protobuf.ReflectionObject, string>() };

  constructor(private readonly components: SchemaComponents) {}

  /** The request (`sent`) and response (`received`) schemas of a method, or undefined if it is not from a `.proto`. */
  of(definition: ServiceDefinition, method: string): { request: Schema; response: Schema } | undefined {
    const proto = protoServiceOf(definition);
    const protoName = proto?.methods.get(method)?.protoName;
    const rpc = protoName === undefined ? undefined : proto?.source?.methods[protoName];
    if (rpc === undefined) return undefined;
    rpc.resolve();
    const { resolvedRequestType: request, resolvedResponseType: response } = rpc;
    if (request == null || response == null) return undefined;
    return { request: this.message(request, 'sent'), response: this.message(response, 'received') };
  }

  private message(type: Protobuf.Type, form: Form): Schema {
    const known = this.names[form].get(type);
    if (known !== undefined) return refTo(known);
    const full = type.fullName.slice(1);
    // Named before it is built: a message may hold itself (Item.parent), or Struct → Value → Struct.
    const name = this.components.reserve(form === 'received' ? full : `${full}Init`);
    this.names[form].set(type, name);
    this.components.set(name, this.build(type, form));
    return refTo(name);
  }

  private build(type: Protobuf.Type, form: Form): Schema {
    const properties: Record<string, Schema> = {};
    const required: string[] = [];
    for (const field of type.fieldsArray) {
      field.resolve();
      properties[field.name] = withComment(this.field(field, form), field.comment);
      if (form === 'received' && field.partOf === null && (field.repeated || field.map || !isMessage(field.resolvedType))) required.push(field.name);
    }
    const dependentSchemas: Record<string, Schema> = {};
    for (const oneof of type.oneofsArray) {
      const members = oneof.fieldsArray.map((field) => field.name);
      // The codec names the member that is set: `source: 'url'`, and `_x: 'x'` for a proto3 optional x.
      if (form === 'received') properties[oneof.name] = members.length === 1 ? { const: members[0] } : { type: 'string', enum: members };
      if (members.length < 2) continue;
      for (const member of members) {
        dependentSchemas[member] = { properties: Object.fromEntries(members.filter((other) => other !== member).map((other) => [other, false])) };
      }
    }
    const schema: Schema = { type: 'object', properties };
    if (required.length > 0) schema.required = required;
    if (Object.keys(dependentSchemas).length > 0) schema.dependentSchemas = dependentSchemas;
    const about = type.comment ?? WELL_KNOWN[type.fullName.slice(1)];
    return withComment(schema, about);
  }

  private field(field: Protobuf.Field, form: Form): Schema {
    const value = this.value(field, form);
    if (field.map) return { type: 'object', propertyNames: keyNames((field as unknown as Protobuf.MapField).keyType), additionalProperties: value };
    if (field.repeated) return { type: 'array', items: value };
    // A sub-message outside a oneof is null when unset (and may be sent as null or left out).
    return isMessage(field.resolvedType) && field.partOf === null ? { anyOf: [value, { type: 'null' }] } : value;
  }

  private value(field: Protobuf.Field, form: Form): Schema {
    const resolved = field.resolvedType;
    if (isMessage(resolved)) return this.message(resolved, form);
    if (isEnum(resolved)) return this.enumeration(resolved);
    return this.scalar(field.type, form);
  }

  private enumeration(type: Protobuf.Enum): Schema {
    let name = this.names.received.get(type);
    if (name === undefined) {
      name = this.components.add(type.fullName.slice(1), withComment({ type: 'string', enum: Object.keys(type.values) }, type.comment));
      this.names.received.set(type, name);
    }
    // Sent, a number is taken as well; received, a number the .proto does not name stays a number.
    return { anyOf: [refTo(name), { type: 'integer', format: 'int32' }] };
  }

  private scalar(type: string, form: Form): Schema {
    const scalar = SCALARS[type];
    if (scalar !== undefined) return scalar;
    if (type === 'bytes') return this.components.builtin('switchyard.Bytes');
    if (type === 'double' || type === 'float') return { anyOf: [{ type: 'number', format: type }, this.components.builtin('switchyard.Number')] };
    if (LONGS.has(type)) {
      const bigint = this.components.builtin('switchyard.BigInt');
      // Before the handler runs, a number or decimal text in a 64-bit field becomes a bigint (proto-int64.ts).
      return form === 'received' ? bigint : { anyOf: [bigint, { type: 'integer' }, { type: 'string', pattern: '^\\s*[+-]?[0-9]{1,24}\\s*$' }] };
    }
    return {};
  }
}

const INT32 = { type: 'integer', format: 'int32', minimum: -(2 ** 31), maximum: 2 ** 31 - 1 };
const UINT32 = { type: 'integer', minimum: 0, maximum: 2 ** 32 - 1 };
const SCALARS: Readonly<Record<string, Schema>> = {
  int32: INT32, sint32: INT32, sfixed32: INT32, uint32: UINT32, fixed32: UINT32, bool: { type: 'boolean' }, string: { type: 'string' },
};
const LONGS = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

/** Map keys are always text: the decimal digits of an integer key, `true` or `false` for a bool. */
function keyNames(keyType: string): Schema {
  if (keyType === 'bool') return { enum: ['true', 'false'] };
  return keyType === 'string' ? { type: 'string' } : { type: 'string', pattern: '^-?[0-9]+$' };
}

// Told apart by shape rather than with instanceof, so that nothing here loads protobufjs.
function isMessage(type: Protobuf.Type | Protobuf.Enum | null): type is Protobuf.Type {
  return type !== null && 'fieldsArray' in type;
}

function isEnum(type: Protobuf.Type | Protobuf.Enum | null): type is Protobuf.Enum {
  return type !== null && !('fieldsArray' in type) && 'values' in type;
}

function withComment(schema: Schema, comment: string | null | undefined): Schema {
  return comment ? { ...schema, description: comment.trim() } : schema;
}

const asObject = 'travels as its message object here, not in the special form of the proto3 JSON mapping';
/** Where the well-known types differ from the proto3 JSON mapping, said in their descriptions. */
const WELL_KNOWN: Readonly<Record<string, string>> = {
  'google.protobuf.Timestamp': `A point in time: seconds since 1970-01-01T00:00:00Z and nanoseconds. It ${asObject} (RFC 3339 text).`,
  'google.protobuf.Duration': `A span of time: seconds and nanoseconds. It ${asObject} ("1.5s").`,
  'google.protobuf.Struct': `A JSON object as a map of Value messages. It ${asObject} (a bare JSON object).`,
  'google.protobuf.Value': `A JSON value: the member of kind that is set. It ${asObject} (a bare JSON value).`,
  'google.protobuf.ListValue': `A JSON array of Value messages. It ${asObject} (a bare JSON array).`,
  'google.protobuf.Any': `A message of any type: its type URL and encoded bytes. It ${asObject} (with "@type").`,
  'google.protobuf.FieldMask': `Field paths. It ${asObject} (comma-separated text).`,
  ...Object.fromEntries(['Double', 'Float', 'Int64', 'UInt64', 'Int32', 'UInt32', 'Bool', 'String', 'Bytes'].map((kind) => [
    `google.protobuf.${kind}Value`, `A ${kind.toLowerCase()} that may be absent. It ${asObject} (the bare value).`,
  ])),
};
