/**
 * Who is calling, as the server established it: from the client's TLS certificate, or from a
 * credential the call carried (a bearer token, a JWT). Handlers and interceptors read it as
 * `currentCall().principal`; authorization policies decide on its roles and scopes.
 */
export interface Principal {
  /** The caller's name: a JWT's `sub`, a certificate's common name (or first SAN), a token's owner. */
  readonly id: string;
  /** How the server knows: `certificate`, `token`, `jwt`, or the name a custom authenticator gives. */
  readonly via: string;
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  /** What the credential said: a JWT's payload, a certificate's subject, SANs and fingerprint. */
  readonly claims: Readonly<Record<string, unknown>>;
}
