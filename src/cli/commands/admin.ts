// switchyard offline|online <admin-url>: Dubbo's QoS actions on a server's admin listener.
import { Code } from '../../core/code.js';
import { RpcError } from '../../core/rpc-error.js';
import { Exit, UsageError, millisOption, parseCommand, println, reportFailure, toJson, type Command } from '../switchyard-command.js';

/** The `offline` or `online` command: `POST /<action>` on the admin listener. */
function adminAction(action: 'offline' | 'online', summary: string, effect: string): Command {
  const help = `Usage: switchyard ${action} <admin-url> [options]

POST /${action} on a server's admin listener (createServer({ admin: 'http://127.0.0.1:9464' })):
${effect}

Options:
  --token <token>   sent as authorization: Bearer <token>
  --timeout <ms>    how long to wait for the answer (default 5000)
  --json            the admin listener's JSON answer, or { "error": {...} }
  -h, --help        this text
`;
  return {
    name: action,
    synopsis: '<admin-url>',
    summary,
    help,
    async run(argv) {
      const { values, positionals } = parseCommand(argv, {
        token: { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      }, 1);
      const endpoint = endpointOf(positionals[0]!, action);
      const timeoutMs = millisOption(values.timeout, 5000);
      const json = values.json === true;
      try {
        const body = await post(endpoint, values.token, timeoutMs);
        println(json ? toJson(body ?? { ok: true }) : `${action}: done${body === undefined ? '' : ` ${toJson(body)}`}`);
        return Exit.OK;
      } catch (error) {
        return reportFailure(error, `${action} ${endpoint.origin}`, json);
      }
    },
  };
}

export const offline = adminAction('offline', 'leave the registry, keep serving (POST /offline)',
  'the server leaves the registry (consumers stop sending it new calls) but keeps serving.');
export const online = adminAction('online', 'rejoin the registry (POST /online)', 'the server announces itself in the registry again.');

/** `http://127.0.0.1:9464` (or with a path prefix) and the action's endpoint under it. */
function endpointOf(adminUrl: string, action: string): URL {
  let base: URL;
  try {
    base = new URL(adminUrl);
  } catch {
    throw new UsageError(`not an admin url: ${JSON.stringify(adminUrl)} (use http://host:port)`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new UsageError(`an admin url is http:// or https://, not ${JSON.stringify(adminUrl)}`);
  return new URL(action, base.href.endsWith('/') ? base.href : `${base.href}/`);
}

/** Posts to the endpoint; its JSON answer, or an RpcError for a refusal (by HTTP status) or no answer. */
async function post(endpoint: URL, token: string | undefined, timeoutMs: number): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(endpoint, { method: 'POST', headers, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError';
    throw new RpcError(timedOut ? Code.DEADLINE_EXCEEDED : Code.UNAVAILABLE,
      timedOut ? `no answer from ${endpoint.origin} within ${timeoutMs} ms` : `cannot reach ${endpoint.origin}: ${causeOf(error)}`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = text;
  }
  if (response.ok) return body;
  // The admin listener answers errors as { code: 'NOT_FOUND', message }.
  const said = (typeof body === 'object' && body !== null ? body : {}) as { code?: unknown; message?: unknown };
  const named = typeof said.code === 'string' ? (Code as Record<string, Code>)[said.code] : undefined;
  const message = typeof said.message === 'string' ? said.message : typeof body === 'string' && body !== '' ? body : response.statusText;
  throw new RpcError(named ?? codeOfStatus(response.status), `HTTP ${response.status}: ${message}`);
}

function codeOfStatus(status: number): Code {
  if (status === 401) return Code.UNAUTHENTICATED;
  if (status === 403) return Code.PERMISSION_DENIED;
  if (status === 404 || status === 405 || status === 501) return Code.UNIMPLEMENTED;
  return status >= 500 ? Code.INTERNAL : Code.FAILED_PRECONDITION;
}

/** fetch says "fetch failed"; the reason (ECONNREFUSED …) is its cause. */
function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  return typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : (error as Error).message;
}
