import { dirname, relative, resolve, sep } from 'node:path';
import type * as Protobuf from 'protobufjs';
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { loadProtoRoot, protoPaths } from '../transport/grpc/proto-root.js';
import { protobufjs } from '../transport/grpc/protobufjs.js';
import { docComment, enumCode, messageCode, type TypeNames } from './proto-messages.js';

export interface ProtoTypesOptions {
  /** The `.proto` files; their messages, enums and services are written. */
  files: string[];
  /** `package.Service` names to write; by default every service the files declare. */
  services?: string[];
  /** Where the code will be written; the definitions find the `.proto` relative to it. Default: a file in the current folder. */
  outFile?: string;
  /** The module that exports `defineServiceFromProto`; `switchyard` by default. */
  importFrom?: string;
  /** Field names as written in the `.proto`, as `defineServiceFromProto`'s option of that name. */
  keepCase?: boolean;
  /** Folders searched for imported `.proto` files, as `defineServiceFromProto`'s option of that name. */
  includeDirs?: string[];
  /** Only types: no definitions, so the code imports nothing. */
  typesOnly?: boolean;
  /** The command that made the code, recorded in its first lines so that it can be run again. */
  command?: string;
}

export interface GeneratedProtoTypes {
  code: string;
  /** What was left out and why, one sentence each (services without rpcs). */
  notes: string[];
}

// Names the definitions' code uses: claimed before any message, which then gets a longer name.
const IMPORTED = ['defineServiceFromProto', 'ProtoServiceOptions', 'ServiceDefinition', 'protoFiles', 'includeDirs'];

/**
 * TypeScript for `.proto` files: an interface per message (in two forms, see proto-messages.ts), a
 * type per enum, an interface per service, and a typed definition per service, made by
 * `defineServiceFromProto` from the same `.proto` with the same options.
 */
export function generateProtoTypes(options: ProtoTypesOptions): GeneratedProtoTypes {
  const keepCase = options.keepCase === true;
  const root = loadProtoRoot(options.files, { keepCase, includeDirs: options.includeDirs, allComments: true });
  const files = new Set(protoPaths(options.files));
  const declared = declaredIn(root, files);
  const services = options.services === undefined || options.services.length === 0
    ? declared.filter((item): item is Protobuf.Service => item instanceof protobufjs().Service)
    : options.services.map((name) => lookupService(root, name));
  const types = reachableTypes([...declared.filter(isTypeOrEnum), ...services.flatMap(rpcTypes)]);

  const taken = new Set(options.typesOnly === true ? [] : IMPORTED);
  const names = nameTypes(types, taken);
  const notes: string[] = [];
  const parts: string[] = [types.map((type) => (type instanceof protobufjs().Type ? messageCode(type, names) : enumCode(type, names))).join('\n')];
  const definitions: string[] = [];
  for (const service of services) {
    const methods = service.methodsArray;
    if (methods.length === 0) {
      notes.push(`${service.fullName.slice(1)} has no rpc: left out.`);
      continue;
    }
    const name = claim(taken, service.name, `${service.fullName.slice(1).replace(/\./g, '_')}`);
    parts.push(serviceCode(service, methods, name, names));
    if (options.typesOnly !== true) definitions.push(definitionCode(service, name, taken, keepCase));
  }
  const header = `// Types of ${[...files].map((file) => relativeTo(options.outFile, file)).join(', ')}, written by switchyard-proto: change the .proto and run it again`
    + `${options.command === undefined ? '.' : `:\n//   ${options.command}`}\n`;
  const preamble = definitions.length === 0 ? '' : `${importLine(options.importFrom ?? 'switchyard')}\n${locations(options, files)}`;
  return { code: [header + preamble, ...parts, ...definitions].join('\n'), notes };
}

function isTypeOrEnum(item: unknown): item is Protobuf.Type | Protobuf.Enum {
  return item instanceof protobufjs().Type || item instanceof protobufjs().Enum;
}

/** Every message, enum and service declared in `files`, nested ones after their parent, in order. */
function declaredIn(namespace: Protobuf.NamespaceBase, files: Set<string>, found: Protobuf.ReflectionObject[] = []): Protobuf.ReflectionObject[] {
  for (const item of namespace.nestedArray) {
    const mine = item.filename !== null && files.has(resolve(item.filename));
    if (mine && (isTypeOrEnum(item) || item instanceof protobufjs().Service)) found.push(item);
    if (item instanceof protobufjs().Namespace) declaredIn(item, files, found);
  }
  return found;
}

function lookupService(root: Protobuf.Root, name: string): Protobuf.Service {
  try {
    return root.lookupService(name);
  } catch {
    throw new RpcError(Code.NOT_FOUND, `no service ${JSON.stringify(name)} in the .proto files`);
  }
}

function rpcTypes(service: Protobuf.Service): Protobuf.Type[] {
  return service.methodsArray.flatMap((rpc) => {
    rpc.resolve();
    return [rpc.resolvedRequestType!, rpc.resolvedResponseType!];
  });
}

/** `start` and every message and enum their fields lead to, each once, in the order first met. */
function reachableTypes(start: Array<Protobuf.Type | Protobuf.Enum>): Array<Protobuf.Type | Protobuf.Enum> {
  const seen = new Set<Protobuf.Type | Protobuf.Enum>();
  const visit = (type: Protobuf.Type | Protobuf.Enum): void => {
    if (seen.has(type)) return;
    seen.add(type);
    if (!(type instanceof protobufjs().Type)) return;
    for (const field of type.fieldsArray) {
      field.resolve();
      if (field.resolvedType !== null) visit(field.resolvedType);
    }
  };
  start.forEach(visit);
  return [...seen];
}

/**
 * Names by place: `Outer.Inner` of any package is `Outer_Inner`. A name already taken (the same
 * message name in two packages, say) falls back to the full name, `google_protobuf_Timestamp`.
 */
function nameTypes(types: Array<Protobuf.Type | Protobuf.Enum>, taken: Set<string>): TypeNames {
  const names = new Map<Protobuf.ReflectionObject, string>();
  const inits = new Map<Protobuf.ReflectionObject, string>();
  for (const type of types) {
    const local: string[] = [];
    for (let item: Protobuf.ReflectionObject | null = type; isTypeOrEnum(item); item = item.parent) local.unshift(item.name);
    const name = claim(taken, local.join('_'), type.fullName.slice(1).replace(/\./g, '_'));
    names.set(type, name);
    if (type instanceof protobufjs().Type) inits.set(type, claim(taken, `${name}Init`, `${name}_Init`));
  }
  return {
    of: (type) => names.get(type) ?? fail(type),
    initOf: (type) => inits.get(type) ?? fail(type),
  };
}

function fail(type: Protobuf.ReflectionObject): never {
  throw new Error(`${type.fullName} was not named`);
}

/** `preferred` if free, else `fallback`, else `fallback` with a number; marked as taken. */
function claim(taken: Set<string>, preferred: string, fallback: string): string {
  let name = taken.has(preferred) ? fallback : preferred;
  for (let n = 2; taken.has(name); n++) name = `${fallback}${n}`;
  taken.add(name);
  return name;
}

function serviceCode(service: Protobuf.Service, methods: Protobuf.Method[], name: string, names: TypeNames): string {
  const about = docComment(service.comment) || `/** The service ${service.fullName.slice(1)}: what its handlers implement and its proxies call. */\n`;
  const lines = methods.map((rpc) => {
    const request = names.initOf(rpc.resolvedRequestType!);
    const response = names.of(rpc.resolvedResponseType!);
    const result = rpc.responseStream === true ? `AsyncIterable<${response}>` : `Promise<${response}>`;
    // Client and bidi streaming: the one argument is the stream of requests.
    const parameter = rpc.requestStream === true ? `requests: AsyncIterable<${request}>` : `request: ${request}`;
    return `${docComment(rpc.comment, '  ')}  ${rpc.name[0]!.toLowerCase()}${rpc.name.slice(1)}(${parameter}): ${result};`;
  });
  return `${about}export interface ${name} {\n${lines.join('\n')}\n}\n`;
}

function definitionCode(service: Protobuf.Service, name: string, taken: Set<string>, keepCase: boolean): string {
  const full = service.fullName.slice(1);
  const define = claim(taken, `define${name}`, `define${name}Service`);
  const constant = claim(taken, name.endsWith('Service') ? `${name}Definition` : `${name}Service`, `${name}_Definition`);
  return `/** The definition of ${full} with options of your own: version, group, options per method. */
export function ${define}(options: Omit<ProtoServiceOptions<${name}>, 'keepCase' | 'includeDirs'> = {}): ServiceDefinition<${name}> {
  return defineServiceFromProto<${name}>(protoFiles, ${quote(full)}, { ...options, keepCase: ${keepCase}, includeDirs });
}

/** ${full}, for \`server.provide\` and \`client.proxy\`. */
export const ${constant} = ${define}();
`;
}

function importLine(from: string): string {
  return `import { defineServiceFromProto, type ProtoServiceOptions, type ServiceDefinition } from ${quote(from)};\n`;
}

/** `text` as a single-quoted string literal. */
function quote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

/** The `.proto` files and include folders, found from this file wherever the project is. */
function locations(options: ProtoTypesOptions, files: Set<string>): string {
  const url = (path: string, folder: boolean) => `new URL(${quote(urlPath(options.outFile, path, folder))}, import.meta.url)`;
  const includes = (options.includeDirs ?? []).map((dir) => url(resolve(dir), true));
  return `const protoFiles: URL[] = [${[...files].map((file) => url(file, false)).join(', ')}];\nconst includeDirs: URL[] = [${includes.join(', ')}];\n`;
}

/** `path` relative to the folder of `outFile` (the current folder when there is none), with `/`. */
function relativeTo(outFile: string | undefined, path: string): string {
  const from = outFile === undefined ? process.cwd() : dirname(resolve(outFile));
  return relative(from, path).split(sep).join('/');
}

function urlPath(outFile: string | undefined, path: string, folder: boolean): string {
  const relativePath = relativeTo(outFile, path);
  const encoded = relativePath.split('/').map((part) => (part === '..' ? part : encodeURIComponent(part))).join('/');
  const withDot = encoded.startsWith('../') || encoded === '..' ? encoded : `./${encoded}`;
  return folder && !withDot.endsWith('/') ? `${withDot}/` : withDot;
}
