import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Protobuf from 'protobufjs';
import { Code } from '../../core/code.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';
import { protobufjs } from './protobufjs.js';

/** How `.proto` files are found and read; the same for service definitions and generated types. */
export interface ProtoLoadOptions {
  /** Keep field names as written in the `.proto` (`user_id`) instead of lowerCamelCase (`userId`). */
  keepCase?: boolean;
  /** Folders searched for `import`ed files that are not found next to the importing file. */
  includeDirs?: Array<string | URL>;
  /** Keep every comment before a declaration, `//` ones too, not only doc comments (for generated types). */
  allComments?: boolean;
}

const roots = new Map<string, Protobuf.Root>();
/** Per root: each imported file's absolute path → the name it was imported by (`common/money.proto`). */
const importNames = new WeakMap<Protobuf.Root, Map<string, string>>();

/** The names by which the files of a root loaded here were imported, by absolute path (server reflection names files so). */
export function importedAs(root: Protobuf.Root): ReadonlyMap<string, string> | undefined {
  return importNames.get(root);
}

/** The absolute paths of `file`, as a loaded root names them in `filename`. */
export function protoPaths(file: string | URL | Array<string | URL>): string[] {
  return (Array.isArray(file) ? file : [file]).map((f) => (f instanceof URL ? fileURLToPath(f) : resolve(f)));
}

/**
 * The files loaded into one protobufjs root with every type resolved, cached by files and options.
 * Imports resolve beside the importing file, then in `includeDirs`; `google/protobuf/*.proto` are
 * built into protobufjs.
 */
export function loadProtoRoot(file: string | URL | Array<string | URL>, options: ProtoLoadOptions = {}): Protobuf.Root {
  const files = protoPaths(file);
  const includeDirs = (options.includeDirs ?? []).map((dir) => (dir instanceof URL ? fileURLToPath(dir) : resolve(dir)));
  const key = JSON.stringify([files, includeDirs, options.keepCase === true, options.allComments === true]);
  let root = roots.get(key);
  if (root === undefined) {
    const protobuf = protobufjs();
    root = new protobuf.Root();
    root.resolvePath = (origin, target) => {
      if (isAbsolute(target)) return target;
      const beside = origin === '' ? resolve(target) : resolve(dirname(origin), target);
      if (existsSync(beside)) return beside;
      for (const dir of includeDirs) {
        const candidate = resolve(dir, target);
        if (existsSync(candidate)) return candidate;
      }
      return beside;
    };
    const names = new Map<string, string>();
    importNames.set(root, names);
    const find = root.resolvePath;
    root.resolvePath = (origin, target) => {
      const path = find(origin, target);
      if (origin !== '' && path !== null && !names.has(path)) names.set(path, target);
      return path;
    };
    try {
      root.loadSync(files, { keepCase: options.keepCase === true, alternateCommentMode: options.allComments === true });
      root.resolveAll();
    } catch (error) {
      throw new RpcError(Code.INVALID_ARGUMENT, `cannot load ${describeFiles(file)}: ${errorMessage(error)}`, { cause: error });
    }
    roots.set(key, root);
  }
  return root;
}

export function describeFiles(file: string | URL | Array<string | URL>): string {
  return (Array.isArray(file) ? file : [file]).map(String).join(', ');
}
