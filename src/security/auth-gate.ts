import { Code } from '../core/code.js';
import type { CallGate, GateRequest } from '../core/gate.js';
import type { Logger } from '../core/logger.js';
import type { Principal } from '../core/principal.js';
import { RpcError } from '../core/rpc-error.js';
import { bearerTokenOf } from './authorization.js';
import { tokenLookup, type BearerTokens, type TokenLookup } from './token-table.js';
import { jwtVerifier, type JwtOptions, type JwtVerifier } from './jwt-verifier.js';
import { accessPolicy, enforce, type AccessPolicy, type AccessRules } from './policy.js';
import { principalOf, then, type PrincipalInit } from './principals.js';

/**
 * Who may call the server, and what. Callers authenticate with a bearer token (`tokens` or `jwt`)
 * sent as `authorization: Bearer <token>` metadata, or with their TLS client certificate
 * (`certificate`); the policy then decides per service and method. See docs/security.md.
 *
 * ```ts
 * createServer({ listen, auth: {
 *   jwt: { jwks: 'https://id.example/.well-known/jwks.json', issuer: 'https://id.example', audience: 'shop' },
 *   policy: { 'grpc.health.v1.Health': { public: true }, 'shop.Orders': { roles: ['clerk'] } },
 * } });
 * ```
 */
export interface ServerAuthOptions {
  /** Opaque bearer tokens: a table from token to principal, or a lookup function. */
  tokens?: BearerTokens;
  /** JSON Web Tokens, verified with a key or a JWKS endpoint. Asked for tokens that `tokens` does not know. */
  jwt?: JwtOptions;
  /**
   * Accept the identity of the connection's verified TLS client certificate (mTLS) when a call
   * carries no token: `true` as it is, or a function that adds roles and scopes (or answers
   * undefined to treat the caller as anonymous). Not available over AMQP, whose broker ends TLS.
   */
  certificate?: boolean | ((peer: Principal) => Partial<PrincipalInit> | undefined | Promise<Partial<PrincipalInit> | undefined>);
  /** Rules by service and method; by default every call needs an authenticated caller. */
  policy?: AccessRules | AccessPolicy;
}

const optionKeys = new Set(['tokens', 'jwt', 'certificate', 'policy']);

/**
 * The gate a server asks before decoding a call's arguments: establishes the caller's principal,
 * then applies the policy. Answers synchronously unless a lookup, a JWT or an `allow` function
 * must wait. Refuses with UNAUTHENTICATED (no or bad credentials) or PERMISSION_DENIED.
 */
export function authGate(options: ServerAuthOptions, logger: Logger): CallGate {
  for (const key of Object.keys(options)) if (!optionKeys.has(key)) throw new RpcError(Code.INVALID_ARGUMENT, `auth: unknown option ${JSON.stringify(key)}`);
  const lookup = options.tokens === undefined ? undefined : tokenLookup(options.tokens);
  const verify = options.jwt === undefined ? undefined : jwtVerifier(options.jwt, logger);
  const certificate = certificateMapper(options.certificate);
  if (lookup === undefined && verify === undefined && certificate === undefined) {
    throw new RpcError(Code.INVALID_ARGUMENT, 'auth needs a way to authenticate callers: tokens, jwt or certificate');
  }
  const policy = isPolicy(options.policy) ? options.policy : accessPolicy(options.policy);
  const authenticate = bearerAuthenticator(lookup, verify);

  const decide = (request: GateRequest): Principal | undefined | Promise<Principal | undefined> => {
    const service = request.service.key.name;
    const rule = policy.ruleFor(service, request.method);
    const token = bearerTokenOf(request.metadata);
    const principal = token !== undefined ? authenticate(token) : request.peer !== undefined && certificate !== undefined ? certificate(request.peer) : undefined;
    return then(principal, (caller) => then(enforce(rule, caller, { service, method: request.method, metadata: request.metadata }), () => caller));
  };

  return {
    admit(request) {
      try {
        const admitted = decide(request);
        return admitted instanceof Promise ? admitted.catch((error: unknown) => refused(request, error, logger)) : admitted;
      } catch (error) {
        return refused(request, error, logger);
      }
    },
  };
}

/** Turns a token into a principal: the `tokens` lookup first, then JWT verification for tokens shaped like one. */
function bearerAuthenticator(lookup: TokenLookup | undefined, verify: JwtVerifier | undefined): (token: string) => Principal | Promise<Principal> {
  const asJwt = (token: string): Principal | Promise<Principal> => {
    if (verify !== undefined && isJwtShaped(token)) return verify(token);
    if (lookup === undefined && verify === undefined) throw new RpcError(Code.UNAUTHENTICATED, 'bearer tokens are not accepted here; authenticate with a client certificate');
    throw new RpcError(Code.UNAUTHENTICATED, verify === undefined ? 'unknown bearer token' : 'the bearer token is neither a known token nor a JWT');
  };
  if (lookup === undefined) return asJwt;
  return (token) => then(lookup(token), (principal) => principal ?? asJwt(token));
}

function certificateMapper(option: ServerAuthOptions['certificate']): ((peer: Principal) => Principal | undefined | Promise<Principal | undefined>) | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return (peer) => peer;
  if (typeof option !== 'function') throw new RpcError(Code.INVALID_ARGUMENT, 'auth.certificate must be true, false or a function');
  return (peer) => then(option(peer), (init) => (init === undefined ? undefined : principalOf({ ...peer, ...init, via: 'certificate' }, 'certificate')));
}

/** A compact JWS: three base64url parts. */
function isJwtShaped(token: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token);
}

function isPolicy(value: ServerAuthOptions['policy']): value is AccessPolicy {
  return typeof (value as Partial<AccessPolicy> | undefined)?.authorize === 'function' && typeof (value as Partial<AccessPolicy>).ruleFor === 'function';
}

/** Logs a refusal (at debug: refusals are what an attacker can make many of) and throws it on. */
function refused(request: GateRequest, error: unknown, logger: Logger): never {
  const failure = RpcError.from(error, Code.INTERNAL);
  const entry = { service: request.service.id, method: request.method, protocol: request.protocol, code: failure.code, message: failure.message };
  if (failure.code === Code.INTERNAL || failure.code === Code.UNAVAILABLE) logger.warn(entry, 'call refused: authentication failed');
  else logger.debug(entry, 'call refused');
  throw failure;
}
