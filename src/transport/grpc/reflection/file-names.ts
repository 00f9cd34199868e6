import { dirname, isAbsolute, posix, relative, sep } from 'node:path';
import type * as Protobuf from 'protobufjs';
import { protobufjs } from '../protobufjs.js';
import { importedAs } from '../proto-root.js';

/**
 * The names reflection gives the files of one root, by the path protobufjs loaded each from: as
 * protoc would, an imported file is named by its `import` line (`common/blob.proto`), a file given
 * to `defineServiceFromProto` by its path from the folder of those files (`greeter.proto`), and the
 * well-known types bundled with protobufjs by their usual names (`google/protobuf/empty.proto`).
 * Names are unique within a root: a clash falls back to the full path.
 */
export function fileNames(root: Protobuf.Root): Map<string, string> {
  const imported = importedAs(root);
  const given = root.files.filter((path) => isAbsolute(path) && imported?.has(path) !== true);
  const base = commonFolder(given);
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const path of root.files) {
    const importName = imported?.get(path);
    let name = !isAbsolute(path) ? path : importName !== undefined ? posix.normalize(importName) : posixPath(relative(base, path));
    if (taken.has(name) || name.startsWith('../')) name = posixPath(path).replace(/^\/+/, '');
    names.set(path, name);
    taken.add(name);
  }
  return names;
}

let wellKnown: Map<string, string> | undefined;

/**
 * The file of a well-known type protobufjs bundles (`.google.protobuf.Timestamp` →
 * `google/protobuf/timestamp.proto`); bundled declarations carry no file name of their own.
 */
export function wellKnownFile(fullName: string): string | undefined {
  if (wellKnown === undefined) {
    wellKnown = new Map();
    const common = protobufjs().common as unknown as Record<string, unknown>;
    for (const [file, json] of Object.entries(common)) {
      const declared = (json as { nested?: { google?: { nested?: { protobuf?: { nested?: object } } } } }).nested?.google?.nested?.protobuf?.nested;
      for (const name of Object.keys(declared ?? {})) wellKnown.set(`.google.protobuf.${name}`, file);
    }
  }
  return wellKnown.get(fullName);
}

function commonFolder(paths: readonly string[]): string {
  if (paths.length === 0) return sep;
  let folder = dirname(paths[0]!);
  for (const path of paths) {
    while (relative(folder, path).startsWith('..')) folder = dirname(folder);
  }
  return folder;
}

function posixPath(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}
