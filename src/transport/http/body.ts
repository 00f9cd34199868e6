import type { IncomingMessage } from 'node:http';
import { Code } from '../../core/code.js';
import { RpcError } from '../../core/rpc-error.js';

/** The body (or a line of a request stream) was over the limit: answered with 413, and the connection is not reused. */
export class BodyTooLarge extends RpcError {
  constructor(limit: number, declared?: number, what = 'request body') {
    super(Code.RESOURCE_EXHAUSTED, declared === undefined
      ? `${what} exceeds the limit of ${limit} bytes`
      : `${what} of ${declared} bytes exceeds the limit of ${limit} bytes`);
  }
}

const empty = new Uint8Array(0);

/**
 * Reads a request body of at most `limit` bytes. A declared length over the limit fails before
 * anything is read; a body that grows past it while streaming fails as soon as it does, and
 * reading stops there. Chunks are kept as received and copied once at the end; with `keep` false
 * they are dropped (the body of a refused request, read so that its connection can go on).
 */
export function readBody(req: IncomingMessage, limit: number, keep = true): Promise<Uint8Array> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(new BodyTooLarge(limit, Number(declared)));
  if (req.readableEnded) return Promise.resolve(empty);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(new BodyTooLarge(limit));
        return;
      }
      if (keep) chunks.push(chunk);
    };
    // The request is over once it ended: its listeners go with it, and taking them off one by one
    // would cost more than the rest of reading a small body.
    const onEnd = () => {
      if (chunks.length === 0) resolve(empty);
      else if (chunks.length === 1) resolve(chunks[0]!);
      else resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new RpcError(Code.CANCELLED, `request body not received: ${error.message}`));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    // A client that goes away mid-body is an 'error' ("aborted") too, so 'aborted' needs no listener.
    req.on('error', onError);
  });
}
