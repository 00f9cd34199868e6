import type { IncomingMessage } from 'node:http';
import { META_PREFIX, STANDARD_METADATA_HEADERS } from './headers.js';

/** Which browser pages may call the server from another origin. */
export interface CorsOptions {
  /** `'*'` for any origin, or a list of exact origins (`'https://app.example.com'`). */
  origins: '*' | readonly string[];
  /** Request headers allowed besides Switchyard's own (`content-type`, `x-switchyard-*`, `sy-meta-*`, the standard metadata headers such as `authorization`). */
  allowHeaders?: readonly string[];
  /** Response headers scripts may read besides the response's metadata headers. */
  exposeHeaders?: readonly string[];
  /** Allow cookies and HTTP authentication; the origin is then echoed, never `*`. Default false. */
  credentials?: boolean;
  /** How long a browser may reuse a preflight answer. Default 600 s. */
  maxAgeSeconds?: number;
}

const methods = 'GET, POST, PUT, PATCH, DELETE';

/** Applies a `CorsOptions` to requests: headers on answers, and answers to preflights. */
export class Cors {
  private readonly allowHeaders: Set<string>;

  constructor(private readonly options: CorsOptions) {
    this.allowHeaders = new Set((options.allowHeaders ?? []).map((name) => name.toLowerCase()));
  }

  /** The origin a request may be answered to, or undefined for none (no CORS headers then). */
  allowedOrigin(req: IncomingMessage): string | undefined {
    const origin = req.headers.origin;
    if (origin === undefined) return undefined;
    const { origins } = this.options;
    if (origins !== '*' && !origins.includes(origin)) return undefined;
    return origins === '*' && this.options.credentials !== true ? '*' : origin;
  }

  /** Whether a request is a preflight (OPTIONS with Access-Control-Request-Method). */
  static isPreflight(req: IncomingMessage): boolean {
    return req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
  }

  /** What a preflight from an allowed origin is answered (204) with, besides `headers()`. */
  preflightHeaders(req: IncomingMessage): Record<string, string> {
    const headers: Record<string, string> = { 'access-control-allow-methods': methods };
    const requested = (req.headers['access-control-request-headers'] ?? '').split(',').map((name) => name.trim().toLowerCase()).filter((name) => name.length > 0);
    const allowed = requested.filter((name) => this.headerAllowed(name));
    if (allowed.length > 0) headers['access-control-allow-headers'] = allowed.join(', ');
    headers['access-control-max-age'] = String(this.options.maxAgeSeconds ?? 600);
    return headers;
  }

  /** Headers of a response to an allowed origin; `exposed` are the metadata headers it carries. */
  headers(origin: string, exposed: readonly string[]): Array<[string, string]> {
    const headers: Array<[string, string]> = [['access-control-allow-origin', origin]];
    if (origin !== '*') headers.push(['vary', 'Origin']);
    if (this.options.credentials === true) headers.push(['access-control-allow-credentials', 'true']);
    const names = [...exposed, ...(this.options.exposeHeaders ?? [])];
    if (names.length > 0) headers.push(['access-control-expose-headers', names.join(', ')]);
    return headers;
  }

  private headerAllowed(name: string): boolean {
    return name === 'content-type' || name.startsWith('x-switchyard-') || name.startsWith(META_PREFIX) || STANDARD_METADATA_HEADERS.has(name) || this.allowHeaders.has(name);
  }
}
