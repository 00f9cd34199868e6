import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Code } from '../core/code.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { RpcError, errorMessage } from '../core/rpc-error.js';
import { ADMIN_PARAM } from '../registry/provider.js';
import type { Registry } from '../registry/registry.js';
import { isLoopback } from '../admin/listener.js';
import { ConsoleAccess } from './access.js';
import { adminOrigin } from './admin-fetch.js';
import { AdminScraper } from './admin-scraper.js';
import { loadAssets, sendAsset } from './assets.js';
import { isChange, serveApi, type ConsoleParts } from './console-api.js';
import { readBody, sendError, sendRedirect } from './http-io.js';
import { RuleCache } from './rule-cache.js';
import { RuleWriter } from './rule-writer.js';
import { RegistryView } from './registry-view.js';

export interface ConsoleOptions {
  /** The registry to show and write rules into; the caller opens and closes it. */
  readonly registry: Registry;
  /** How the registry is named on the page (its address, without a password). */
  readonly registryName: string;
  /** `host:port` to listen on. Default `127.0.0.1:0` (a free port). */
  readonly listen?: string;
  /** The token to log in with; without one, the console listens on loopback only. */
  readonly token?: string;
  /** Show only: no action is offered, and every change is refused with 403. */
  readonly readOnly?: boolean;
  /** Admin listeners to read besides those the registry's providers announce (clients', say). */
  readonly admins?: readonly string[];
  /** Sent as a bearer token to admin listeners that ask for one. */
  readonly adminToken?: string;
  /** How often admin listeners are read, and the services listed again. Default 2000 ms. */
  readonly intervalMs?: number;
  readonly logger?: Logger;
}

/** A running console. */
export interface ConsoleServer {
  /** `http://127.0.0.1:<port>/`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves the console: the page (`/`, its script and style), the login form (`POST /login`,
 * `POST /logout`) and the JSON API (`/api/…`), from node:http. See docs/console.md.
 */
export async function startConsole(options: ConsoleOptions): Promise<ConsoleServer> {
  const { host, port } = parseListen(options.listen ?? '127.0.0.1:0');
  const loopback = isLoopback(host);
  if (options.token === undefined && !loopback) {
    throw new RpcError(Code.INVALID_ARGUMENT, `the console listens on ${host} only with a token (--token or --token-file); without one it serves loopback alone`);
  }
  const logger = options.logger ?? silentLogger;
  const assets = await loadAssets();
  const intervalMs = options.intervalMs ?? 2000;
  const admins = (options.admins ?? []).map((url) => {
    const origin = adminOrigin(url);
    if (origin === undefined) throw new RpcError(Code.INVALID_ARGUMENT, `not an admin listener URL: ${JSON.stringify(url)} (give http://host:port)`);
    return origin;
  });
  const scraper = new AdminScraper(admins, { intervalMs, timeoutMs: Math.max(1000, intervalMs), token: options.adminToken });
  const view = new RegistryView(options.registry, intervalMs, logger, () => {
    scraper.track(view.providers().flatMap((provider) => {
      const origin = provider.params[ADMIN_PARAM] === undefined ? undefined : adminOrigin(provider.params[ADMIN_PARAM]);
      return origin === undefined ? [] : [origin];
    }));
  });
  const store = options.registry.rules;
  const rules = store === undefined ? undefined : new RuleCache(store);
  const parts: ConsoleParts = {
    view,
    scraper,
    store,
    rules,
    writer: store === undefined ? undefined : new RuleWriter(store),
    registryName: options.registryName,
    readOnly: options.readOnly === true,
  };
  const access = new ConsoleAccess(options.token, loopback);
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const failure = RpcError.from(error, Code.INTERNAL);
      if (failure.code === Code.INTERNAL || failure.code === Code.UNKNOWN) logger.warn({ err: error, path: request.url }, 'console request failed');
      if (response.headersSent) response.destroy();
      else sendError(response, failure);
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://console');
    if (url.pathname.startsWith('/api/')) {
      const admission = isChange(request.method) ? access.admitChange(request) : access.admitRead(request);
      if (!admission.ok) {
        request.resume();
        return sendError(response, new RpcError(admission.status === 401 ? Code.UNAUTHENTICATED : Code.PERMISSION_DENIED, admission.message), admission.status);
      }
      if (parts.readOnly && isChange(request.method)) {
        request.resume();
        return sendError(response, new RpcError(Code.PERMISSION_DENIED, 'this console is read-only'), 403);
      }
      return serveApi(request, response, url, parts);
    }
    if (request.method === 'POST' && (url.pathname === '/login' || url.pathname === '/logout')) return login(request, response, url.pathname);
    request.resume();
    if (request.method !== 'GET' && request.method !== 'HEAD') throw new RpcError(Code.UNIMPLEMENTED, `${request.method} ${url.pathname} is not served`);
    const admission = access.admitPage(request);
    if (!admission.ok) return sendError(response, new RpcError(Code.PERMISSION_DENIED, admission.message), admission.status);
    sendAsset(response, assets, url.pathname);
  }

  async function login(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const admission = access.admitLogin(request);
    if (!admission.ok) {
      request.resume();
      return sendError(response, new RpcError(Code.PERMISSION_DENIED, admission.message), admission.status);
    }
    if (path === '/logout') {
      request.resume();
      return sendRedirect(response, '/', { 'set-cookie': access.logout(request) });
    }
    const token = new URLSearchParams(await readBody(request, 'application/x-www-form-urlencoded')).get('token') ?? '';
    const cookie = access.needsLogin ? access.login(token) : undefined;
    if (cookie === undefined) return sendRedirect(response, '/?login=failed');
    sendRedirect(response, '/', { 'set-cookie': cookie });
  }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    throw new RpcError(Code.UNAVAILABLE, `the console cannot listen on ${host}:${port}: ${errorMessage(error)}`, { cause: error });
  }
  server.on('error', (error) => logger.warn({ err: error }, 'console listener error'));
  const bound = server.address() as AddressInfo;
  access.listeningOn(bound.port);
  await view.start();
  scraper.start();
  const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${bound.port}/`,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await view.close();
        await scraper.close();
        rules?.close();
      })();
      return closing;
    },
  };
}

/** `host:port`, `[::1]:port` or `http://host:port`. */
function parseListen(text: string): { host: string; port: number } {
  const match = /^(?:http:\/\/)?(\[[^\]]+\]|[^:/]+):(\d{1,5})\/?$/.exec(text);
  const port = Number(match?.[2]);
  if (match === null || port > 65535) throw new RpcError(Code.INVALID_ARGUMENT, `--listen takes host:port (127.0.0.1:8080), not ${JSON.stringify(text)}`);
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}
