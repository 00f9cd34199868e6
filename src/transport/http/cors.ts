import type { IncomingMessage, ServerResponse } from 'node:http';
import { META_PREFIX } from './headers.js';

/** Which browser pages may call the server from another origin. */
export interface CorsOptions {
  /** `'*'` for any origin, a list of exact origins (`'https://app.example.com'`), or a test. */
  origins: '*' | readonly string[] | ((origin: string) => boolean);
  /** Request headers allowed besides Switchyard's own (`content-type`, `x-switchyard-*`, `sy-meta-*`). */
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
    const allowed = origins === '*' ? true : typeof origins === 'function' ? origins(origin) : origins.includes(origin);
    if (!allowed) return undefined;
    return origins === '*' && this.options.credentials !== true ? '*' : origin;
  }

  /** Whether a request is a preflight (OPTIONS with Access-Control-Request-Method). */
  static isPreflight(req: IncomingMessage): boolean {
    return req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
  }

  /** Answers a preflight from an allowed origin: 204 with what it may send. */
  preflight(res: ServerResponse, origin: string, req: IncomingMessage): void {
    this.originHeaders(res, origin);
    res.setHeader('access-control-allow-methods', methods);
    const requested = (req.headers['access-control-request-headers'] ?? '').split(',').map((name) => name.trim().toLowerCase()).filter((name) => name.length > 0);
    const allowed = requested.filter((name) => this.headerAllowed(name));
    if (allowed.length > 0) res.setHeader('access-control-allow-headers', allowed.join(', '));
    res.setHeader('access-control-max-age', String(this.options.maxAgeSeconds ?? 600));
    res.statusCode = 204;
    res.end();
  }

  /** Headers for an actual response to an allowed origin; `exposed` are the metadata headers it carries. */
  respond(res: ServerResponse, origin: string, exposed: readonly string[]): void {
    this.originHeaders(res, origin);
    const names = [...exposed, ...(this.options.exposeHeaders ?? [])];
    if (names.length > 0) res.setHeader('access-control-expose-headers', names.join(', '));
  }

  private originHeaders(res: ServerResponse, origin: string): void {
    res.setHeader('access-control-allow-origin', origin);
    if (origin !== '*') res.setHeader('vary', 'Origin');
    if (this.options.credentials === true) res.setHeader('access-control-allow-credentials', 'true');
  }

  private headerAllowed(name: string): boolean {
    return name === 'content-type' || name.startsWith('x-switchyard-') || name.startsWith(META_PREFIX) || this.allowHeaders.has(name);
  }
}
