import type * as Protobuf from 'protobufjs';
import { requireOptional } from '../../../core/optional-module.js';
import { PROTOBUF_FEATURE, protobufjs } from '../protobufjs.js';
import { enumProto, fieldProto, messageProto, serviceProto, type DescriptorContext, type Syntax } from './descriptor-protos.js';
import { fileNames, wellKnownFile } from './file-names.js';

/** One `.proto` file as reflection serves it: a serialized `FileDescriptorProto` and the files it imports. */
export interface DescribedFile {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly dependencies: readonly string[];
}

/** The files of one protobufjs root, and where each symbol and extension is declared. */
export interface FileSet {
  readonly files: ReadonlyMap<string, DescribedFile>;
  /** Fully-qualified name, without the leading dot (`pkg.Service.Method`, `pkg.Msg.field`) → file name. */
  readonly symbols: ReadonlyMap<string, string>;
  /** The fully-qualified names of the message types among the symbols. */
  readonly messages: ReadonlySet<string>;
  /** Extended message (`pkg.Msg`) → extension number → file name. */
  readonly extensions: ReadonlyMap<string, ReadonlyMap<number, string>>;
}

type Declaration = Protobuf.Type | Protobuf.Enum | Protobuf.Service | Protobuf.Field;

const described = new WeakMap<Protobuf.Root, FileSet>();
const EDITIONS: Readonly<Record<string, number>> = { 2023: 1000, 2024: 1001 };

let fileDescriptorType: Protobuf.Type | undefined;

/** `google.protobuf.FileDescriptorProto`, from the descriptor extension that protobufjs ships. */
function fileDescriptorProto(): Protobuf.Type {
  return (fileDescriptorType ??= requireOptional<{ FileDescriptorProto: Protobuf.Type }>('protobufjs/ext/descriptor', PROTOBUF_FEATURE).FileDescriptorProto);
}

/**
 * Describes every file of a root, once per root: top-level declarations are grouped by the file
 * they came from, and each file lists as dependencies the files of the declarations it refers to.
 *
 * ```ts
 * const { files, symbols } = fileSet(protoServiceOf(GreeterService)!.source!.root);
 * files.get(symbols.get('helloworld.Greeter')!)!.bytes; // a serialized FileDescriptorProto
 * ```
 */
export function fileSet(root: Protobuf.Root): FileSet {
  let set = described.get(root);
  if (set === undefined) {
    set = describe(root);
    described.set(root, set);
  }
  return set;
}

function describe(root: Protobuf.Root): FileSet {
  const { Type, Enum, Service, Field, Namespace } = protobufjs();
  const names = fileNames(root);
  const fileOf = (declaration: Protobuf.ReflectionObject): string => {
    let top = declaration;
    while (top.parent instanceof Type) top = top.parent;
    if (top.filename !== null) return names.get(top.filename) ?? top.filename;
    // Declared without a file (JSON, or bundled): the well-known file, or one per package.
    return wellKnownFile(top.fullName) ?? `${(top.parent?.fullName ?? '').slice(1).replaceAll('.', '/') || 'root'}.proto`;
  };
  const byFile = new Map<string, Declaration[]>();
  const collect = (namespace: Protobuf.Namespace): void => {
    for (const nested of namespace.nestedArray) {
      if (nested instanceof Type || nested instanceof Enum || nested instanceof Service || nested instanceof Field) {
        const file = fileOf(nested);
        const declarations = byFile.get(file);
        if (declarations === undefined) byFile.set(file, [nested]);
        else declarations.push(nested);
      } else if (nested instanceof Namespace) {
        collect(nested);
      }
    }
  };
  collect(root);
  const files = new Map<string, DescribedFile>();
  const index = new SymbolIndex();
  for (const [name, declarations] of byFile) {
    const dependencies: string[] = [];
    const syntax = syntaxOf(declarations[0]!);
    const context: DescriptorContext = {
      syntax,
      uses(target) {
        const file = fileOf(target);
        if (file !== name && !dependencies.includes(file)) dependencies.push(file);
      },
    };
    const proto = {
      name,
      package: declarations[0]!.parent!.fullName.slice(1) || undefined,
      dependency: dependencies,
      messageType: [] as unknown[],
      enumType: [] as unknown[],
      service: [] as unknown[],
      extension: [] as unknown[],
      syntax,
      edition: syntax === 'editions' ? EDITIONS[declarations[0]!._editionToJSON() ?? ''] : undefined,
    };
    for (const declaration of declarations) {
      index.enter(declaration, name);
      if (declaration instanceof Type) proto.messageType.push(messageProto(declaration, context));
      else if (declaration instanceof Enum) proto.enumType.push(enumProto(declaration));
      else if (declaration instanceof Service) proto.service.push(serviceProto(declaration, context));
      else proto.extension.push(fieldProto(declaration, context, []));
    }
    const type = fileDescriptorProto();
    files.set(name, { name, bytes: type.encode(type.fromObject(proto)).finish(), dependencies });
  }
  return { files, symbols: index.symbols, messages: index.messages, extensions: index.extensions };
}

/** protobufjs pins the syntax on top-level declarations; it reports proto3 (and JSON's default) as undefined. */
function syntaxOf(declaration: Protobuf.ReflectionObject): Syntax {
  const edition = declaration._editionToJSON();
  return edition === undefined || edition === 'proto3' ? 'proto3' : edition === 'proto2' ? 'proto2' : 'editions';
}

/** Where each name and extension of a root is declared. */
class SymbolIndex {
  readonly symbols = new Map<string, string>();
  readonly messages = new Set<string>();
  readonly extensions = new Map<string, Map<number, string>>();

  /** Enters a declaration and everything named inside it (fields, nested types, enum values, methods). */
  enter(declaration: Protobuf.ReflectionObject, file: string): void {
    const { Type, Enum, Service, Field } = protobufjs();
    const name = declaration.fullName.slice(1);
    this.symbols.set(name, file);
    if (declaration instanceof Type) {
      this.messages.add(name);
      for (const field of declaration.fieldsArray) if (field.declaringField === null) this.symbols.set(`${name}.${field.name}`, file);
      for (const nested of declaration.nestedArray) this.enter(nested, file);
    } else if (declaration instanceof Enum) {
      // Enum values are named in the scope around their enum, as in C++; and inside it, as people write them.
      const scope = declaration.parent!.fullName.slice(1);
      for (const value of Object.keys(declaration.values)) {
        this.symbols.set(scope === '' ? value : `${scope}.${value}`, file);
        this.symbols.set(`${name}.${value}`, file);
      }
    } else if (declaration instanceof Service) {
      for (const method of declaration.methodsArray) this.symbols.set(`${name}.${method.name}`, file);
    } else if (declaration instanceof Field && declaration.extend !== undefined) {
      const extendee = (declaration.extensionField?.parent ?? declaration.parent?.lookup(declaration.extend))?.fullName.slice(1) ?? declaration.extend;
      let numbers = this.extensions.get(extendee);
      if (numbers === undefined) this.extensions.set(extendee, (numbers = new Map()));
      numbers.set(declaration.id, file);
    }
  }
}
