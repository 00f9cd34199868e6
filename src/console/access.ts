import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isLoopback } from '../admin/listener.js';

/** The header a page's changing request must carry besides its cookie; no other site can make a browser send it. */
export const CHANGE_HEADER = 'x-switchyard-console';

const SESSION_MS = 12 * 60 * 60 * 1000;
const MAX_SESSIONS = 1000;
/** Wrong tokens allowed per minute, across all callers: guessing the token is then hopeless. */
const FAILED_TOKENS_PER_MINUTE = 10;

export type Admission = { readonly ok: true } | { readonly ok: false; readonly status: 401 | 403 | 421; readonly message: string };

/**
 * Who may use the console. With a token: a request carries it as `authorization: Bearer <token>`,
 * or carries the session cookie the login form set (HttpOnly, SameSite=Strict). Without a token
 * the console listens on loopback only, and every request must name a loopback host, so that a
 * web page whose name was re-pointed at 127.0.0.1 (DNS rebinding) cannot use it. Requests that
 * change something need the bearer header, or the cookie together with {@link CHANGE_HEADER}, and
 * are refused when the browser says they come from another origin.
 */
export class ConsoleAccess {
  readonly #tokenDigest: Buffer | undefined;
  readonly #sessions = new Map<string, number>();
  readonly #failures: number[] = [];
  #cookieName = 'switchyard_console';

  constructor(token: string | undefined, private readonly loopbackOnly: boolean) {
    this.#tokenDigest = token === undefined ? undefined : digest(token);
  }

  get needsLogin(): boolean {
    return this.#tokenDigest !== undefined;
  }

  /** Names the cookie after the port: cookies are shared by every port of a host, and two consoles must not share one. */
  listeningOn(port: number): void {
    this.#cookieName = `switchyard_console_${port}`;
  }

  /** May this request read? */
  admitRead(request: IncomingMessage): Admission {
    return this.#admit(request).admission;
  }

  /** May this request change something? */
  admitChange(request: IncomingMessage): Admission {
    const { admission, by } = this.#admit(request);
    if (!admission.ok) return admission;
    if (crossOrigin(request)) return { ok: false, status: 403, message: 'a request from another origin' };
    if (by === 'bearer') return admission;
    if (request.headers[CHANGE_HEADER] !== '1') return { ok: false, status: 403, message: `a change needs the ${CHANGE_HEADER} header` };
    return admission;
  }

  /** May this request have the page's files (which hold no data)? Any, addressed to a name this console answers to. */
  admitPage(request: IncomingMessage): Admission {
    return this.#hostAllowed(request) ? { ok: true } : { ok: false, status: 421, message: 'this console answers only to a loopback host name' };
  }

  /** Whether a login form may be posted from where it came (the page of this console itself). */
  admitLogin(request: IncomingMessage): Admission {
    const page = this.admitPage(request);
    if (!page.ok) return page;
    if (crossOrigin(request)) return { ok: false, status: 403, message: 'a login from another origin' };
    return { ok: true };
  }

  #admit(request: IncomingMessage): { admission: Admission; by?: 'bearer' | 'session' | 'loopback' } {
    const page = this.admitPage(request);
    if (!page.ok) return { admission: page };
    if (this.#tokenDigest === undefined) return { admission: { ok: true }, by: 'loopback' };
    if (this.#bearer(request)) return { admission: { ok: true }, by: 'bearer' };
    if (this.#session(request)) return { admission: { ok: true }, by: 'session' };
    return { admission: { ok: false, status: 401, message: 'log in with the console token' } };
  }

  /** Checks a token given to the login form: the cookie to set when right; undefined when wrong or when too many were wrong lately. */
  login(token: string): string | undefined {
    if (!this.#matches(token)) return undefined;
    if (this.#sessions.size >= MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!);
    const id = randomBytes(32).toString('base64url');
    this.#sessions.set(id, Date.now() + SESSION_MS);
    return `${this.#cookieName}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MS / 1000}`;
  }

  /** Ends the request's session; the cookie that clears it in the browser. */
  logout(request: IncomingMessage): string {
    const id = this.#cookie(request);
    if (id !== undefined) this.#sessions.delete(id);
    return `${this.#cookieName}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
  }

  #bearer(request: IncomingMessage): boolean {
    const header = request.headers.authorization;
    if (header === undefined || !/^Bearer /i.test(header)) return false;
    return this.#matches(header.slice(7).trim());
  }

  /**
   * Whether `token` is the console's. Wrong tokens are counted, by login form and bearer header
   * alike; past {@link FAILED_TOKENS_PER_MINUTE} in the last minute every token is refused for a while.
   */
  #matches(token: string): boolean {
    const now = Date.now();
    while (this.#failures.length > 0 && now - this.#failures[0]! > 60_000) this.#failures.shift();
    if (this.#tokenDigest === undefined || this.#failures.length >= FAILED_TOKENS_PER_MINUTE) return false;
    if (timingSafeEqual(digest(token), this.#tokenDigest)) return true;
    this.#failures.push(now);
    return false;
  }

  #session(request: IncomingMessage): boolean {
    const id = this.#cookie(request);
    if (id === undefined) return false;
    const expires = this.#sessions.get(id);
    if (expires === undefined) return false;
    if (expires < Date.now()) {
      this.#sessions.delete(id);
      return false;
    }
    return true;
  }

  #cookie(request: IncomingMessage): string | undefined {
    for (const part of (request.headers.cookie ?? '').split(';')) {
      const at = part.indexOf('=');
      if (at > 0 && part.slice(0, at).trim() === this.#cookieName) return part.slice(at + 1).trim();
    }
    return undefined;
  }

  #hostAllowed(request: IncomingMessage): boolean {
    if (!this.loopbackOnly) return true;
    const host = request.headers.host;
    if (host === undefined) return false;
    const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
    return isLoopback(name);
  }
}

/**
 * Compared as SHA-256 digests: equal lengths for `timingSafeEqual`, and the time taken says nothing
 * about the token, not even its length.
 */
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** What the browser says of where a request comes from: `Sec-Fetch-Site`, else `Origin` against `Host`. */
function crossOrigin(request: IncomingMessage): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) return site !== 'same-origin' && site !== 'none';
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== request.headers.host;
  } catch {
    return true;
  }
}
