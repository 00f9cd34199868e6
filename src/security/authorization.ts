import { Code } from '../core/code.js';
import type { Metadata } from '../core/metadata.js';
import { RpcError } from '../core/rpc-error.js';

/** The metadata key credentials travel under, on every transport (HTTP's `Authorization` header). */
export const AUTHORIZATION = 'authorization';

// RFC 6750's b64token, the only form a bearer token takes in an Authorization header.
const b64token = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The bearer token of a call's `authorization` metadata (`Bearer <token>`), undefined when the call
 * carries none; UNAUTHENTICATED for another scheme or a malformed value. Never echoes the value.
 */
export function bearerTokenOf(metadata: Metadata | undefined): string | undefined {
  const value = metadata?.get(AUTHORIZATION);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new RpcError(Code.UNAUTHENTICATED, 'the authorization metadata must be text ("Bearer <token>"), not bytes');
  const space = value.indexOf(' ');
  const scheme = space < 0 ? value : value.slice(0, space);
  if (scheme.toLowerCase() !== 'bearer') {
    throw new RpcError(Code.UNAUTHENTICATED, `unsupported authorization scheme ${JSON.stringify(scheme.slice(0, 20))}; send "Bearer <token>"`);
  }
  const token = value.slice(space + 1).trim();
  if (space < 0 || !b64token.test(token)) throw new RpcError(Code.UNAUTHENTICATED, 'malformed bearer token');
  return token;
}

/** Whether a string can travel as a bearer token. */
export function isBearerToken(token: string): boolean {
  return b64token.test(token);
}
