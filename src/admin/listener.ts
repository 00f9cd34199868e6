import { createServer, type Server } from 'node:http';
import { BlockList, isIPv6, type AddressInfo } from 'node:net';
import { Code } from '../core/code.js';
import { silentLogger } from '../core/logger.js';
import { RpcError, errorMessage } from '../core/rpc-error.js';
import { adminRequestHandler } from './handler.js';
import type { AdminListener, AdminSources, AdminStartOptions } from './sources.js';

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

// 127.0.0.0/8 and ::1; BlockList also matches their IPv4-mapped IPv6 forms (::ffff:127.0.0.1).
const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/**
 * Starts an admin listener on `url` (`http://host:port`, port 0 for a free one) serving what
 * `sources` report: `/metrics`, `/health` (`/live`, `/ready`), `/status`, `/connections`,
 * `/providers`, `POST /offline` and `POST /online`. The host must be loopback (127.0.0.0/8, ::1,
 * localhost) unless `options.public` is set; anything else is refused with INVALID_ARGUMENT.
 *
 * ```ts
 * const admin = await startAdmin('http://127.0.0.1:9464', { health: () => health, connections: () => [] });
 * console.log(admin.address); // http://127.0.0.1:9464
 * await admin.close();
 * ```
 */
export async function startAdmin(url: string, sources: AdminSources, options: AdminStartOptions = {}): Promise<AdminListener> {
  const { host, port } = parseAdminUrl(url);
  if (options.public !== true && !isLoopback(host)) {
    throw new RpcError(Code.INVALID_ARGUMENT, `admin listener ${url}: ${host} is not a loopback host; set public: true to serve the admin endpoints beyond this machine`);
  }
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  if (!(requestTimeoutMs > 0)) throw new RpcError(Code.INVALID_ARGUMENT, `admin requestTimeoutMs must be a positive number, not ${requestTimeoutMs}`);
  const logger = options.logger ?? silentLogger;
  let closing = false;
  const server = createServer(adminRequestHandler({ sources, logger, requestTimeoutMs, closing: () => closing }));
  await listen(server, host, port, url);
  // An error after listening (out of file descriptors, say) must not kill the process it watches.
  server.on('error', (error) => logger.warn({ err: error }, 'admin listener error'));
  const address = boundUrl(server.address() as AddressInfo);
  let closed: Promise<void> | undefined;
  return {
    address,
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        server.close(() => resolve());
        // server.close() alone waits for every keep-alive connection to time out
        server.closeIdleConnections();
      });
      return closed;
    },
  };
}

/** Host and port of an admin URL; INVALID_ARGUMENT for anything that is not plain `http://host:port`. */
export function parseAdminUrl(url: string): { host: string; port: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RpcError(Code.INVALID_ARGUMENT, `admin listener: ${JSON.stringify(url)} is not a URL (give http://127.0.0.1:9464)`);
  }
  if (parsed.protocol !== 'http:') throw new RpcError(Code.INVALID_ARGUMENT, `admin listener ${url}: only http:// is served`);
  if ((parsed.pathname !== '/' && parsed.pathname !== '') || parsed.search !== '' || parsed.hash !== '' || parsed.username !== '' || parsed.password !== '') {
    throw new RpcError(Code.INVALID_ARGUMENT, `admin listener ${url}: give only a host and a port; the endpoints' paths are fixed`);
  }
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  return { host, port: parsed.port === '' ? 80 : Number(parsed.port) };
}

/** 127.0.0.0/8, ::1 and `localhost` (which resolves to one of them). */
export function isLoopback(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  if (isIPv6(host)) return loopback.check(host, 'ipv6');
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) && loopback.check(host, 'ipv4');
}

function listen(server: Server, host: string, port: number, url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error): void => reject(new RpcError(Code.UNAVAILABLE, `admin listener cannot listen on ${url}: ${errorMessage(error)}`, { cause: error }));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

function boundUrl(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
