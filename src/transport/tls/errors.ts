import { Code } from '../../core/code.js';
import { RpcError, errorMessage } from '../../core/rpc-error.js';

/** OpenSSL's and Node's codes for a server certificate the client does not trust, and what they mean. */
const untrusted: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its certificate is not signed by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'its certificate is not signed by a trusted CA',
  SELF_SIGNED_CERT_IN_CHAIN: 'its certificate chains to a CA that is not trusted',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its certificate is self-signed and not trusted',
  CERT_HAS_EXPIRED: 'its certificate has expired',
  CERT_NOT_YET_VALID: 'its certificate is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate does not name this host',
};

/** Node's message for a socket closed by the server in the middle of the handshake. */
const CLOSED_IN_HANDSHAKE = /disconnected before secure TLS connection was established/i;

/**
 * A failed TLS connection as an `UNAVAILABLE` error that names the cause: an untrusted or
 * misnamed server certificate, a client certificate the server refused, or a peer that does not
 * speak TLS at all. Marked unprocessed: nothing of the call reached the server.
 */
export function tlsFailure(error: unknown, address: string): RpcError {
  const code = readCode(error);
  const cause = untrusted[code] === undefined ? describe(code, errorMessage(error)) : `the server is not trusted: ${untrusted[code]} (${code})`;
  return new RpcError(Code.UNAVAILABLE, `TLS connection to ${address} failed: ${cause}`, { unprocessed: true, cause: error });
}

/** Whether an error of a TLS connection is one that `tlsFailure` can name. */
export function isTlsFailure(error: unknown): boolean {
  const code = readCode(error);
  return untrusted[code] !== undefined || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO' || CLOSED_IN_HANDSHAKE.test(errorMessage(error));
}

function describe(code: string, message: string): string {
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' || /wrong version number|packet length too long/i.test(message)) {
    return 'the server does not speak TLS (a plaintext port?)';
  }
  if (code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL' || /no application protocol/i.test(message)) {
    return 'the server speaks another protocol on this port (no common ALPN protocol: a tls://, https:// or grpcs:// port of another kind?)';
  }
  if (/certificate required|handshake failure|bad certificate|unknown ca/i.test(message)) {
    return `the server refused this client's certificate, or wants one (${code || message})`;
  }
  if (CLOSED_IN_HANDSHAKE.test(message)) {
    return 'the server closed the connection during the handshake (a plaintext port, or one that refused this client?)';
  }
  return code === '' ? message : `${code}: ${message}`;
}

/** The `code` of a caught value, or ''; never throws (a getter or a Proxy trap may). */
function readCode(error: unknown): string {
  try {
    const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
    return typeof code === 'string' ? code : '';
  } catch {
    return '';
  }
}
