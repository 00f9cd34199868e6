import { constants, type Http2SecureServer, type IncomingHttpHeaders, type ServerOptions, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { Code } from '../../core/code.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';
import { MAX_TIMER_MS } from '../../core/timer.js';
import { parseAddress } from '../address.js';
import type { TcpServerOptions } from '../tcp/server.js';
import { listenerTls } from '../tls/options.js';
import { reloadOnChange } from '../tls/reload.js';
import { ConnectionRecord, peerAddress } from '../connection-record.js';
import type { ConnectionInfo, ServerContext, ServerTransport } from '../transport.js';
import { ACCEPT_ENCODING, isEncoding, type Encoding } from './compression.js';
import { parseContentType } from './content-type.js';
import type { ExchangeEnv } from './exchange-env.js';
import { Exchange } from './handler.js';
import { http2Listener, trackSockets, type Http2Listener } from './listener.js';
import { readMetadata } from './metadata.js';
import { IDLE_GOAWAY, serverSettings, type GrpcServerSettings } from './options.js';
import { plainHttp, trailersOnly } from './response.js';
import { Router } from './route.js';
import { SessionGuard } from './session-guard.js';
import { parseTimeout } from './timeout.js';

/** Resets nghttp2 may take before the session guard's own, finer rule: high enough never to bind first. */
const nghttp2ResetLimit: Record<string, number> = { streamResetBurst: 100_000, streamResetRate: 10_000 };

/** Sweeps (one each `idleTimeoutMs`) a connection must stay idle through before it is closed. */
const IDLE_SWEEPS = 4;
/** Time a GOAWAY gets to reach the socket before the connection it closes is destroyed. */
const GOAWAY_FLUSH_MS = 100;

/**
 * Serves the call table on one `grpc://host:port` address: gRPC over cleartext HTTP/2 (h2c with
 * prior knowledge), as `@grpc/grpc-js` and every other gRPC implementation speak it; or on a
 * `grpcs://host:port` one: the same over TLS, with the certificates of the server's `tls` option.
 */
export class GrpcServerTransport implements ServerTransport {
  private readonly settings: GrpcServerSettings;
  private readonly host: string;
  private readonly port: number;
  private readonly router: Router;
  /** Each connection with what its calls need, its guard included. */
  private readonly sessions = new Map<ServerHttp2Session, ExchangeEnv>();
  private server: Http2Listener | undefined;
  /** `grpcs://`: TLS with the certificates of `options.tls`. */
  private readonly secure: boolean;
  /** Accepted sockets, those still in their TLS handshake included, for `forceClose`. */
  private readonly sockets = new Set<Socket>();
  private stopReload: () => void = () => undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private draining = false;
  /** The address `listen()` bound, as it resolved it. */
  private listener = '';
  private forced = false;
  private allClosed: (() => void) | undefined;
  private readonly cancelled = new RpcError(Code.CANCELLED, 'cancelled by the caller');
  private readonly shutDown = new RpcError(Code.UNAVAILABLE, 'server shut down');

  constructor(
    url: string,
    private readonly context: ServerContext,
    private readonly options: TcpServerOptions,
  ) {
    let protocol: string;
    ({ protocol, host: this.host, port: this.port } = parseAddress(url));
    this.secure = protocol === 'grpcs';
    this.settings = serverSettings(url, options.maxFrameSize);
    this.router = new Router(context.table, context.serializers);
  }

  listen(): Promise<string> {
    const scheme = this.secure ? 'grpcs' : 'grpc';
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    let server: Http2Listener;
    try {
      server = http2Listener(this.http2Options(), this.secure ? listenerTls(this.options.tls, `grpcs://${host}:${this.port}`) : undefined, this.context.logger);
    } catch (error) {
      return Promise.reject(RpcError.from(error, Code.INVALID_ARGUMENT));
    }
    this.server = server;
    this.context.limits?.guard(server, 'http2');
    trackSockets(server, this.sockets);
    // One timer for all connections (not one refreshed on every frame): a connection without calls
    // or PINGs through IDLE_SWEEPS sweeps is closed politely. An interval beyond setTimeout's range
    // would run every millisecond: such an idle timeout (Infinity included) means no sweeping.
    if (this.options.idleTimeoutMs <= MAX_TIMER_MS) this.sweeper = setInterval(() => this.closeIdle(), this.options.idleTimeoutMs).unref();
    server.on('session', (session) => this.accept(session));
    server.on('stream', (stream, headers) => {
      try {
        this.onStream(stream, headers);
      } catch (error) {
        // A throw here would be an uncaught exception that ends the process: end only this stream.
        this.context.logger.error({ message: errorMessage(error) }, 'grpc stream could not be served');
        if (!stream.destroyed) stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      }
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.off('error', reject);
        server.on('error', (error) => this.context.logger.error({ message: error.message }, 'grpc listener error'));
        const bound = server.address();
        const port = typeof bound === 'object' && bound !== null ? bound.port : this.port;
        if (this.secure) this.stopReload = reloadOnChange(this.options.tls!, server as Http2SecureServer, this.context.logger);
        this.listener = `${scheme}://${host}:${port}`;
        resolve(this.listener);
      });
    });
  }

  /** Settings of the HTTP/2 server, the same on both schemes. */
  private http2Options(): ServerOptions {
    return {
      settings: {
        maxConcurrentStreams: this.settings.maxConcurrentStreams,
        maxHeaderListSize: this.settings.maxHeaderListSize,
        initialWindowSize: this.settings.initialWindowSize,
        enablePush: false,
      },
      maxHeaderListPairs: 256,
      // nghttp2's own buffers for one connection, in MB: room for a few messages at the size limit.
      maxSessionMemory: Math.max(10, Math.ceil((2 * this.settings.maxMessageSize) / 1048576)),
      // nghttp2 closes a connection after 1000 resets, then 33 a second, of any kind, which would cut
      // off a client whose calls merely time out; the session guard tells those from an attack.
      // Node versions with these options use them; Node 20 has none and keeps its fixed limit.
      ...nghttp2ResetLimit,
    };
  }

  drain(): Promise<void> {
    this.draining = true;
    this.router.drain();
    clearInterval(this.sweeper);
    this.stopReload();
    this.server?.close();
    const done = new Promise<void>((resolve) => {
      this.allClosed = resolve;
    });
    for (const session of this.sessions.keys()) if (!session.closed) session.close();
    this.checkClosed();
    return done;
  }

  forceClose(): void {
    clearInterval(this.sweeper);
    this.stopReload();
    this.forced = true;
    this.draining = true;
    this.server?.close();
    for (const session of this.sessions.keys()) session.destroy();
    for (const socket of this.sockets) socket.destroy();
  }

  connections(): ConnectionInfo[] {
    const protocol = this.secure ? 'grpcs' : 'grpc';
    return [...this.sessions.values()].map((env) => env.stats.info(protocol, this.listener, this.draining));
  }

  private accept(session: ServerHttp2Session): void {
    if (this.draining) {
      session.destroy();
      return;
    }
    const guard = new SessionGuard(this.settings);
    // The session's socket is a proxy of Node's that reads through to the socket (bytes included).
    const socket = session.socket;
    this.sessions.set(session, {
      stats: new ConnectionRecord(peerAddress(socket), socket),
      settings: this.settings,
      guard,
      logger: this.context.logger,
      gate: this.context.gate,
      decompression: this.context.limits?.decompression,
      abortReason: () => (this.forced ? this.shutDown : this.cancelled),
      punish: () => this.punish(session, guard),
    });
    session.on('error', (error) => this.context.logger.debug({ message: error.message }, 'grpc connection error'));
    session.on('close', () => {
      this.sessions.delete(session);
      this.checkClosed();
    });
    if (this.settings.initialWindowSize > 65_535) session.setLocalWindowSize(4 * this.settings.initialWindowSize);
    session.on('ping', () => guard.activity++);
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', noop);
    const env = this.sessions.get(stream.session as ServerHttp2Session);
    if (env === undefined || !env.guard.admits || this.draining) {
      stream.close(constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    if (headers[':method'] !== 'POST') return plainHttp(stream, 405, { allow: 'POST' });
    const subtype = parseContentType(headers['content-type']);
    if (subtype === undefined) return plainHttp(stream, 415, { 'accept-post': 'application/grpc' });
    const route = this.router.resolve(headers[':path'], header(headers, 'switchyard-version'), header(headers, 'switchyard-group'));
    if (route instanceof RpcError) return trailersOnly(stream, subtype, route);
    const codec = this.router.codec(route, subtype);
    if (codec instanceof RpcError) return trailersOnly(stream, subtype, codec);
    let deadline: number | undefined;
    let timeoutMs = 0;
    const timeout = headers['grpc-timeout'];
    if (timeout !== undefined) {
      const ms = parseTimeout(timeout as string);
      if (ms === undefined) return trailersOnly(stream, subtype, new RpcError(Code.INTERNAL, `malformed grpc-timeout ${JSON.stringify(timeout)}`));
      deadline = Date.now() + ms;
      timeoutMs = ms;
    }
    const encoding = header(headers, 'grpc-encoding') ?? 'identity';
    if (!isEncoding(encoding)) {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(Code.UNIMPLEMENTED), 'grpc-message': `unsupported grpc-encoding ${encoding}`, 'grpc-accept-encoding': ACCEPT_ENCODING }, { endStream: true });
      return;
    }
    let metadata;
    try {
      metadata = readMetadata(headers);
    } catch (error) {
      return trailersOnly(stream, subtype, RpcError.from(error, Code.INVALID_ARGUMENT));
    }
    const tooMuch = this.context.limits?.metadataRefusal(metadata);
    if (tooMuch !== undefined) return trailersOnly(stream, subtype, tooMuch);
    new (route.exchange ?? Exchange)(stream, {
      entry: route.entry,
      codec,
      metadata,
      deadline,
      timeoutMs,
      encoding,
      responseEncoding: this.responseEncoding(headers),
    }, env);
  }

  /** The listener's compression if the client says it can read it. */
  private responseEncoding(headers: IncomingHttpHeaders): Encoding {
    const wanted = this.settings.compression;
    if (wanted === 'identity') return wanted;
    const accepted = header(headers, 'grpc-accept-encoding');
    return accepted !== undefined && accepted.split(',').some((name) => name.trim() === wanted) ? wanted : 'identity';
  }

  private closeIdle(): void {
    for (const [session, { guard }] of this.sessions) {
      if (session.closed || session.destroyed || !guard.idle(IDLE_SWEEPS)) continue;
      session.goaway(constants.NGHTTP2_NO_ERROR, 0, Buffer.from(IDLE_GOAWAY));
      session.close();
    }
  }

  /** Too many resets: tell the client to calm down and drop the connection with all its calls. */
  private punish(session: ServerHttp2Session, guard: SessionGuard): void {
    if (session.destroyed || guard.running === Number.POSITIVE_INFINITY) return;
    guard.running = Number.POSITIVE_INFINITY; // refuse whatever else arrives before it is gone
    this.context.logger.warn({ maxResets: this.settings.maxResets, windowMs: this.settings.resetWindowMs }, 'grpc client reset too many streams; closing its connection');
    // Not from inside the stream's 'close': Node's HTTP/2 session destroyed while nghttp2 is still
    // sending can loop forever (nodejs/node#42713), which a client leaving streams could set off.
    setImmediate(calm, session);
  }

  private checkClosed(): void {
    if (this.draining && this.sessions.size === 0) this.allClosed?.();
  }
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** GOAWAY first, and the session destroyed once it has had time to go out: destroying at once drops it. */
function calm(session: ServerHttp2Session): void {
  if (session.destroyed) return;
  session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM);
  setTimeout(destroyCalmed, GOAWAY_FLUSH_MS, session).unref();
}

function destroyCalmed(session: ServerHttp2Session): void {
  if (!session.destroyed) session.destroy(new Error('too many streams reset'), constants.NGHTTP2_ENHANCE_YOUR_CALM);
}

function noop(): void {}
