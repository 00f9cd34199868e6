import { Code } from '../../core/code.js';
import { RpcError } from '../../core/rpc-error.js';
import { parseAddress } from '../address.js';
import type { CorsOptions } from './cors.js';
import { DEFAULT_HEARTBEAT_MS } from './sse.js';

/** A listen address `http://host:port?…` (or `https://`) with the HTTP server's options read out of its query. */
export interface HttpListenAddress {
  /** `https` serves over TLS. */
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: number;
  /** Largest request body accepted; larger ones get 413 (RESOURCE_EXHAUSTED). Default 1 MiB. */
  readonly maxBodyBytes: number;
  /** Cross-origin access for browsers; none unless `cors` is given. */
  readonly cors: CorsOptions | undefined;
  /** Serve `GET /openapi.json`. Default true. */
  readonly openapi: boolean;
  /** How often an idle server-sent event stream writes a `: ping` comment. Default 15 s. */
  readonly sseHeartbeatMs: number;
  /**
   * How long an idle keep-alive connection stays open for its next request (Node's
   * `server.keepAliveTimeout`). Default 5 s; behind a load balancer, make it longer than the
   * balancer's own idle timeout, so that the balancer, not the server, closes idle connections.
   */
  readonly keepAliveTimeoutMs: number;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const keys = ['maxBodyBytes', 'cors', 'corsHeaders', 'corsExpose', 'corsCredentials', 'corsMaxAge', 'openapi', 'sseHeartbeatMs', 'keepAliveTimeoutMs'];

/** Node's own default for `server.keepAliveTimeout`. */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5000;

/**
 * Reads `http://0.0.0.0:8080?maxBodyBytes=2097152&cors=https://app.example.com,https://admin.example.com`.
 * `cors=*` allows any origin; `corsHeaders`, `corsExpose` (comma lists), `corsCredentials=true` and
 * `corsMaxAge` (seconds) refine it; `openapi=false` turns the description off.
 */
export function parseHttpListenAddress(url: string): HttpListenAddress {
  const { protocol, host, port } = parseAddress(url);
  if (protocol !== 'http' && protocol !== 'https') throw new RpcError(Code.INVALID_ARGUMENT, `not an http:// or https:// address: ${JSON.stringify(url)}`);
  const query = new URL(url).searchParams;
  for (const key of query.keys()) {
    if (!keys.includes(key)) throw new RpcError(Code.INVALID_ARGUMENT, `unknown option ${JSON.stringify(key)} in ${JSON.stringify(url)} (known: ${keys.join(', ')})`);
  }
  const maxBodyBytes = whole(query, 'maxBodyBytes') ?? DEFAULT_MAX_BODY_BYTES;
  const origins = query.get('cors');
  let cors: CorsOptions | undefined;
  if (origins !== null) {
    cors = {
      origins: origins === '*' ? '*' : list(origins),
      allowHeaders: list(query.get('corsHeaders') ?? ''),
      exposeHeaders: list(query.get('corsExpose') ?? ''),
      credentials: flag(query, 'corsCredentials') ?? false,
      maxAgeSeconds: whole(query, 'corsMaxAge') ?? 600,
    };
    if (cors.origins !== '*' && cors.origins.length === 0) throw new RpcError(Code.INVALID_ARGUMENT, 'cors needs * or a comma-separated list of origins');
  }
  const sseHeartbeatMs = whole(query, 'sseHeartbeatMs') ?? DEFAULT_HEARTBEAT_MS;
  if (sseHeartbeatMs < 1 || sseHeartbeatMs > 2 ** 31 - 1) throw new RpcError(Code.INVALID_ARGUMENT, `sseHeartbeatMs must be from 1 to ${2 ** 31 - 1}`);
  const keepAliveTimeoutMs = whole(query, 'keepAliveTimeoutMs') ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS;
  if (keepAliveTimeoutMs < 1 || keepAliveTimeoutMs > 2 ** 31 - 1) throw new RpcError(Code.INVALID_ARGUMENT, `keepAliveTimeoutMs must be from 1 to ${2 ** 31 - 1}`);
  return { scheme: protocol, host, port, maxBodyBytes, cors, openapi: flag(query, 'openapi') ?? true, sseHeartbeatMs, keepAliveTimeoutMs };
}

function list(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
}

function whole(query: URLSearchParams, key: string): number | undefined {
  const value = query.get(key);
  if (value === null) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new RpcError(Code.INVALID_ARGUMENT, `${key} must be a whole number, not ${JSON.stringify(value)}`);
  return Number(value);
}

function flag(query: URLSearchParams, key: string): boolean | undefined {
  const value = query.get(key);
  if (value === null) return undefined;
  if (value !== 'true' && value !== 'false') throw new RpcError(Code.INVALID_ARGUMENT, `${key} must be true or false, not ${JSON.stringify(value)}`);
  return value === 'true';
}
