import type { Server as HttpServer } from 'node:http';
import type { ServerHttp2Session } from 'node:http2';
import type { Server as NetServer, Socket } from 'node:net';
import { Server as TlsServer, type TLSSocket } from 'node:tls';
import { awaitFirstRequest } from './first-request.js';
import type { ServerLimits } from './server-limits.js';

/**
 * How a listener's protocol shows that a connection has sent its first request:
 * - `tcp` (tcp://, tls://): its first frame, which the connection reports with `firstRequestArrived`;
 * - `http` (http://, https://): a request head, which the transport's request handler reports with `firstRequestArrived`;
 * - `http2` (grpc://, grpcs://): a stream on the connection's session, seen here.
 */
export type ListenerKind = 'tcp' | 'http' | 'http2';

/** What a plain HTTP/1.1 client over the connection limit reads before the connection closes. */
const HTTP_503 = 'HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n';
const HTTP_408 = 'HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n';
/** GOAWAY debug data that Switchyard's gRPC clients take for an idle close, not for a server leaving. */
const IDLE = Buffer.from('idle');
const NGHTTP2_NO_ERROR = 0;
/** Time a GOAWAY gets to go out before a session that ignores it is destroyed. */
const GOAWAY_GRACE_MS = 1000;

/**
 * Puts a listener (any `net.Server`: plain, TLS, HTTP/1.1, HTTP/2) under its server's limits. Every
 * accepted socket, before TLS or any protocol sees it, takes a place among the server's connections
 * or is closed; then it has `firstRequestTimeoutMs` (from the end of its TLS handshake) to deliver
 * a first request. A TLS handshake that fails or times out ends its connection; Node reports the
 * timeout (`handshakeTimeoutMs`) but leaves the socket open (nodejs/node-v0.x-archive#4383).
 */
export function guardListener(server: NetServer, kind: ListenerKind, limits: ServerLimits): void {
  const secure = server instanceof TlsServer;
  const timeoutMs = limits.values.firstRequestTimeoutMs;
  const timedOut = (socket: Socket): void => {
    limits.refusals.refuse('firstRequestTimeoutMs', { remote: socket.remoteAddress, kind });
    if (kind === 'http') socket.write(HTTP_408);
    socket.destroy();
  };
  // Prepended: the connection is refused before TLS, HTTP or HTTP/2 has set anything up for it.
  server.prependListener('connection', (socket: Socket) => {
    if (!limits.admit(socket)) {
      if (kind === 'http' && !secure) socket.write(HTTP_503);
      socket.destroy();
      return;
    }
    if (secure || kind === 'http2') return;
    if (kind === 'http') countHttpRefusals(socket, limits);
    awaitFirstRequest(socket, timeoutMs, timedOut);
  });
  if (secure) {
    server.on('tlsClientError', (error: Error & { code?: string }, socket: TLSSocket) => {
      if (error.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') limits.refusals.refuse('handshakeTimeoutMs', { remote: socket.remoteAddress, kind });
      socket.destroy();
    });
    if (kind !== 'http2') {
      server.prependListener('secureConnection', (socket: TLSSocket) => {
        if (kind === 'http') countHttpRefusals(socket, limits);
        awaitFirstRequest(socket, timeoutMs, timedOut);
      });
    }
  }
  if (kind === 'http') guardHttp(server as HttpServer, limits);
  if (kind === 'http2') server.on('session', (session: ServerHttp2Session) => awaitFirstStream(session, timeoutMs, limits));
}

/**
 * HTTP/1.1: the request head may be `maxMetadataBytes` long (Node answers a longer one 431), and
 * every later head on a connection must arrive within the first-request time (Node answers 408).
 */
function guardHttp(server: HttpServer, limits: ServerLimits): void {
  // The transport's own request handler tells `firstRequestArrived` (src/transport/http/server.ts):
  // a second 'request' listener would make Node copy its listener array on every request.
  (server as { maxHeaderSize?: number }).maxHeaderSize = finiteOr(limits.values.maxMetadataBytes, 0);
  const { firstRequestTimeoutMs } = limits.values;
  if (Number.isFinite(firstRequestTimeoutMs)) server.headersTimeout = Math.min(firstRequestTimeoutMs, server.requestTimeout || firstRequestTimeoutMs);
}

/** Node's HTTP parser ends a connection with these errors after answering 431 or 408 itself: counted here. */
function countHttpRefusals(socket: Socket, limits: ServerLimits): void {
  socket.on('error', (error: Error & { code?: string }) => {
    if (error.code === 'HPE_HEADER_OVERFLOW') limits.refusals.refuse('maxMetadataBytes', { remote: socket.remoteAddress, kind: 'http' });
    else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') limits.refusals.refuse('firstRequestTimeoutMs', { remote: socket.remoteAddress, kind: 'http' });
  });
}

/** HTTP/2: a session must open a stream within the time, or it is told GOAWAY (as an idle one) and closed. */
function awaitFirstStream(session: ServerHttp2Session, timeoutMs: number, limits: ServerLimits): void {
  if (!Number.isFinite(timeoutMs)) return;
  const timer = setTimeout(() => {
    if (session.closed || session.destroyed) return;
    limits.refusals.refuse('firstRequestTimeoutMs', { remote: session.socket?.remoteAddress, kind: 'http2' });
    try {
      session.goaway(NGHTTP2_NO_ERROR, 0, IDLE);
      session.close();
    } catch {
      // a session whose client never finished its preface may refuse even that
    }
    setTimeout(() => session.destroy(), GOAWAY_GRACE_MS).unref();
  }, timeoutMs).unref();
  const disarm = (): void => clearTimeout(timer);
  session.once('stream', disarm);
  session.once('close', disarm);
}

function finiteOr(value: number, fallback: number): number {
  return Number.isFinite(value) ? value : fallback;
}
