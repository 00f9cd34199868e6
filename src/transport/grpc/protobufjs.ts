import { createRequire } from 'node:module';
import type * as Protobuf from 'protobufjs';

let loaded: typeof Protobuf | undefined;

/**
 * `protobufjs`, loaded on first use: servers and clients that never touch a `.proto` or error
 * details never load it. Synchronous, so that service definitions can stay module-level constants.
 */
export function protobufjs(): typeof Protobuf {
  return (loaded ??= createRequire(import.meta.url)('protobufjs') as typeof Protobuf);
}
