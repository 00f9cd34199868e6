import { Code } from '../core/code.js';
import type { Metadata } from '../core/metadata.js';
import type { Principal } from '../core/principal.js';
import { RpcError } from '../core/rpc-error.js';
import { isPromiseLike } from './principals.js';

/** What an `allow` function is told of the call it decides on. */
export interface AccessRequest {
  /** The service's name (`shop.Orders`), without version or group. */
  readonly service: string;
  readonly method: string;
  readonly metadata: Metadata | undefined;
}

/**
 * Who may call a method. With no field set, any authenticated caller may. The fields that are set
 * must all hold: `roles` asks for ANY ONE of the roles, `scopes` for EVERY ONE of the scopes (the
 * way OAuth scopes are granted), `allow` for a yes from the function.
 */
export interface AccessRule {
  /** Callable without credentials (health checks, say). Excludes the other fields. */
  readonly public?: boolean;
  /** The caller needs at least one of these roles. */
  readonly roles?: readonly string[];
  /** The caller needs all of these scopes. */
  readonly scopes?: readonly string[];
  /** Decides from the principal and the call; only ever asked for an authenticated caller. */
  readonly allow?: (principal: Principal, request: AccessRequest) => boolean | Promise<boolean>;
}

/** A service's rule, and rules of its methods that replace it for those methods. */
export interface ServiceAccess extends AccessRule {
  readonly methods?: Readonly<Record<string, AccessRule>>;
}

/**
 * Rules by service name, with `'*'` for every service not named. The most specific entry decides
 * alone: a method's rule, else its service's, else `'*'`'s, else "any authenticated caller".
 *
 * ```ts
 * { '*': { roles: ['staff'] },
 *   'grpc.health.v1.Health': { public: true },
 *   'shop.Orders': { scopes: ['orders:read'], methods: { cancel: { roles: ['admin'] } } } }
 * ```
 */
export type AccessRules = Readonly<Record<string, ServiceAccess>>;

/**
 * A compiled set of rules. `authorize` is a plain function of a principal and a name pair, so that
 * anything that serves calls (a server's gate, an admin listener) can ask the same policy.
 */
export interface AccessPolicy {
  /** The rule deciding `service.method`, and where it came from (for messages). */
  ruleFor(service: string, method: string): DecidingRule;
  /**
   * Returns if `principal` may call `service.method`; throws UNAUTHENTICATED for a missing
   * principal on a non-public method, PERMISSION_DENIED naming the method and what is missing.
   * Returns a promise only when an `allow` function answers with one.
   */
  authorize(principal: Principal | undefined, service: string, method: string, metadata?: Metadata): void | Promise<void>;
}

/** A rule as the policy applies it. */
export interface DecidingRule extends AccessRule {
  /** `shop.Orders.cancel`, `shop.Orders` or `*`: the entry that decided. */
  readonly source: string;
}

const ruleKeys = new Set(['public', 'roles', 'scopes', 'allow']);
const anyAuthenticated: DecidingRule = Object.freeze({ source: 'the default' });

/** Checks and compiles rules; throws INVALID_ARGUMENT naming the first mistake. */
export function accessPolicy(rules: AccessRules = {}): AccessPolicy {
  if (typeof rules !== 'object' || rules === null) throw invalid('the policy must be an object of rules by service name');
  const star = rules['*'];
  if (star?.methods !== undefined) throw invalid(`'*' applies to whole services and cannot name methods`);
  const fallback = star === undefined ? anyAuthenticated : compile(star, '*');
  const services = new Map<string, { rule: DecidingRule; methods: Map<string, DecidingRule> }>();
  for (const [service, entry] of Object.entries(rules)) {
    if (service === '*') continue;
    if (typeof entry !== 'object' || entry === null) throw invalid(`the rule for ${service} must be an object`);
    const { methods, ...own } = entry;
    const methodRules = new Map<string, DecidingRule>();
    for (const [method, rule] of Object.entries(methods ?? {})) methodRules.set(method, compile(rule, `${service}.${method}`));
    // An entry that only lists methods leaves the service's other methods to '*', not to something weaker.
    services.set(service, { rule: Object.values(own).every((value) => value === undefined) ? fallback : compile(own, service), methods: methodRules });
  }

  const ruleFor = (service: string, method: string): DecidingRule => {
    const entry = services.get(service);
    if (entry === undefined) return fallback;
    return entry.methods.get(method) ?? entry.rule;
  };
  return {
    ruleFor,
    authorize: (principal, service, method, metadata) => enforce(ruleFor(service, method), principal, { service, method, metadata }),
  };
}

/** Applies one rule; synchronous unless its `allow` function answers with a promise. */
export function enforce(rule: DecidingRule, principal: Principal | undefined, request: AccessRequest): void | Promise<void> {
  if (rule.public === true) return;
  const target = `${request.service}.${request.method}`;
  if (principal === undefined) throw new RpcError(Code.UNAUTHENTICATED, `missing credentials: ${target} needs an authenticated caller`);
  if (rule.roles !== undefined && !rule.roles.some((role) => principal.roles.includes(role))) {
    throw denied(target, rule.roles.length === 1 ? `the role ${rule.roles[0]!}` : `one of the roles ${rule.roles.join(', ')}`);
  }
  if (rule.scopes !== undefined) {
    const missing = rule.scopes.filter((scope) => !principal.scopes.includes(scope));
    if (missing.length > 0) throw denied(target, `the scope${missing.length === 1 ? '' : 's'} ${missing.join(', ')}`);
  }
  if (rule.allow === undefined) return;
  const allowed = rule.allow(principal, request);
  if (isPromiseLike(allowed)) {
    return Promise.resolve(allowed).then((yes) => {
      if (yes !== true) throw refusedBy(target, rule.source);
    });
  }
  if (allowed !== true) throw refusedBy(target, rule.source);
}

function denied(target: string, missing: string): RpcError {
  return new RpcError(Code.PERMISSION_DENIED, `permission denied: ${target} needs ${missing}`);
}

function refusedBy(target: string, source: string): RpcError {
  return new RpcError(Code.PERMISSION_DENIED, `permission denied: ${target} is refused by the allow function of the policy for ${source}`);
}

function compile(rule: AccessRule, source: string): DecidingRule {
  if (typeof rule !== 'object' || rule === null) throw invalid(`the rule for ${source} must be an object`);
  for (const key of Object.keys(rule)) {
    if (!ruleKeys.has(key)) throw invalid(`the rule for ${source} has an unknown field ${JSON.stringify(key)} (known: public, roles, scopes, allow${source.includes('.') || source === '*' ? '' : ', methods'})`);
  }
  const { public: open, roles, scopes, allow } = rule;
  if (open !== undefined && typeof open !== 'boolean') throw invalid(`public in the rule for ${source} must be a boolean`);
  if (open === true && (roles !== undefined || scopes !== undefined || allow !== undefined)) {
    throw invalid(`the rule for ${source} is public, so it cannot also ask for roles, scopes or allow`);
  }
  if (allow !== undefined && typeof allow !== 'function') throw invalid(`allow in the rule for ${source} must be a function`);
  return Object.freeze({ source, public: open, roles: nameList(roles, 'roles', source), scopes: nameList(scopes, 'scopes', source), allow });
}

function nameList(list: readonly string[] | undefined, what: string, source: string): readonly string[] | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list) || !list.every((name) => typeof name === 'string' && name !== '')) {
    throw invalid(`${what} in the rule for ${source} must be a list of non-empty strings`);
  }
  // An empty list would let no one in, which is rarely what was meant: say so instead.
  if (list.length === 0) throw invalid(`${what} in the rule for ${source} is empty and would refuse everyone; leave it out, or refuse with allow: () => false`);
  return Object.freeze([...list]);
}

function invalid(message: string): RpcError {
  return new RpcError(Code.INVALID_ARGUMENT, `auth policy: ${message}`);
}
