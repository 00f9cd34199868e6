import { createHash, timingSafeEqual } from 'node:crypto';
import { Code } from '../core/code.js';
import type { Principal } from '../core/principal.js';
import { RpcError } from '../core/rpc-error.js';
import { isBearerToken } from './authorization.js';
import { principalOf, then, type PrincipalInit } from './principals.js';

/**
 * Bearer tokens a server accepts: a table from token to the principal it stands for, or a function
 * that looks a token up (in a database, an introspection endpoint) and answers undefined for an
 * unknown one. A table's tokens are compared in constant time.
 */
export type BearerTokens =
  | Readonly<Record<string, PrincipalInit>>
  | ((token: string) => PrincipalInit | undefined | Promise<PrincipalInit | undefined>);

/** Looks a presented token up: its principal, or undefined for a token it does not know. */
export type TokenLookup = (token: string) => Principal | undefined | Promise<Principal | undefined>;

/** A lookup for the `tokens` option. */
export function tokenLookup(tokens: BearerTokens): TokenLookup {
  if (typeof tokens === 'function') {
    return (token) => then(tokens(token), (init) => (init === undefined ? undefined : principalOf(init, 'token')));
  }
  if (typeof tokens !== 'object' || tokens === null) throw new RpcError(Code.INVALID_ARGUMENT, 'auth: tokens must be a table of token to principal, or a function');
  const entries = Object.entries(tokens).map(([token, init]) => {
    if (!isBearerToken(token)) throw new RpcError(Code.INVALID_ARGUMENT, 'auth: a token in the tokens table is empty or has characters a bearer token cannot carry');
    return { digest: digest(token), principal: principalOf(init, 'token') };
  });
  return (token) => {
    // Every entry is compared, each in constant time over equal-length digests, so that neither
    // where a match is nor how close a guess came shows in the time the answer takes.
    const presented = digest(token);
    let found: Principal | undefined;
    for (const entry of entries) if (timingSafeEqual(presented, entry.digest)) found = entry.principal;
    return found;
  };
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
