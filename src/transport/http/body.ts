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
 * Reads a request body of at most `limit` bytes, then calls `done` with it or `failed` with why
 * not (at most once, one or the other). A declared length over the limit fails before anything is
 * read; a body that grows past it while streaming fails as soon as it does, and reading stops
 * there. A client that goes away mid-body gets neither: Node emits a request's `error` ("aborted")
 * only to a listener, and the server learns of the loss from the connection's `close`, once for all
 * its requests, which costs the small call less than an `error` listener on every request.
 * Chunks are kept as received and copied once at the end; with `keep` false they are dropped (the
 * body of a refused request, read so that its connection can go on). Callbacks rather than a
 * promise: the small call spends a promise and a turn of the microtask queue less.
 */
export function readBodyThen(req: IncomingMessage, limit: number, keep: boolean, done: (body: Uint8Array) => void, failed: (error: RpcError) => void): void {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    failed(new BodyTooLarge(limit, Number(declared)));
    return;
  }
  if (req.readableEnded) {
    done(empty);
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  const cleanup = () => {
    settled = true;
    req.off('data', onData);
    req.off('end', onEnd);
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) {
      cleanup();
      req.pause();
      failed(new BodyTooLarge(limit));
      return;
    }
    if (keep) chunks.push(chunk);
  };
  // The request is over once it ended: its listeners go with it, and taking them off one by one
  // would cost more than the rest of reading a small body.
  const onEnd = () => {
    if (settled) return;
    settled = true;
    if (chunks.length === 0) done(empty);
    else if (chunks.length === 1) done(chunks[0]!);
    else done(Buffer.concat(chunks, size));
  };
  req.on('data', onData);
  req.on('end', onEnd);
}

/** `readBodyThen` as a promise, which stays pending if the client goes away mid-body. */
export function readBody(req: IncomingMessage, limit: number, keep = true): Promise<Uint8Array> {
  return new Promise((resolve, reject) => readBodyThen(req, limit, keep, resolve, reject));
}
