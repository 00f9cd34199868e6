import { readFileSync } from 'node:fs';
import type { ConnectionOptions, SecureContextOptions, SecureVersion, TlsOptions } from 'node:tls';
import { Code } from '../../core/code.js';
import { RpcError, errorMessage } from '../../core/rpc-error.js';

/**
 * A certificate, key or CA bundle: PEM text (a string that starts with `-----BEGIN`), a Buffer of
 * PEM, or the path of a PEM file. Given as a path, it is read again when the file changes.
 */
export type PemSource = string | Buffer;

/** TLS of a server's listeners (`tls://`, `https://`, `grpcs://`). */
export interface ServerTlsOptions {
  key: PemSource;
  cert: PemSource;
  /** CAs that client certificates must chain to; setting it asks clients for a certificate. */
  ca?: PemSource | PemSource[];
  /** Refuse a client that presents no certificate trusted by `ca`. Default false. */
  requireClientCert?: boolean;
  passphrase?: string;
  /** Default `TLSv1.2`. */
  minVersion?: SecureVersion;
  ciphers?: string;
  /** Re-read key, cert and ca when a file given by path changes, without a restart. Default true. */
  reload?: boolean;
  /** How long a client may take to finish its handshake before it is cut off. Default 10000 ms. */
  handshakeTimeoutMs?: number;
}

/** TLS of a client's connections to `tls://`, `https://`, `grpcs://` and `amqps://` addresses. */
export interface ClientTlsOptions {
  /** CAs to trust instead of Node's built-in list (a private CA, say). */
  ca?: PemSource | PemSource[];
  /** A client certificate and its key, for servers that require one (mTLS). */
  key?: PemSource;
  cert?: PemSource;
  passphrase?: string;
  /** The name the server's certificate must carry; default the address's host. */
  servername?: string;
  /** Default true. Turning it off accepts any server: for tests against a throw-away certificate only. */
  rejectUnauthorized?: boolean;
  minVersion?: SecureVersion;
}

/** Whether the scheme of an address is one of the TLS ones. */
export function isSecureScheme(protocol: string): boolean {
  return protocol === 'tls' || protocol === 'https' || protocol === 'grpcs' || protocol === 'amqps';
}

/** The files among the sources, which a reload watches. */
export function pemFiles(options: ServerTlsOptions | ClientTlsOptions): string[] {
  const sources = [options.key, options.cert, ...[options.ca ?? []].flat()];
  return sources.filter((source): source is string => typeof source === 'string' && !isPemText(source));
}

/**
 * The TLS options a TLS listener at `address` serves with; INVALID_ARGUMENT, naming the listener,
 * when the server was given none.
 */
export function listenerTls(options: ServerTlsOptions | undefined, address: string): ServerTlsOptions {
  if (options === undefined) {
    throw new RpcError(Code.INVALID_ARGUMENT, `${address} is a TLS listener, and the server has no tls option: give createServer({ tls: { key, cert } })`);
  }
  return options;
}

/** Key, certificate and CAs read now, for `tls.createServer` or `setSecureContext`. */
export function serverSecureOptions(options: ServerTlsOptions): TlsOptions {
  const ca = options.ca === undefined ? undefined : readPems(options.ca, 'ca');
  return {
    key: readPem(options.key, 'key'),
    cert: readPem(options.cert, 'cert'),
    ca,
    passphrase: options.passphrase,
    minVersion: options.minVersion ?? 'TLSv1.2',
    ciphers: options.ciphers,
    requestCert: ca !== undefined || options.requireClientCert === true,
    rejectUnauthorized: options.requireClientCert === true,
    handshakeTimeout: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
  };
}

/** The part of `serverSecureOptions` that `setSecureContext` takes. */
export function contextOptions(options: TlsOptions): SecureContextOptions {
  const { key, cert, ca, passphrase, minVersion, ciphers } = options;
  return { key, cert, ca, passphrase, minVersion, ciphers };
}

/** Options for `tls.connect` (and what wraps it) to reach `host`, read now. */
export function clientSecureOptions(options: ClientTlsOptions, host: string): ConnectionOptions {
  const servername = options.servername ?? (isIp(host) ? undefined : host);
  return {
    ca: options.ca === undefined ? undefined : readPems(options.ca, 'ca'),
    key: options.key === undefined ? undefined : readPem(options.key, 'key'),
    cert: options.cert === undefined ? undefined : readPem(options.cert, 'cert'),
    passphrase: options.passphrase,
    servername,
    rejectUnauthorized: options.rejectUnauthorized ?? true,
    minVersion: options.minVersion ?? 'TLSv1.2',
  };
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * The ALPN name of the binary protocol over TLS (`tls://`). Both sides offer it, so that a
 * `tls://` client reaching an `https://` or `grpcs://` port (or the other way round) fails in the
 * handshake, with an error that says so, instead of exchanging bytes the other side cannot read.
 */
export const SWITCHYARD_ALPN = 'switchyard';

function readPems(sources: PemSource | PemSource[], what: string): Buffer[] {
  return [sources].flat().map((source) => readPem(source, what));
}

function readPem(source: PemSource, what: string): Buffer {
  if (Buffer.isBuffer(source)) return source;
  if (typeof source !== 'string') throw new RpcError(Code.INVALID_ARGUMENT, `tls.${what} must be PEM text, a Buffer or a file path`);
  if (isPemText(source)) return Buffer.from(source);
  try {
    return readFileSync(source);
  } catch (error) {
    throw new RpcError(Code.INVALID_ARGUMENT, `cannot read tls.${what} from ${source}: ${errorMessage(error)}`);
  }
}

function isPemText(source: string): boolean {
  return source.trimStart().startsWith('-----BEGIN');
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
