import { Code } from '../core/code.js';
import type { Principal } from '../core/principal.js';
import { RpcError } from '../core/rpc-error.js';
import { principalOf } from './principals.js';

/**
 * The principal a verified JWT stands for: its id is `sub`; its roles the `rolesClaim` (a list, or
 * one space-separated string); its scopes `scope` (OAuth's space-separated string) or `scp` (a
 * list, as Azure AD and Okta send it); its claims the whole payload.
 */
export function principalOfClaims(payload: Readonly<Record<string, unknown>>, rolesClaim: string): Principal {
  const subject = payload.sub;
  if (typeof subject !== 'string' || subject === '') throw new RpcError(Code.UNAUTHENTICATED, 'JWT refused: its "sub" claim is not a non-empty string');
  return principalOf({
    id: subject,
    roles: names(claimAt(payload, rolesClaim)),
    scopes: names(payload.scope ?? payload.scp),
    claims: payload,
  }, 'jwt');
}

/**
 * A claim by name, or by a dotted path into nested objects (`realm_access.roles`) when no claim
 * has the whole name: claim names may themselves hold dots (`https://example.com/roles`).
 */
export function claimAt(payload: Readonly<Record<string, unknown>>, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let value: unknown = payload;
  for (const step of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, step)) return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}

/** Names from a claim: a list's strings, or a string's space-separated words; nothing else counts. */
function names(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((name) => name !== '');
  if (Array.isArray(value)) return value.filter((name): name is string => typeof name === 'string' && name !== '');
  return [];
}
