import type { IncomingMessage, ServerResponse } from 'node:http';
import { Code, codeName } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { statusOf } from '../transport/http/status-map.js';

/** The largest request body the console reads: a rule document and some room. */
export const MAX_BODY_BYTES = 256 * 1024;

/**
 * Headers on every answer: the page runs only its own script and style (so nothing shown can run
 * as code, even if it slipped past escaping), cannot be framed, and sends no referrer.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const bytes = Buffer.from(`${JSON.stringify(body)}\n`, 'utf8');
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': bytes.length, 'cache-control': 'no-store', ...headers });
  response.end(bytes);
}

/** `{ code, message, details? }` with the HTTP status of the code, as the admin listener answers errors. */
export function sendError(response: ServerResponse, error: RpcError, status = statusOf(error.code)): void {
  const details = Object.keys(error.details).length > 0 ? { details: error.details } : {};
  sendJson(response, status, { code: codeName(error.code), message: error.message, ...details });
}

/** A redirect after a form post (303: the browser follows it with GET). */
export function sendRedirect(response: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  response.writeHead(303, { ...SECURITY_HEADERS, location, 'cache-control': 'no-store', 'content-length': 0, ...headers });
  response.end();
}

/**
 * The request's body as text, at most {@link MAX_BODY_BYTES}. `type` is the media type it must
 * have: a page of another site can post a form to the console, but not JSON without asking first.
 */
export function readBody(request: IncomingMessage, type: 'application/json' | 'application/x-www-form-urlencoded'): Promise<string> {
  const given = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (given !== type) {
    request.resume();
    return Promise.reject(new RpcError(Code.INVALID_ARGUMENT, `the body must be ${type}, not ${given || 'absent'}`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        request.removeAllListeners('data');
        request.resume();
        reject(new RpcError(Code.RESOURCE_EXHAUSTED, `the body is larger than ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    request.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.once('error', reject);
  });
}

/** A JSON body that must be an object. */
export async function readJsonObject(request: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readBody(request, 'application/json');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RpcError(Code.INVALID_ARGUMENT, 'the body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RpcError(Code.INVALID_ARGUMENT, 'the body must be a JSON object');
  return value as Record<string, unknown>;
}
