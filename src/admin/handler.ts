import type { IncomingMessage, ServerResponse } from 'node:http';
import { Code } from '../core/code.js';
import type { Logger } from '../core/logger.js';
import { RpcError } from '../core/rpc-error.js';
import { admitAdminRequest } from './auth.js';
import { sendAnswer, sendError, type AdminAnswer } from './respond.js';
import { ADMIN_PATHS, ADMIN_ROUTES } from './routes.js';
import type { AdminSources } from './sources.js';

export interface AdminHandlerSettings {
  readonly sources: AdminSources;
  readonly logger: Logger;
  readonly requestTimeoutMs: number;
  /** True once the listener is closing: answers then ask the client to close the connection. */
  readonly closing: () => boolean;
}

/**
 * The listener's request handler. Whatever a source or the gate throws or rejects with becomes an
 * answer (500 for anything that is no RpcError), and a source that never answers becomes 504
 * after `requestTimeoutMs`, so no request is left hanging and nothing reaches the process.
 */
export function adminRequestHandler(settings: AdminHandlerSettings): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    serve(request, response, settings).catch((error: unknown) => {
      settings.logger.warn({ err: error, path: request.url }, 'admin request failed');
      if (response.headersSent) response.destroy();
      else sendError(response, RpcError.from(error, Code.INTERNAL), false, settings.closing());
    });
  };
}

async function serve(request: IncomingMessage, response: ServerResponse, settings: AdminHandlerSettings): Promise<void> {
  // No endpoint reads a body: drain it, so that the connection can carry the next request.
  request.resume();
  const { path, pretty } = target(request.url ?? '/');
  const fail = (error: RpcError, status?: number): void => sendError(response, error, pretty, settings.closing(), status);
  const route = ADMIN_ROUTES.get(path);
  if (route === undefined) {
    fail(new RpcError(Code.NOT_FOUND, `no admin endpoint ${path}; there are ${ADMIN_PATHS.join(', ')}`));
    return;
  }
  const verb = request.method === 'HEAD' && route.verb === 'GET' ? 'GET' : request.method;
  if (verb !== route.verb) {
    response.setHeader('allow', route.verb === 'GET' ? 'GET, HEAD' : 'POST');
    fail(new RpcError(Code.UNIMPLEMENTED, `${path} takes ${route.verb}, not ${request.method ?? 'no method'}`), 405);
    return;
  }
  const gate = settings.sources.gate;
  if (gate !== undefined) {
    try {
      await admitAdminRequest(gate, route.endpoint, request);
    } catch (error) {
      fail(RpcError.from(error, Code.INTERNAL));
      return;
    }
  }
  let answer: AdminAnswer;
  try {
    answer = await within(route.run(settings.sources), settings.requestTimeoutMs, path);
  } catch (error) {
    const failure = RpcError.from(error, Code.INTERNAL);
    // NOT_FOUND is an absent source, the caller's business; anything else is the process's
    if (failure.code !== Code.NOT_FOUND) settings.logger.warn({ err: error, path }, `admin ${path} failed`);
    fail(failure);
    return;
  }
  sendAnswer(response, answer, pretty, settings.closing());
}

/** The path and whether `?pretty` was asked. Parsed by hand: `new URL('//x', base)` would read `x` as a host. */
function target(url: string): { path: string; pretty: boolean } {
  const at = url.indexOf('?');
  if (at < 0) return { path: url, pretty: false };
  return { path: url.slice(0, at), pretty: new URLSearchParams(url.slice(at + 1)).has('pretty') };
}

/** `work`, or DEADLINE_EXCEEDED once `timeoutMs` passed; a late rejection of `work` is handled by the race. */
function within<T>(work: Promise<T>, timeoutMs: number, path: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new RpcError(Code.DEADLINE_EXCEEDED, `${path} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
