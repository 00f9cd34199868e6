import type * as FlatBuffers from 'flatbuffers';
import { requireOptional } from '../../core/optional-module.js';

let loaded: typeof FlatBuffers | undefined;

/** What needs the `flatbuffers` package, as the error for a missing package names it. */
export const FLATBUFFERS_FEATURE = 'FlatBuffers (.fbs services)';

/**
 * The `flatbuffers` package (the FlatBuffers project's JavaScript runtime), loaded on first use,
 * synchronously so that service definitions can stay module-level constants: its `Builder` writes
 * every message. An optional peer dependency: a program without `.fbs` services never loads it.
 */
export function flatbuffersRuntime(): typeof FlatBuffers {
  return (loaded ??= requireOptional<typeof FlatBuffers>('flatbuffers', FLATBUFFERS_FEATURE));
}
