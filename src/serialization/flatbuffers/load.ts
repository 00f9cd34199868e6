import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Code } from '../../core/code.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';
import { readBinarySchema } from './bfbs.js';
import { compileFbs, type FlatcOptions } from './flatc.js';
import { BaseType, type FbsSchema } from './schema.js';

/** Where a schema comes from and how its names are given to JavaScript. */
export interface FbsLoadOptions extends Omit<FlatcOptions, 'includeDirs'> {
  /** Keep field names as written in the `.fbs` (`line_items`) instead of lowerCamelCase (`lineItems`). */
  keepCase?: boolean;
  /** Folders searched for `include`d files besides the including file's own (flatc's `-I`). */
  includeDirs?: Array<string | URL>;
}

/** A `.fbs` (compiled with flatc), a `.bfbs` flatc wrote, or the bytes of one. */
export type FbsSource = string | URL | Uint8Array;

const cache = new Map<string, FbsSchema>();

/**
 * The schema of `source`, compiled and read once per file, modification time and options. A
 * schema the codec cannot carry (a union member that is no table) is refused here, when the
 * service is defined, rather than on its first call.
 */
export function loadFbsSchema(source: FbsSource, options: FbsLoadOptions = {}): FbsSchema {
  if (source instanceof Uint8Array) return checked(read(source, options.keepCase), 'the binary schema given');
  const file = source instanceof URL ? fileURLToPath(source) : resolve(source);
  let modified: number;
  try {
    modified = statSync(file).mtimeMs;
  } catch (error) {
    throw new RpcError(Code.NOT_FOUND, `cannot read the FlatBuffers schema ${file}: ${errorMessage(error)}`, { cause: error });
  }
  const includeDirs = [dirname(file), ...(options.includeDirs ?? []).map((dir) => (dir instanceof URL ? fileURLToPath(dir) : resolve(dir)))];
  const key = JSON.stringify([file, modified, options.keepCase === true, includeDirs, options.flatc ?? null]);
  let schema = cache.get(key);
  if (schema === undefined) {
    const bytes = file.endsWith('.bfbs') ? readFileSync(file) : compileFbs(file, { flatc: options.flatc, includeDirs });
    schema = checked(read(bytes, options.keepCase, file), file);
    cache.set(key, schema);
  }
  return schema;
}

function read(bytes: Uint8Array, keepCase: boolean | undefined, file = 'the binary schema given'): FbsSchema {
  try {
    return readBinarySchema(bytes, keepCase === true);
  } catch (error) {
    throw new RpcError(Code.INVALID_ARGUMENT, `cannot read ${file}: ${errorMessage(error)}`, { cause: error });
  }
}

function checked(schema: FbsSchema, file: string): FbsSchema {
  for (const union of schema.enums) {
    if (!union.isUnion) continue;
    for (const member of union.values) {
      if (member.value === 0n) continue;
      const object = schema.objects[member.object];
      if (object === undefined || object.isStruct) {
        throw new RpcError(Code.INVALID_ARGUMENT, `${file}: union ${union.name} has the member ${member.name}, which is no table; Switchyard's FlatBuffers codec carries unions of tables`);
      }
    }
  }
  for (const object of schema.objects) {
    for (const field of object.fields) {
      if (field.type.base === BaseType.Union && field.unionTypeId < 0) {
        throw new RpcError(Code.INVALID_ARGUMENT, `${file}: ${object.name}.${field.name} has no type slot ${field.name}_type`);
      }
    }
  }
  return schema;
}
