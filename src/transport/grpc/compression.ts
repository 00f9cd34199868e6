import { promisify } from 'node:util';
import { deflate, gunzip, gzip, inflate } from 'node:zlib';
import { Code } from '../../core/code.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';
import { DEFAULT_MAX_DECOMPRESSION_RATIO, type DecompressionLimits } from '../limits/server-limits.js';

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
 * Output up to this size is never refused for its ratio: small messages of repeated text compress
 * far better than large ones, and cost little whatever their ratio.
 */
export const RATIO_FREE_BYTES = 1024 * 1024;

const defaultLimits: DecompressionLimits = { maxRatio: DEFAULT_MAX_DECOMPRESSION_RATIO };

/**
 * Decompresses one message off the event loop's critical path (zlib's thread pool), stopping at
 * `maxSize` bytes of output, and, beyond its first MiB, at `limits.maxRatio` times its compressed
 * size: so a small bomb cannot inflate into a large allocation. Both end in RESOURCE_EXHAUSTED.
 */
export async function decompress(encoding: Encoding, data: Uint8Array, maxSize: number, limits: DecompressionLimits = defaultLimits): Promise<Buffer> {
  if (encoding === 'identity') throw new RpcError(Code.INTERNAL, 'compressed message without a grpc-encoding');
  const byRatio = Math.max(RATIO_FREE_BYTES, data.byteLength * limits.maxRatio);
  const ratioBinds = byRatio < maxSize;
  try {
    return await unzip[encoding](data, { maxOutputLength: Math.max(1, ratioBinds ? byRatio : maxSize) });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      if (!ratioBinds) throw new RpcError(Code.RESOURCE_EXHAUSTED, `decompressed message exceeds the limit of ${maxSize} bytes`);
      limits.refused?.();
      throw new RpcError(Code.RESOURCE_EXHAUSTED, `message of ${data.byteLength} compressed bytes inflates past ${limits.maxRatio} times that size (maxDecompressionRatio)`);
    }
    throw new RpcError(Code.INTERNAL, `cannot decompress a ${encoding} message: ${errorMessage(error)}`);
  }
}

export function compress(encoding: Exclude<Encoding, 'identity'>, data: Uint8Array): Promise<Buffer> {
  return zip[encoding](data);
}
