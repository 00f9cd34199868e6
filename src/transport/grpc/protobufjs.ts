import type * as Protobuf from 'protobufjs';
import { requireOptional } from '../../core/optional-module.js';

let loaded: typeof Protobuf | undefined;

/** What needs protobufjs, as the error for a missing package names it. */
export const PROTOBUF_FEATURE = 'Protocol Buffers (.proto services, gRPC error details, reflection)';

/**
 * `protobufjs`, loaded on first use: servers and clients that never touch a `.proto` or error
 * details never load it. Synchronous, so that service definitions can stay module-level constants.
 * An optional peer dependency: without it, what needs it fails with an error that says so.
 */
export function protobufjs(): typeof Protobuf {
  return (loaded ??= requireOptional<typeof Protobuf>('protobufjs', PROTOBUF_FEATURE));
}
