import { createSecureServer, createServer, type Http2SecureServer, type Http2Server, type ServerOptions } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../../core/logger.js';
import { errorMessage } from '../../core/rpc-error.js';
import { serverSecureOptions, type ServerTlsOptions } from '../tls/options.js';

/** The HTTP/2 server of one gRPC address; both kinds emit the same `session` and `stream` events. */
export type Http2Listener = Http2Server | Http2SecureServer;

/**
 * The listener of a `grpc://` address (cleartext HTTP/2 with prior knowledge), or of a `grpcs://`
 * one when `tls` is given: HTTP/2 over TLS, agreed by ALPN `h2` as every gRPC client asks for it.
 * HTTP/1.1 is refused there too (no `allowHTTP1`): gRPC needs HTTP/2's trailers and streams.
 */
export function http2Listener(options: ServerOptions, tls: ServerTlsOptions | undefined, logger: Logger): Http2Listener {
  if (tls === undefined) return createServer(options);
  const server = createSecureServer({ ...options, ...serverSecureOptions(tls), ALPNProtocols: ['h2'], allowHTTP1: false });
  // A client that fails its handshake (untrusted certificate, none where one is required, a
  // plaintext client) is told so by the handshake itself; the server only notes it.
  server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
    logger.debug({ remote: socket.remoteAddress, message: errorMessage(error) }, 'TLS handshake with a grpcs client failed');
  });
  return server;
}

/**
 * Keeps every accepted socket, handshakes still in progress included, until it closes: those have
 * no HTTP/2 session yet, and `forceClose` must end them too.
 */
export function trackSockets(server: Http2Listener, sockets: Set<Socket>): void {
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
}
