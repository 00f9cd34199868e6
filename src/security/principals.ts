import { Code } from '../core/code.js';
import type { Principal } from '../core/principal.js';
import { RpcError } from '../core/rpc-error.js';

/** A principal as configuration writes it: only the id is required. */
export interface PrincipalInit {
  readonly id: string;
  readonly roles?: readonly string[];
  readonly scopes?: readonly string[];
  readonly claims?: Readonly<Record<string, unknown>>;
  /** How the server knows the caller; defaults to what accepted the credential (`token`, `certificate`). */
  readonly via?: string;
}

const none: readonly string[] = Object.freeze([]);
const noClaims: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * A frozen `Principal` from an init, refusing shapes a policy could misread: an id that is not a
 * non-empty string, roles or scopes that are not lists of strings.
 */
export function principalOf(init: PrincipalInit, via: string): Principal {
  if (typeof init !== 'object' || init === null || typeof init.id !== 'string' || init.id === '') {
    throw new RpcError(Code.INTERNAL, `a principal needs a non-empty string id (from ${via})`);
  }
  return Object.freeze({
    id: init.id,
    via: init.via ?? via,
    roles: names(init.roles, 'roles', via),
    scopes: names(init.scopes, 'scopes', via),
    claims: init.claims === undefined ? noClaims : Object.freeze({ ...init.claims }),
  });
}

function names(list: readonly string[] | undefined, what: string, via: string): readonly string[] {
  if (list === undefined) return none;
  if (!Array.isArray(list) || !list.every((name) => typeof name === 'string')) {
    throw new RpcError(Code.INTERNAL, `a principal's ${what} must be a list of strings (from ${via})`);
  }
  return Object.freeze([...list]);
}

/**
 * Runs `next` on a value now, or once its promise (any thenable a user's function answers) settles:
 * synchronous answers stay synchronous, and whatever waits is a native promise.
 */
export function then<T, R>(value: T | PromiseLike<T>, next: (value: T) => R | Promise<R>): R | Promise<R> {
  return isPromiseLike(value) ? Promise.resolve(value).then(next) : next(value);
}

export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}
