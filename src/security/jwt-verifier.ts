import type { KeyObject } from 'node:crypto';
import type { CryptoKey, JSONWebKeySet, JWK, JWTPayload, JWTVerifyGetKey } from 'jose';
import { Code } from '../core/code.js';
import type { Logger } from '../core/logger.js';
import type { Principal } from '../core/principal.js';
import { RpcError, errorMessage } from '../core/rpc-error.js';
import { principalOfClaims } from './claims.js';
import { loadJose, type Jose } from './jose.js';

/** Where a remote key set is, and how it is cached. */
export interface JwksOptions {
  url: string | URL;
  /** How long fetched keys are used before they are fetched again. Default 600000 ms (10 min). */
  cacheMaxAgeMs?: number;
  /** After a fetch, a token signed by an unknown key does not fetch again for this long. Default 30000 ms. */
  cooldownMs?: number;
  /** How long a fetch may take. Default 5000 ms. */
  timeoutMs?: number;
}

/** How the server verifies JSON Web Tokens. Give `key` or `jwks`. */
export interface JwtOptions {
  /**
   * The verification key: a public key (`KeyObject`, `CryptoKey`, a JWK), a key set (`{ keys: [...] }`),
   * or an HMAC secret (a string, taken as UTF-8, or bytes).
   */
  key?: KeyObject | CryptoKey | JWK | JSONWebKeySet | Uint8Array | string;
  /** The issuer's JWKS endpoint (`https://issuer.example/.well-known/jwks.json`), or its options. */
  jwks?: string | URL | JwksOptions;
  /** Accepted `iss` values. Default: any. */
  issuer?: string | string[];
  /** Accepted `aud` values; a token must name one of them. Default: any. */
  audience?: string | string[];
  /** Accepted `alg` values, e.g. `['ES256']`. Default: any the key can verify. */
  algorithms?: string[];
  /** Leeway for `exp`, `nbf` and `iat` against clocks that disagree. Default 60 s. */
  clockToleranceSeconds?: number;
  /** Claims a token must carry besides `sub`. Default `['exp']`, so that no token lasts for ever. */
  requiredClaims?: string[];
  /** The claim holding the roles: a name, or a dotted path (`realm_access.roles`). Default `roles`. */
  rolesClaim?: string;
}

/** Verifies a token: its principal, or a rejection (UNAUTHENTICATED, or UNAVAILABLE if the keys cannot be fetched). */
export type JwtVerifier = (token: string) => Promise<Principal>;

/** The verifier for `options`; throws INVALID_ARGUMENT for options it cannot use. */
export function jwtVerifier(options: JwtOptions, logger: Logger): JwtVerifier {
  // Checked now, made on the first token: jose is loaded only by a server that verifies one.
  const makeKey = keyOf(options, logger);
  if (options.audience === undefined) {
    logger.warn({}, 'auth.jwt has no audience: tokens the issuer made for any other service are accepted here too');
  }
  const verifyOptions = {
    issuer: options.issuer,
    audience: options.audience,
    algorithms: options.algorithms,
    clockTolerance: options.clockToleranceSeconds ?? 60,
    requiredClaims: [...new Set(['sub', ...(options.requiredClaims ?? ['exp'])])],
  };
  const rolesClaim = options.rolesClaim ?? 'roles';
  let ready: Promise<{ jose: Jose; key: VerifyKey }> | undefined;
  return async (token) => {
    ready ??= loadJose().then((jose) => ({ jose, key: makeKey(jose) }));
    const { jose, key } = await ready;
    let payload: JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, key, verifyOptions));
    } catch (error) {
      throw refusal(error, jose);
    }
    return principalOfClaims(payload, rolesClaim);
  };
}

/** A key set that cannot be fetched or read: the server's trouble, not the caller's. */
class KeySetUnavailable extends Error {}

type VerifyKey = Parameters<Jose['jwtVerify']>[1];

/** Checks the key options now; the key itself is made once jose is loaded. */
function keyOf(options: JwtOptions, logger: Logger): (jose: Jose) => VerifyKey {
  const { key, jwks } = options;
  if ((key === undefined) === (jwks === undefined)) throw new RpcError(Code.INVALID_ARGUMENT, 'auth.jwt needs exactly one of key and jwks');
  if (jwks !== undefined) return remoteKeys(typeof jwks === 'string' || jwks instanceof URL ? { url: jwks } : jwks, logger);
  if (typeof key === 'string') {
    if (key.length === 0) throw new RpcError(Code.INVALID_ARGUMENT, 'auth.jwt.key must not be empty');
    const secret = new TextEncoder().encode(key);
    return () => secret;
  }
  if (typeof key === 'object' && key !== null && Array.isArray((key as JSONWebKeySet).keys)) return (jose) => jose.createLocalJWKSet(key as JSONWebKeySet);
  const given = key as Exclude<JwtOptions['key'], string | JSONWebKeySet | undefined>;
  return () => given;
}

function remoteKeys(options: JwksOptions, logger: Logger): (jose: Jose) => JWTVerifyGetKey {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new RpcError(Code.INVALID_ARGUMENT, `auth.jwt.jwks is not a URL: ${JSON.stringify(String(options.url))}`);
  }
  const where = `${url.origin}${url.pathname}`;
  return ({ createRemoteJWKSet, errors }) => {
    const keys = createRemoteJWKSet(url, { cacheMaxAge: options.cacheMaxAgeMs, cooldownDuration: options.cooldownMs, timeoutDuration: options.timeoutMs });
    return async (header, token) => {
      try {
        return await keys(header, token);
      } catch (error) {
        // An unknown key is the token's fault; anything else (a fetch that failed, a body that is no
        // key set) is the server's, and a caller with a good token may try again later.
        if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
        logger.warn({ jwks: where, message: errorMessage(error) }, 'cannot fetch the JWT key set');
        throw new KeySetUnavailable(`the key set at ${where} cannot be fetched (${errorMessage(error)})`);
      }
    };
  };
}

/** What a caller is told about a token that was not accepted: why, never the token. */
function refusal(error: unknown, { errors }: Jose): RpcError {
  if (error instanceof KeySetUnavailable) return new RpcError(Code.UNAVAILABLE, `cannot verify the JWT now: ${error.message}`);
  if (error instanceof errors.JWTExpired) return jwtRefused('it has expired', error);
  if (error instanceof errors.JWTClaimValidationFailed) return jwtRefused(claimProblem(error.claim, error.reason), error);
  if (error instanceof errors.JWSSignatureVerificationFailed) return jwtRefused('its signature does not verify', error);
  if (error instanceof errors.JOSEAlgNotAllowed) return jwtRefused('its algorithm is not accepted', error);
  if (error instanceof errors.JWKSNoMatchingKey) return jwtRefused('no key of the key set matches it', error);
  if (error instanceof errors.JOSEError) return jwtRefused(`it is malformed (${error.message})`, error);
  return new RpcError(Code.INTERNAL, `cannot verify the JWT: ${errorMessage(error)}`);
}

function claimProblem(claim: string, reason: string): string {
  if (reason === 'missing') return `it has no "${claim}" claim`;
  if (reason === 'invalid') return `its "${claim}" claim is malformed`;
  if (claim === 'aud') return 'it is not meant for this audience';
  if (claim === 'iss') return 'its issuer is not accepted';
  if (claim === 'nbf') return 'it is not valid yet';
  if (claim === 'iat') return 'it was issued in the future';
  return `its "${claim}" claim is not accepted`;
}

function jwtRefused(why: string, error: Error): RpcError {
  return new RpcError(Code.UNAUTHENTICATED, `JWT refused: ${why} (${error.message})`);
}
