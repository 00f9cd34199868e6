import { Code } from '../core/code.js';
import type { Invocation } from '../core/invocation.js';
import { RpcError, errorMessage } from '../core/rpc-error.js';
import { AUTHORIZATION, isBearerToken } from './authorization.js';

/** What a token source is told of the call it makes a token for. */
export interface TokenRequest {
  /** The service's name (`shop.Orders`), e.g. to pick an audience. */
  readonly service: string;
  readonly method: string;
}

/**
 * Makes the bearer token of a call, at once or as a promise. Asked for every call, so that it can
 * refresh tokens; it should cache them (see `jwtSigner`), since the call waits for it.
 */
export type TokenSource = (request: TokenRequest) => string | Promise<string>;

/**
 * A client's credentials: a bearer token, or a source of tokens. Each call sends one as
 * `authorization: Bearer <token>` metadata (HTTP's `Authorization` header), unless the call's own
 * metadata already has an `authorization` entry.
 */
export type Credentials = string | TokenSource;

/** Checks credentials given as options, so that a bad static token fails where it is written. */
export function checkCredentials(credentials: Credentials | false | undefined, where: string): void {
  if (credentials === undefined || credentials === false || typeof credentials === 'function') return;
  if (typeof credentials !== 'string' || !isBearerToken(stripScheme(credentials))) {
    throw new RpcError(Code.INVALID_ARGUMENT, `${where}: credentials must be a bearer token (letters, digits and -._~+/ only), a function or false`);
  }
}

/**
 * Sends `call` with its credentials in place: at once for a static token or a source that answers
 * at once, after the source's promise otherwise. A source that fails, or answers no token, fails
 * the call before it leaves (unprocessed, so nothing was sent).
 */
export function sendWithCredentials(call: Invocation, credentials: Credentials, send: (call: Invocation) => Promise<unknown>): Promise<unknown> {
  if (call.metadata.has(AUTHORIZATION)) return send(call);
  if (typeof credentials === 'string') {
    call.metadata.set(AUTHORIZATION, bearer(credentials));
    return send(call);
  }
  let token: string | Promise<string>;
  try {
    token = credentials({ service: call.service.key.name, method: call.method });
    if (typeof token === 'string') {
      call.metadata.set(AUTHORIZATION, bearer(token));
      return send(call);
    }
  } catch (error) {
    return Promise.reject(sourceFailed(error));
  }
  return Promise.resolve(token).then((made) => {
    call.metadata.set(AUTHORIZATION, bearer(made));
    return send(call);
  }, (error: unknown) => {
    throw sourceFailed(error);
  });
}

/** The header value for a token; a token given with its scheme already is taken as it is. */
function bearer(token: unknown): string {
  if (typeof token !== 'string' || !isBearerToken(stripScheme(token))) {
    throw new RpcError(Code.UNAUTHENTICATED, 'the credentials gave no usable bearer token (letters, digits and -._~+/ only)', { unprocessed: true });
  }
  return token.length > 7 && /^bearer /i.test(token) ? token : `Bearer ${token}`;
}

function stripScheme(token: string): string {
  return /^bearer /i.test(token) ? token.slice(7) : token;
}

/** A source's failure keeps its code if it is an `RpcError` (as gRPC's call credentials do); else UNAVAILABLE. */
function sourceFailed(error: unknown): RpcError {
  if (error instanceof RpcError) return error.unprocessed ? error : new RpcError(error.code, error.message, { details: error.details, name: error.name, cause: error, unprocessed: true });
  return new RpcError(Code.UNAVAILABLE, `cannot get the call's credentials: ${errorMessage(error)}`, { unprocessed: true, cause: error });
}
