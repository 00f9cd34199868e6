import { createRequire } from 'node:module';
import { Code } from './code.js';
import { RpcError } from './rpc-error.js';

/**
 * Loads a package that Switchyard declares as an optional peer dependency (amqplib,
 * node-zookeeper-client, protobufjs), on first use. When it is not installed, the error says which
 * feature needs it and how to install it:
 *
 * ```ts
 * const amqplib = await importOptional<typeof import('amqplib')>('amqplib', 'amqp://');
 * // RpcError [FAILED_PRECONDITION] amqp:// needs the package amqplib: npm install amqplib
 * ```
 *
 * `FAILED_PRECONDITION`, never sent: no retry or other provider can help until the package is
 * installed. Any other failure to load (the package is there but broken) is passed on as it is.
 */
export async function importOptional<T>(specifier: string, feature: string): Promise<T> {
  try {
    const loaded = (await import(specifier)) as { default?: T } & T;
    // A CommonJS package's exports arrive as `default`; its named exports may not all be detected.
    return loaded.default ?? loaded;
  } catch (error) {
    throw missingOrSame(error, specifier, feature);
  }
}

/** `importOptional` for the places that must stay synchronous (module-level service definitions). */
export function requireOptional<T>(specifier: string, feature: string): T {
  try {
    return requireHere(specifier) as T;
  } catch (error) {
    throw missingOrSame(error, specifier, feature);
  }
}

const requireHere = createRequire(import.meta.url);

function missingOrSame(error: unknown, specifier: string, feature: string): unknown {
  if (!isMissing(error, specifier)) return error;
  const name = packageName(specifier);
  return new RpcError(Code.FAILED_PRECONDITION, `${feature} needs the package ${name}: npm install ${name}`, { cause: error, unprocessed: true });
}

/** The package itself is not found (not one of its own dependencies, which is a broken install). */
function isMissing(error: unknown, specifier: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  const message = error instanceof Error ? error.message : '';
  return message.includes(`'${packageName(specifier)}'`) || message.includes(`'${specifier}'`);
}

/** `protobufjs/ext/descriptor` → `protobufjs`; `@scope/pkg/sub` → `@scope/pkg`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}
