export { authGate, type ServerAuthOptions } from './auth-gate.js';
export { accessPolicy, type AccessPolicy, type AccessRequest, type AccessRule, type AccessRules, type DecidingRule, type ServiceAccess } from './policy.js';
export { AUTHORIZATION, bearerTokenOf } from './authorization.js';
export { type BearerTokens } from './token-table.js';
export { jwtVerifier, type JwtOptions, type JwksOptions, type JwtVerifier } from './jwt-verifier.js';
export { jwtSigner, type JwtSignerOptions } from './jwt-signer.js';
export { checkCredentials, sendWithCredentials, type Credentials, type TokenRequest, type TokenSource } from './credentials.js';
export { type PrincipalInit } from './principals.js';
export { tokenGate, providerToken } from './provider-token.js';
