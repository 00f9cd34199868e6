import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { Code } from '../../core/code.js';
import { RpcError } from '../../core/rpc-error.js';
import { isTlsFailure, tlsFailure } from '../tls/errors.js';
import { clientSecureOptions, type ClientTlsOptions } from '../tls/options.js';

/** Where one gRPC connection goes, and how: `tls` set for a `grpcs://` address. */
export interface DialTarget {
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly tls: ConnectionOptions | undefined;
}

/**
 * The TLS settings of a `grpcs://` address, read now (a certificate file replaced since the last
 * connection is read again); undefined for `grpc://`. A file that cannot be read is the caller's
 * mistake, INVALID_ARGUMENT, not a server that is down.
 */
export function dialTls(secure: boolean, options: ClientTlsOptions | undefined, host: string): ConnectionOptions | undefined {
  if (!secure) return undefined;
  try {
    return clientSecureOptions(options ?? {}, host);
  } catch (error) {
    const failure = RpcError.from(error, Code.INVALID_ARGUMENT);
    throw new RpcError(failure.code, failure.message, { unprocessed: true, cause: error });
  }
}

/**
 * The socket under one HTTP/2 connection: TCP for `grpc://` (h2c with prior knowledge); for
 * `grpcs://`, TLS that must agree on HTTP/2 by ALPN, as every gRPC server offers it. A TLS server
 * that answers without `h2` (an HTTPS server of HTTP/1.1, say) would take the HTTP/2 preface for
 * garbage; the connection is ended at once, naming why.
 */
export function dialSocket(target: DialTarget): Socket {
  if (target.tls === undefined) return connectTcp({ host: target.host, port: target.port, noDelay: true });
  const socket = connectTls({ ...target.tls, host: target.host, port: target.port, ALPNProtocols: ['h2'] });
  socket.setNoDelay(true);
  // Node 20's HTTP/2 session does not end a TLS socket that fails after its handshake (TLS 1.3
  // servers send "certificate required" then): the session would wait forever. Ending the socket
  // hands the session the error.
  socket.on('error', () => {
    if (!socket.destroyed) socket.destroy();
  });
  socket.once('secureConnect', () => {
    if (socket.alpnProtocol === 'h2') return;
    const answered = typeof socket.alpnProtocol === 'string' ? `ALPN ${socket.alpnProtocol}` : 'no ALPN protocol';
    socket.destroy(new Error(`the server did not agree to HTTP/2 over TLS: it answered ALPN h2 with ${answered}`));
  });
  return socket;
}

/** What `connectFailure` is given for a connection the server ended before its HTTP/2 SETTINGS, without an error. */
export function closedBeforeSettings(): Error {
  return Object.assign(new Error('the server closed the connection before its HTTP/2 SETTINGS'), { code: CLOSED_EARLY });
}

/**
 * Why a connection attempt failed, in words that point at the fix: a TLS failure names its cause
 * (untrusted or misnamed certificate, a client certificate refused or missing, a plaintext port).
 * A connection ended without a word before the server's SETTINGS is what a TLS server does to a
 * plaintext HTTP/2 preface, and what Node's TLS server does, right after the handshake, to a client
 * certificate it does not trust: the message says so.
 */
export function connectFailure(error: Error, target: DialTarget): RpcError {
  if (target.tls !== undefined && isTlsFailure(error)) return tlsFailure(error, target.address);
  let hint = '';
  if (codeOf(error) === CLOSED_EARLY || codeOf(error) === 'ECONNRESET') {
    hint = target.tls === undefined
      ? ' (a TLS server closes a plaintext HTTP/2 connection this way: if it is a TLS port, call it at a grpcs:// address)'
      : ': after the TLS handshake, this is how a server that requires client certificates turns away a client without a trusted one';
  }
  return new RpcError(Code.UNAVAILABLE, `cannot connect to ${target.address}: ${error.message}${hint}`, { unprocessed: true, cause: error });
}

const CLOSED_EARLY = 'SWITCHYARD_CLOSED_BEFORE_SETTINGS';

function codeOf(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : '';
}
