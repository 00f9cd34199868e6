import { promisify } from 'node:util';
import { deflate, gunzip, gzip, inflate } from 'node:zlib';
import { Code } from '../../core/code.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';

/** Message encodings this transport reads (`grpc-encoding`) and may write. */
export type Encoding = 'identity' | 'gzip' | 'deflate';

/** The `grpc-accept-encoding` value both sides advertise. */
export const ACCEPT_ENCODING = 'identity,deflate,gzip';

/** Messages this large or larger are worth compressing when compression is on. */
export const COMPRESS_FROM = 1024;

const unzip = { gzip: promisify(gunzip), deflate: promisify(inflate) };
const zip = { gzip: promisify(gzip), deflate: promisify(deflate) };

export function isEncoding(name: string): name is Encoding {
  return name === 'identity' || name === 'gzip' || name === 'deflate';
}

/**
 * Decompresses one message off the event loop's critical path (zlib's thread pool), stopping at
 * `maxSize` bytes of output so that a small bomb cannot inflate into a large allocation.
 */
export async function decompress(encoding: Encoding, data: Uint8Array, maxSize: number): Promise<Buffer> {
  if (encoding === 'identity') throw new RpcError(Code.INTERNAL, 'compressed message without a grpc-encoding');
  try {
    return await unzip[encoding](data, { maxOutputLength: Math.max(1, maxSize) });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new RpcError(Code.RESOURCE_EXHAUSTED, `decompressed message exceeds the limit of ${maxSize} bytes`);
    }
    throw new RpcError(Code.INTERNAL, `cannot decompress a ${encoding} message: ${errorMessage(error)}`);
  }
}

export function compress(encoding: Exclude<Encoding, 'identity'>, data: Uint8Array): Promise<Buffer> {
  return zip[encoding](data);
}
