/**
 * A FlatBuffers schema as the codec uses it: the tables, structs, enums, unions and rpc services
 * that `flatc` compiled from a `.fbs` into its binary schema (`.bfbs`, see bfbs.ts), with field
 * names as JavaScript sees them and each union's two slots joined into one field.
 */

/** `reflection.BaseType`: the kinds of values a field or a vector element holds. */
export const BaseType = {
  None: 0,
  UType: 1,
  Bool: 2,
  Byte: 3,
  UByte: 4,
  Short: 5,
  UShort: 6,
  Int: 7,
  UInt: 8,
  Long: 9,
  ULong: 10,
  Float: 11,
  Double: 12,
  String: 13,
  Vector: 14,
  Obj: 15,
  Union: 16,
  Array: 17,
  Vector64: 18,
} as const;

export type BaseType = (typeof BaseType)[keyof typeof BaseType];

/** Bytes a scalar of each base type takes (0 for the kinds that are not scalars). */
export function scalarSize(base: number): number {
  switch (base) {
    case BaseType.UType:
    case BaseType.Bool:
    case BaseType.Byte:
    case BaseType.UByte:
      return 1;
    case BaseType.Short:
    case BaseType.UShort:
      return 2;
    case BaseType.Int:
    case BaseType.UInt:
    case BaseType.Float:
      return 4;
    case BaseType.Long:
    case BaseType.ULong:
    case BaseType.Double:
      return 8;
    default:
      return 0;
  }
}

export function isScalar(base: number): boolean {
  return scalarSize(base) > 0;
}

/** The type of a field: for a vector or a fixed array, `element` is the type of its items. */
export interface FbsType {
  readonly base: number;
  readonly element: number;
  /** An object (table or struct) for `Obj`; an enum or union for an integer or `Union`; else -1. */
  readonly index: number;
  /** Items of a fixed array (`[int:3]`, structs only). */
  readonly fixedLength: number;
}

export interface FbsField {
  /** The name a JavaScript object uses: lowerCamelCase unless the schema was loaded with `keepCase`. */
  readonly key: string;
  /** The name in the `.fbs`. */
  readonly name: string;
  readonly type: FbsType;
  /** Position in the vtable (`id` of the schema): the table slot is `4 + 2 * id` bytes in. */
  readonly id: number;
  /** Byte offset in a struct. */
  readonly offset: number;
  readonly defaultInteger: bigint;
  readonly defaultReal: number;
  readonly required: boolean;
  /** A scalar declared `= null`: absent reads as `null`, not as a default. */
  readonly optional: boolean;
  /** For a union field: the id of its type slot (`<name>_type`). */
  readonly unionTypeId: number;
}

export interface FbsObject {
  /** Fully qualified: `shop.Order`. */
  readonly name: string;
  readonly isStruct: boolean;
  readonly minAlign: number;
  /** A struct's size in bytes. */
  readonly byteSize: number;
  /** In the order of their ids; deprecated fields and union type slots left out. */
  readonly fields: readonly FbsField[];
  /** Vtable slots a table writes: the highest id plus one (deprecated ids included). */
  readonly slotCount: number;
}

export interface FbsEnumValue {
  readonly name: string;
  readonly value: bigint;
  /** For a union member: the object it holds, or -1 (NONE, or a member that is no table). */
  readonly object: number;
}

export interface FbsEnum {
  readonly name: string;
  readonly isUnion: boolean;
  readonly bitFlags: boolean;
  /** The integer base type of the enum (`UByte` for unions). */
  readonly underlying: number;
  readonly values: readonly FbsEnumValue[];
  readonly byName: ReadonlyMap<string, FbsEnumValue>;
  readonly byValue: ReadonlyMap<bigint, FbsEnumValue>;
}

export type StreamingKind = 'server' | 'client' | 'bidi';

export interface FbsCall {
  /** As written in the `.fbs` (`Place`). */
  readonly name: string;
  readonly request: number;
  readonly response: number;
  /** From the attribute `(streaming: "server")`; absent for a unary call. */
  readonly streaming: StreamingKind | undefined;
}

export interface FbsService {
  readonly name: string;
  readonly calls: readonly FbsCall[];
}

export interface FbsSchema {
  readonly objects: readonly FbsObject[];
  readonly enums: readonly FbsEnum[];
  readonly services: readonly FbsService[];
  /** The `root_type` of the file, if it has one. */
  readonly rootTable: number;
}

/** `line_items` → `lineItems`; names already in camelCase stay as they are. */
export function camelCase(name: string): string {
  return name.replace(/_+([a-zA-Z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}
