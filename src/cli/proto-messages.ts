import type * as Protobuf from 'protobufjs';
import { isLongType } from '../transport/grpc/proto-int64.js';
import { protobufjs } from '../transport/grpc/protobufjs.js';

/**
 * TypeScript for the messages and enums of a `.proto`, as `defineServiceFromProto`'s codec
 * presents them. Each message has two forms:
 * - `Item`, the message as received: what the codec decodes (every field present, defaults filled
 *   in, unset sub-messages `null`, the set member of each oneof named), and what a handler must
 *   return so that callers on every transport get the same;
 * - `ItemInit`, what may be sent: every field may be left out, enums may be numbers.
 */

/** The TypeScript names given to the messages and enums being written. */
export interface TypeNames {
  /** The name of a message (the form as received) or an enum. */
  of(type: Protobuf.Type | Protobuf.Enum): string;
  /** The name of a message's form that may be sent. */
  initOf(type: Protobuf.Type): string;
}

type Form = 'received' | 'sent';

const SCALARS: Readonly<Record<string, string>> = {
  double: 'number', float: 'number', int32: 'number', uint32: 'number', sint32: 'number', fixed32: 'number', sfixed32: 'number',
  bool: 'boolean', string: 'string', bytes: 'Uint8Array',
};

const identifier = /^[A-Za-z_$][\w$]*$/;

/** A property name as it may be written in an interface. */
export function propertyKey(name: string): string {
  return identifier.test(name) ? name : JSON.stringify(name);
}

/** A doc comment holding `text` (a `.proto` comment), indented by `indent`; empty for no text. */
export function docComment(text: string | null | undefined, indent = ''): string {
  const lines = (text ?? '').replace(/\*\//g, '*\\/').split('\n').map((line) => line.trimEnd());
  while (lines.length > 0 && lines[0] === '') lines.shift();
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) return '';
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((line) => `${indent} *${line === '' ? '' : ` ${line}`}`).join('\n')}\n${indent} */\n`;
}

export function enumCode(type: Protobuf.Enum, names: TypeNames): string {
  const values = Object.keys(type.values).map((name) => `'${name}'`);
  const about = docComment(type.comment) || `/** The enum ${type.fullName.slice(1)}, by value name. */\n`;
  return `${about}export type ${names.of(type)} = ${values.length === 0 ? 'never' : values.join(' | ')};\n`;
}

export function messageCode(type: Protobuf.Type, names: TypeNames): string {
  const full = type.fullName.slice(1);
  const received = docComment(type.comment) || `/** The message ${full}, as received. */\n`;
  return `${received}${formCode(type, names, 'received')}\n`
    + `/** What may be sent as a ${full}: every field may be left out, and then has its default. */\n${formCode(type, names, 'sent')}`;
}

function formCode(type: Protobuf.Type, names: TypeNames, form: Form): string {
  const name = form === 'received' ? names.of(type) : names.initOf(type);
  const lines: string[] = [];
  for (const field of type.fieldsArray) {
    field.resolve();
    lines.push(`${docComment(field.comment, '  ')}  ${propertyKey(field.name)}${optional(field, form) ? '?' : ''}: ${fieldType(field, names, form)};`);
  }
  if (form === 'received') {
    for (const oneof of type.oneofsArray) {
      const members = oneof.fieldsArray.map((field) => `'${field.name}'`).join(' | ');
      const synthetic = oneof.fieldsArray.length === 1 && isProto3Optional(oneof.fieldsArray[0]!);
      const about = synthetic ? `Set to '${oneof.fieldsArray[0]!.name}' when that optional field is set.` : `Which field of the oneof ${oneof.name} is set, if any.`;
      lines.push(`  /** ${about} */\n  ${propertyKey(oneof.name)}?: ${members};`);
    }
  }
  // An interface without members is any object at all to TypeScript; a message without fields is {}.
  if (lines.length === 0) return `export type ${name} = Record<string, never>;\n`;
  return `export interface ${name} {\n${lines.join('\n')}\n}\n`;
}

function isProto3Optional(field: Protobuf.Field): boolean {
  return (field.options as Record<string, unknown> | undefined)?.proto3_optional === true;
}

/**
 * Whether a field may be absent. As received, only members of oneofs (proto3 `optional` fields
 * included) and sub-messages may be: the codec fills every other field with its default (a
 * sub-message with `null`, which a handler may also leave out).
 */
function optional(field: Protobuf.Field, form: Form): boolean {
  if (form === 'sent') return true;
  if (field.partOf !== null) return true;
  return !field.repeated && !field.map && field.resolvedType instanceof protobufjs().Type;
}

function fieldType(field: Protobuf.Field, names: TypeNames, form: Form): string {
  const value = valueType(field, names, form);
  if (field.map) return `Record<string, ${value}>`;
  if (field.repeated) return value.includes(' | ') ? `Array<${value}>` : `${value}[]`;
  const message = field.resolvedType instanceof protobufjs().Type;
  return message && field.partOf === null ? `${value} | null` : value;
}

function valueType(field: Protobuf.Field, names: TypeNames, form: Form): string {
  const resolved = field.resolvedType;
  if (resolved instanceof protobufjs().Type) return form === 'received' ? names.of(resolved) : names.initOf(resolved);
  if (resolved instanceof protobufjs().Enum) return form === 'received' ? names.of(resolved) : `${names.of(resolved)} | number`;
  if (isLongType(field.type)) return 'bigint';
  const scalar = SCALARS[field.type];
  if (scalar === undefined) throw new TypeError(`${field.fullName.slice(1)} has type ${field.type}, which has no TypeScript form here`);
  return scalar;
}
