import type { TLSSocket } from 'node:tls';
import type { Principal } from '../../core/principal.js';

/**
 * The principal of a TLS client that presented a certificate the server trusts: its id is the
 * subject's common name (else its first subject alternative name), its claims the subject, the
 * SANs and the fingerprint. Undefined for a client without a certificate, or with one the server
 * did not verify (`requireClientCert: false` lets such clients in, anonymous).
 */
export function certificatePrincipal(socket: TLSSocket): Principal | undefined {
  if (!socket.authorized) return undefined;
  const certificate = socket.getPeerCertificate(false);
  if (certificate === null || typeof certificate !== 'object' || certificate.subject === undefined) return undefined;
  const subject = { ...certificate.subject } as Record<string, string | string[]>;
  const sans = subjectAltNames(certificate.subjectaltname);
  const commonName = subject.CN;
  const id = (Array.isArray(commonName) ? commonName[0] : commonName) ?? sans[0] ?? certificate.fingerprint256;
  return {
    id,
    via: 'certificate',
    roles: [],
    scopes: [],
    claims: { subject, sans, issuer: { ...certificate.issuer }, fingerprint256: certificate.fingerprint256, serialNumber: certificate.serialNumber, validTo: certificate.valid_to },
  };
}

/** `DNS:a.example, IP Address:10.0.0.1, URI:spiffe://x` as `['DNS:a.example', 'IP:10.0.0.1', 'URI:spiffe://x']`. */
function subjectAltNames(text: string | undefined): string[] {
  if (text === undefined || text === '') return [];
  return text.split(', ').map((entry) => entry.replace(/^IP Address:/, 'IP:'));
}
