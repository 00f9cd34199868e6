import { KeyObject, randomUUID } from 'node:crypto';
import type { CryptoKey, JWK } from 'jose';
import { loadJose } from './jose.js';
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import type { TokenSource } from './credentials.js';

export interface JwtSignerOptions {
  /** The signing key: a private key (`KeyObject`, `CryptoKey`, a private JWK) or an HMAC secret (string or bytes). */
  key: KeyObject | CryptoKey | JWK | Uint8Array | string;
  /** `alg` of the tokens. Default: HS256 for secrets, else from the key (ES256 for P-256, EdDSA, RS256...). */
  algorithm?: string;
  /** `kid` header, so that a server with a key set picks the right key. Default: the JWK's `kid`. */
  keyId?: string;
  issuer?: string;
  audience?: string | string[];
  /** `sub`: who the tokens speak for. */
  subject: string;
  /** Lifetime of each token. Default 300 s. */
  ttlSeconds?: number;
  /** Further claims, e.g. `{ roles: ['clerk'], scope: 'orders:read' }`. */
  claims?: Record<string, unknown>;
  /** A new token is signed once the current one has less than this left. Default a quarter of `ttlSeconds`, at most 60 s. */
  refreshBeforeSeconds?: number;
}

/**
 * A token source for a client's `credentials` that signs its own short-lived JWTs, reuses each
 * until shortly before it expires, then signs the next. Calls made while one is being signed share it.
 *
 * ```ts
 * createClient({ url, credentials: jwtSigner({ key: privateKey, issuer: 'billing', audience: 'shop', subject: 'billing-worker' }) });
 * ```
 */
export function jwtSigner(options: JwtSignerOptions): TokenSource {
  const ttlSeconds = options.ttlSeconds ?? 300;
  if (!(ttlSeconds > 0)) throw new RpcError(Code.INVALID_ARGUMENT, 'jwtSigner: ttlSeconds must be above 0');
  const refreshBeforeMs = 1000 * (options.refreshBeforeSeconds ?? Math.min(60, ttlSeconds / 4));
  const key = typeof options.key === 'string' ? new TextEncoder().encode(options.key) : options.key;
  const algorithm = options.algorithm ?? algorithmOf(key);
  const keyId = options.keyId ?? (isJwk(key) ? key.kid : undefined);
  if (typeof options.subject !== 'string' || options.subject === '') throw new RpcError(Code.INVALID_ARGUMENT, 'jwtSigner: subject must be a non-empty string');

  let current: { token: string | Promise<string>; refreshAt: number } | undefined;
  const sign = async (): Promise<string> => {
    const { SignJWT } = await loadJose();
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT({ ...options.claims })
      .setProtectedHeader(keyId === undefined ? { alg: algorithm, typ: 'JWT' } : { alg: algorithm, typ: 'JWT', kid: keyId })
      .setSubject(options.subject)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .setJti(randomUUID());
    if (options.issuer !== undefined) jwt.setIssuer(options.issuer);
    if (options.audience !== undefined) jwt.setAudience(options.audience);
    return jwt.sign(key);
  };

  return () => {
    if (current !== undefined && Date.now() < current.refreshAt) return current.token;
    const signing = sign();
    const entry = { token: signing as string | Promise<string>, refreshAt: Date.now() + ttlSeconds * 1000 - refreshBeforeMs };
    current = entry;
    signing.then((token) => {
      // Once signed, the token is handed out as it is: no promise, no turn of the event loop.
      if (current === entry) entry.token = token;
    }, () => {
      // A failed signing is not kept: the next call tries again.
      if (current === entry) current = undefined;
    });
    return signing;
  };
}

function algorithmOf(key: JwtSignerOptions['key']): string {
  if (key instanceof Uint8Array) return 'HS256';
  if (key instanceof KeyObject) {
    if (key.type === 'secret') return 'HS256';
    const curve = key.asymmetricKeyDetails?.namedCurve;
    switch (key.asymmetricKeyType) {
      case 'ec':
        if (curve === 'prime256v1' || curve === 'P-256') return 'ES256';
        if (curve === 'secp384r1' || curve === 'P-384') return 'ES384';
        if (curve === 'secp521r1' || curve === 'P-521') return 'ES512';
        break;
      case 'ed25519':
        return 'EdDSA';
      case 'rsa':
        return 'RS256';
      case 'rsa-pss':
        return 'PS256';
    }
  }
  if (isCryptoKey(key)) {
    const { name, namedCurve, hash } = key.algorithm;
    const bits = hash?.name.replace('SHA-', '');
    if (name === 'ECDSA' && namedCurve !== undefined) return { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[namedCurve] ?? unknownAlgorithm();
    if (name === 'Ed25519') return 'EdDSA';
    if (name === 'RSASSA-PKCS1-v1_5' && bits !== undefined) return `RS${bits}`;
    if (name === 'RSA-PSS' && bits !== undefined) return `PS${bits}`;
    if (name === 'HMAC' && bits !== undefined) return `HS${bits}`;
  }
  if (isJwk(key) && typeof key.alg === 'string') return key.alg;
  return unknownAlgorithm();
}

function unknownAlgorithm(): never {
  throw new RpcError(Code.INVALID_ARGUMENT, 'jwtSigner: cannot tell the algorithm from this key; give algorithm');
}

/** A Web Crypto key (what jose's `generateKeyPair` and `importPKCS8` make), by its shape. */
function isCryptoKey(key: unknown): key is { algorithm: { name: string; namedCurve?: string; hash?: { name: string } } } {
  return typeof key === 'object' && key !== null && !(key instanceof KeyObject) && Array.isArray((key as { usages?: unknown }).usages)
    && typeof (key as { algorithm?: { name?: unknown } }).algorithm?.name === 'string';
}

function isJwk(key: unknown): key is JWK {
  return typeof key === 'object' && key !== null && !(key instanceof KeyObject) && !(key instanceof Uint8Array) && typeof (key as JWK).kty === 'string';
}
