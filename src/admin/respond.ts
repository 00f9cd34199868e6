import type { ServerResponse } from 'node:http';
import { Code, codeName } from '../core/code.js';
import type { RpcError } from '../core/rpc-error.js';
import { statusOf } from '../transport/http/status-map.js';

/** What an endpoint answers: JSON, or text of a given content type (Prometheus' format). */
export type AdminAnswer =
  | { readonly status: number; readonly json: unknown }
  | { readonly status: number; readonly text: string; readonly contentType: string };

/** Writes an answer; `pretty` indents JSON (`?pretty`), `closing` asks the client not to keep the connection. */
export function sendAnswer(response: ServerResponse, answer: AdminAnswer, pretty: boolean, closing: boolean): void {
  if ('json' in answer) {
    // undefined is no JSON: a source that answers nothing is sent as null
    const body = `${JSON.stringify(answer.json ?? null, undefined, pretty ? 2 : undefined)}\n`;
    send(response, answer.status, 'application/json', body, closing);
  } else {
    send(response, answer.status, answer.contentType, answer.text, closing);
  }
}

/**
 * Writes an error as `{ code, message }` (code by name, as the http transport's error bodies), with
 * the status of its code, or `status` when the code's usual one does not fit (405). A 401 says
 * how to authenticate.
 */
export function sendError(response: ServerResponse, error: RpcError, pretty: boolean, closing: boolean, status = statusOf(error.code)): void {
  if (error.code === Code.UNAUTHENTICATED) response.setHeader('www-authenticate', 'Bearer');
  sendAnswer(response, { status, json: { code: codeName(error.code), message: error.message } }, pretty, closing);
}

function send(response: ServerResponse, status: number, contentType: string, body: string, closing: boolean): void {
  const bytes = Buffer.from(body, 'utf8');
  response.writeHead(status, {
    'content-type': contentType,
    'content-length': bytes.length,
    'cache-control': 'no-store',
    ...(closing ? { connection: 'close' } : {}),
  });
  // For HEAD, node:http sends the headers (content-length included) and drops the body.
  response.end(bytes);
}
