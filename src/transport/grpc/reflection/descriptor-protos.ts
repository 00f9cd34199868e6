import type * as Protobuf from 'protobufjs';
import { protobufjs } from '../protobufjs.js';

/**
 * protobufjs declarations turned into the plain objects of `google/protobuf/descriptor.proto`
 * (`DescriptorProto`, `FieldDescriptorProto`, ...), as protoc would write them: type names fully
 * qualified (`.pkg.Msg`), map fields with their `XxxEntry` message, proto3 `optional` fields with
 * their synthetic oneofs last. Options other than the standard few below are left out.
 */

export type Syntax = 'proto2' | 'proto3' | 'editions';

/** What a conversion needs from the file it is in. */
export interface DescriptorContext {
  readonly syntax: Syntax;
  /** Called with every message, enum and extended message a declaration refers to (its file is a dependency). */
  uses(target: Protobuf.ReflectionObject): void;
}

type Options = Record<string, unknown> | undefined;

export interface FieldProto {
  name: string;
  number: number;
  label: number;
  type: number;
  typeName?: string;
  extendee?: string;
  defaultValue?: string;
  oneofIndex?: number;
  proto3Optional?: boolean;
  options?: Options;
}

export interface MessageProto {
  name: string;
  field: FieldProto[];
  nestedType: MessageProto[];
  enumType: EnumProto[];
  extension: FieldProto[];
  oneofDecl: Array<{ name: string }>;
  extensionRange: Array<{ start: number; end: number }>;
  reservedRange: Array<{ start: number; end: number }>;
  reservedName: string[];
  options?: Options;
}

export interface EnumProto {
  name: string;
  value: Array<{ name: string; number: number }>;
  reservedRange: Array<{ start: number; end: number }>;
  reservedName: string[];
  options?: Options;
}

export interface ServiceProto {
  name: string;
  method: Array<{ name: string; inputType: string; outputType: string; clientStreaming?: boolean; serverStreaming?: boolean; options?: Options }>;
  options?: Options;
}

const OPTIONAL = 1;
const REQUIRED = 2;
const REPEATED = 3;
const GROUP = 10;
const MESSAGE = 11;
const ENUM = 14;
/** `FieldDescriptorProto.Type` of each scalar. */
const scalars: Readonly<Record<string, number>> = {
  double: 1, float: 2, int64: 3, uint64: 4, int32: 5, fixed64: 6, fixed32: 7, bool: 8,
  string: 9, bytes: 12, uint32: 13, sfixed32: 15, sfixed64: 16, sint32: 17, sint64: 18,
};

export function messageProto(type: Protobuf.Type, context: DescriptorContext): MessageProto {
  const { Type, Enum, Field } = protobufjs();
  // protoc puts the synthetic oneofs of proto3 `optional` fields after the real ones, and descriptor checkers insist.
  const oneofs = [...type.oneofsArray.filter((oneof) => !isSynthetic(oneof)), ...type.oneofsArray.filter(isSynthetic)];
  const message: MessageProto = {
    name: type.name,
    field: [],
    nestedType: [],
    enumType: [],
    extension: [],
    oneofDecl: oneofs.map((oneof) => ({ name: oneof.name })),
    // protobufjs keeps ranges with their last number; DescriptorProto's end is one past it.
    extensionRange: (type.extensions ?? []).map(([start, end]) => ({ start: start!, end: end! + 1 })),
    reservedRange: numberRanges(type.reserved, 1),
    reservedName: names(type.reserved),
    options: standard(type.options, ['deprecated']),
  };
  for (const field of type.fieldsArray) {
    if (field.declaringField !== null) continue; // an extension declared elsewhere, added here by protobufjs
    message.field.push(fieldProto(field, context, oneofs));
    if (field instanceof protobufjs().MapField) message.nestedType.push(mapEntry(field, context));
  }
  for (const nested of type.nestedArray) {
    if (nested instanceof Type) message.nestedType.push(messageProto(nested, context));
    else if (nested instanceof Enum) message.enumType.push(enumProto(nested));
    else if (nested instanceof Field) message.extension.push(fieldProto(nested, context, []));
  }
  return message;
}

/** A field of a message, or an extension (`extend Foo { ... }`, at the top of a file or inside a message). */
export function fieldProto(field: Protobuf.Field, context: DescriptorContext, oneofs: readonly Protobuf.OneOf[]): FieldProto {
  const proto: FieldProto = { name: field.name, number: field.id, label: OPTIONAL, type: 0 };
  field.resolve();
  if (field.map) {
    proto.label = REPEATED;
    proto.type = MESSAGE;
    proto.typeName = `${field.parent!.fullName}.${mapEntryName(field.name)}`;
  } else {
    const target = field.resolvedType;
    if (target !== null) {
      context.uses(target);
      proto.type = target instanceof protobufjs().Enum ? ENUM : field.delimited ? GROUP : MESSAGE;
      proto.typeName = target.fullName;
    } else {
      proto.type = scalarType(field.type);
    }
    if (field.repeated) proto.label = REPEATED;
    else if (field.required && context.syntax === 'proto2') proto.label = REQUIRED;
  }
  if (field.extend !== undefined) {
    const extendee = field.extensionField?.parent ?? field.parent?.lookup(field.extend);
    if (extendee != null) context.uses(extendee);
    proto.extendee = extendee != null ? extendee.fullName : field.extend;
  }
  if (field.partOf !== null && oneofs.includes(field.partOf)) proto.oneofIndex = oneofs.indexOf(field.partOf);
  const options = field.options;
  if (options?.proto3_optional === true) proto.proto3Optional = true;
  if (context.syntax === 'proto2' && options?.default !== undefined) proto.defaultValue = String(options.default);
  const packable = proto.label === REPEATED && proto.type !== MESSAGE && proto.type !== GROUP && proto.type !== 9 && proto.type !== 12;
  proto.options = standard(options, packable ? ['packed', 'deprecated'] : ['deprecated']);
  return proto;
}

export function enumProto(type: Protobuf.Enum): EnumProto {
  const values = Object.entries(type.values);
  const aliased = new Set(values.map(([, number]) => number)).size < values.length;
  return {
    name: type.name,
    value: values.map(([name, number]) => ({ name, number })),
    // EnumReservedRange keeps its last number, as protobufjs does.
    reservedRange: numberRanges(type.reserved, 0),
    reservedName: names(type.reserved),
    options: aliased ? { ...standard(type.options, ['deprecated']), allowAlias: true } : standard(type.options, ['deprecated']),
  };
}

export function serviceProto(service: Protobuf.Service, context: DescriptorContext): ServiceProto {
  return {
    name: service.name,
    method: service.methodsArray.map((method) => {
      method.resolve();
      const input = method.resolvedRequestType!;
      const output = method.resolvedResponseType!;
      context.uses(input);
      context.uses(output);
      return {
        name: method.name,
        inputType: input.fullName,
        outputType: output.fullName,
        clientStreaming: method.requestStream === true ? true : undefined,
        serverStreaming: method.responseStream === true ? true : undefined,
        options: standard(method.options, ['deprecated']),
      };
    }),
    options: standard(service.options, ['deprecated']),
  };
}

/** protoc's name of a map field's entry message: `notes_by_day` (or `notesByDay`) → `NotesByDayEntry`. */
export function mapEntryName(fieldName: string): string {
  let name = '';
  let upper = true;
  for (const char of fieldName) {
    if (char === '_') upper = true;
    else {
      name += upper ? char.toUpperCase() : char;
      upper = false;
    }
  }
  return `${name}Entry`;
}

function mapEntry(field: Protobuf.MapField, context: DescriptorContext): MessageProto {
  const value: FieldProto = { name: 'value', number: 2, label: OPTIONAL, type: 0 };
  const target = field.resolvedType;
  if (target !== null) {
    context.uses(target);
    value.type = target instanceof protobufjs().Enum ? ENUM : MESSAGE;
    value.typeName = target.fullName;
  } else {
    value.type = scalarType(field.type);
  }
  return {
    name: mapEntryName(field.name),
    field: [{ name: 'key', number: 1, label: OPTIONAL, type: scalarType(field.keyType) }, value],
    nestedType: [],
    enumType: [],
    extension: [],
    oneofDecl: [],
    extensionRange: [],
    reservedRange: [],
    reservedName: [],
    options: { mapEntry: true },
  };
}

function scalarType(name: string): number {
  const type = scalars[name];
  if (type === undefined) throw new Error(`type ${JSON.stringify(name)} is neither a scalar nor resolved`);
  return type;
}

function isSynthetic(oneof: Protobuf.OneOf): boolean {
  return oneof.fieldsArray.length === 1 && oneof.fieldsArray[0]!.options?.proto3_optional === true;
}

/** The options named in `keep`, when set: the standard ones every descriptor reader knows. */
function standard(options: Options, keep: readonly string[]): Options {
  if (options === undefined) return undefined;
  let kept: Record<string, unknown> | undefined;
  for (const name of keep) if (typeof options[name] === 'boolean') (kept ??= {})[name] = options[name];
  return kept;
}

function numberRanges(reserved: Array<number[] | string> | undefined, pastEnd: number): Array<{ start: number; end: number }> {
  const ranges: Array<{ start: number; end: number }> = [];
  for (const entry of reserved ?? []) if (typeof entry !== 'string') ranges.push({ start: entry[0]!, end: entry[1]! + pastEnd });
  return ranges;
}

function names(reserved: Array<number[] | string> | undefined): string[] {
  return (reserved ?? []).filter((entry): entry is string => typeof entry === 'string');
}
