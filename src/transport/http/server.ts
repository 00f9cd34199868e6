import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { CallList } from '../../core/call-list.js';
import { Code } from '../../core/code.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';
import { jsonSerializer } from '../../serialization/json.js';
import { listenerTls, serverSecureOptions, type ServerTlsOptions } from '../tls/options.js';
import { reloadOnChange } from '../tls/reload.js';
import { peerAddress } from '../connection-record.js';
import type { ConnectionInfo, ServerContext, ServerTransport } from '../transport.js';
import { HttpCallStarter } from './call-starter.js';
import { Cors } from './cors.js';
import { firstRequestArrived } from '../limits/first-request.js';
import { HttpConnection } from './connection.js';
import { HttpCall, type CallHost } from './dispatch.js';
import { Exchange, type ExchangeCall, type ExchangeHost } from './exchange.js';
import { Header, firstValue } from './headers.js';
import { openApiDocument } from './openapi.js';
import { parseHttpListenAddress, type HttpListenAddress } from './options.js';
import { Router, RpcPaths, bodyArgs, pathSegments, queryArgs, resolveService, restArgs } from './routes.js';
import { SoapEndpoint } from './soap/endpoint.js';

const json = jsonSerializer();

/**
 * Serves the call table over HTTP/1.1 with JSON bodies on one `http://host:port` address (or
 * `https://`, the same over TLS): every method at `POST /<service>/<method>`, resource-style
 * mappings, `GET /openapi.json` and CORS. The rules are in docs/http.md.
 */
export class HttpServerTransport implements ServerTransport, ExchangeHost {
  readonly cors: Cors | undefined;
  readonly maxBodyBytes: number;
  readonly heartbeatMs: number;
  private readonly server: Server | HttpsServer;
  private readonly address: HttpListenAddress;
  private readonly router: Router;
  private readonly postRoutes = new RpcPaths();
  private readonly calls = new CallList<HttpCall>();
  private readonly callHost: CallHost;
  private readonly starter: HttpCallStarter;
  /** SOAP envelopes and WSDLs at /soap/<service> (docs/soap.md). */
  private readonly soap: SoapEndpoint;
  /** Open connections, with their requests: `active` counts those being answered. */
  private readonly records = new Map<Socket, HttpConnection>();
  /** Every accepted socket, TLS handshakes in progress included, for `forceClose`. */
  private readonly sockets = new Set<Socket>();
  private closing = false;
  private openapi: { services: number; body: Uint8Array } | undefined;
  /** The address `listen()` bound, as it resolved it. */
  private listener = '';
  private stopReload: () => void = () => undefined;

  /** `tls` is the server's TLS option, which an `https://` address needs. */
  constructor(url: string, private readonly context: ServerContext, tls?: ServerTlsOptions) {
    this.address = parseHttpListenAddress(url);
    this.maxBodyBytes = this.address.maxBodyBytes;
    this.heartbeatMs = this.address.sseHeartbeatMs;
    this.cors = this.address.cors === undefined ? undefined : new Cors(this.address.cors);
    this.callHost = { logger: context.logger, calls: this.calls };
    this.starter = new HttpCallStarter(context, this.maxBodyBytes, this.callHost);
    this.soap = new SoapEndpoint(context.table, this.starter, this.maxBodyBytes);
    this.router = new Router(context.table, (error) => context.logger.error({ message: error.message }, 'HTTP mapping ignored'));
    const secure = this.address.scheme === 'https';
    this.server = secure ? this.secureServer(listenerTls(tls, url)) : createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = this.address.keepAliveTimeoutMs;
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    // Over TLS, requests arrive on the TLS socket, which exists once the handshake is done.
    this.server.on(secure ? 'secureConnection' : 'connection', (socket: Socket) => {
      if (this.closing && secure) {
        socket.destroy();
        return;
      }
      this.records.set(socket, new HttpConnection(peerAddress(socket), socket));
      socket.once('close', () => this.lost(socket));
    });
    // Expect: 100-continue: refuse an oversized body before the client sends it.
    this.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      if (Number(req.headers['content-length'] ?? 0) <= this.maxBodyBytes) res.writeContinue();
      this.handle(req, res);
    });
    context.limits?.guard(this.server, 'http');
  }

  /** The server is shutting down: every answer closes its connection. */
  get draining(): boolean {
    return this.closing;
  }

  /** Calls the server still answers for (diagnostics and tests). */
  get callsInFlight(): number {
    return this.calls.size;
  }

  listen(): Promise<string> {
    this.router.compileStrict();
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.address.port, this.address.host, () => {
        this.server.off('error', reject);
        const bound = this.server.address();
        const port = typeof bound === 'object' && bound !== null ? bound.port : this.address.port;
        const host = this.address.host.includes(':') ? `[${this.address.host}]` : this.address.host;
        this.listener = `${this.address.scheme}://${host}:${port}`;
        resolve(this.listener);
      });
    });
  }

  drain(): Promise<void> {
    this.closing = true;
    this.stopReload();
    // Idle connections close now, once the answer they may still be writing is out; busy ones
    // after their answer (`connection: close`).
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const [socket, record] of this.records) if (record.active === 0) socket.destroySoon();
    return closed;
  }

  connections(): ConnectionInfo[] {
    return [...this.records.values()].map((record) => record.info(this.address.scheme, this.listener, this.closing));
  }

  forceClose(): void {
    this.closing = true;
    for (const call of this.calls.toArray()) call.cut();
    this.stopReload();
    this.server.close();
    this.server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
  }

  private secureServer(tls: ServerTlsOptions): HttpsServer {
    const server = createHttpsServer(serverSecureOptions(tls), (req, res) => this.handle(req, res));
    this.stopReload = reloadOnChange(tls, server, this.context.logger);
    // A client that fails its handshake (an untrusted certificate, plaintext HTTP, a scanner) is
    // told so by the handshake; the server only notes it.
    server.on('tlsClientError', (error: Error, socket: Socket) => {
      this.context.logger.debug({ remote: socket.remoteAddress, message: errorMessage(error) }, 'TLS handshake with a client failed');
    });
    return server;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    let record = this.records.get(socket);
    if (record === undefined) this.records.set(socket, (record = new HttpConnection(peerAddress(socket), socket)));
    // Only a connection's first request can find the timer that waits for one.
    if (record.calls === 0) firstRequestArrived(socket);
    // A request behind a `connection: close` answer (pipelined, or sent before the client read it) is not served.
    if (record.closing) return;
    const origin = this.cors?.allowedOrigin(req);
    const exchange = new Exchange(req, res, origin, this, record);
    record.calls++;
    record.active++;
    record.exchanges.push(exchange);
    try {
      if (Cors.isPreflight(req)) this.preflight(exchange, origin);
      else this.route(exchange);
    } catch (error) {
      exchange.fail(RpcError.from(error, Code.INTERNAL));
    }
  }

  /** The exchange has answered in full: its connection has one request less in hand. */
  closed(exchange: Exchange): void {
    const record = exchange.connection;
    record.forget(exchange);
    if (--record.active === 0 && this.closing) exchange.req.socket.end();
  }

  /**
   * A connection closed: the calls still running for its requests have lost their client. One
   * listener per connection rather than a `close` listener per response, which costs the small call.
   */
  private lost(socket: Socket): void {
    const record = this.records.get(socket);
    this.records.delete(socket);
    if (record === undefined) return;
    for (const exchange of record.exchanges) {
      exchange.abandoned();
      // On the next tick, so that the abort reason's stack trace holds none of this request's closures.
      const running = exchange.running;
      if (running !== undefined) process.nextTick(cancel, running);
    }
    record.exchanges.length = 0;
  }

  private preflight(exchange: Exchange, origin: string | undefined): void {
    const { req } = exchange;
    if (origin === undefined) exchange.fail(new RpcError(Code.PERMISSION_DENIED, `cross-origin calls from ${req.headers.origin ?? 'this origin'} are not allowed`));
    else exchange.send(204, undefined, '', undefined, this.cors!.preflightHeaders(req));
  }

  private route(exchange: Exchange): void {
    const { req } = exchange;
    const url = req.url ?? '/';
    const mark = url.indexOf('?');
    const pathname = mark < 0 ? url : url.slice(0, mark);
    const verb = req.method ?? 'GET';
    if (verb === 'GET' && pathname === '/openapi.json' && this.address.openapi) {
      exchange.send(200, this.openapiBody(), 'application/json');
      return;
    }
    // Read here rather than through a shared helper: a lookup site that sees a single header name stays fast.
    const version = firstValue(req.headers[Header.version]);
    const group = firstValue(req.headers[Header.group]);
    const known = verb === 'POST' ? this.postRoutes.get(pathname, version, group, this.context.table.generation) : undefined;
    if (known !== undefined) {
      this.starter.serve(exchange, known, postArgs);
      return;
    }
    const segments = pathSegments(pathname);
    const rest = this.router.match(verb, segments);
    if (rest !== undefined) {
      const query = new URLSearchParams(mark < 0 ? '' : url.slice(mark + 1));
      this.starter.serve(exchange, rest.route.entry, (body, hasBody) => restArgs(rest, query, body, hasBody));
      return;
    }
    if (segments.length <= 2 && this.soap.serve(exchange, verb, segments, mark < 0 ? '' : url.slice(mark + 1))) return;
    const mapped = verb === 'POST' && segments.length === 2 ? [] : this.router.verbsAt(segments);
    if (mapped.length > 0) {
      exchange.fail(new RpcError(Code.UNIMPLEMENTED, `${verb} ${pathname}: this path answers ${mapped.join(', ')}`), 405, undefined, { allow: mapped.join(', ') });
      return;
    }
    if (segments.length !== 2 || segments[0] === '' || segments[1] === '') {
      exchange.fail(new RpcError(Code.NOT_FOUND, `no route for ${verb} ${pathname}; methods are at POST /<service>/<method>`));
      return;
    }
    const entry = verb === 'POST' || verb === 'GET'
      ? resolveService(this.context.table, segments[0]!, segments[1]!, version, group)
      : undefined;
    if (verb !== 'POST') {
      // A server stream also opens with GET (an EventSource can do nothing else), its arguments in `?args=`.
      if (entry !== undefined && !(entry instanceof RpcError) && entry.options.stream === 'server') {
        const query = new URLSearchParams(mark < 0 ? '' : url.slice(mark + 1));
        this.starter.serve(exchange, entry, () => queryArgs(query, this.context.serializers.json));
        return;
      }
      exchange.fail(new RpcError(Code.UNIMPLEMENTED, `${verb} ${pathname}: methods are called with POST (and server streams with GET too)`), 405, undefined, { allow: 'POST' });
      return;
    }
    if (entry instanceof RpcError) {
      exchange.fail(entry);
      return;
    }
    this.postRoutes.set(pathname, version, group, this.context.table.generation, entry!);
    this.starter.serve(exchange, entry!, postArgs);
  }

  /** Reads the call's headers and body, then runs it. */
  private openapiBody(): Uint8Array {
    const services = this.context.table.serviceIds.length;
    if (this.openapi?.services !== services) {
      this.openapi = { services, body: json.encode(openApiDocument(this.context.table, this.router.routes)) };
    }
    return this.openapi.body;
  }
}

/** The arguments of `POST /<service>/<method>`: the body's array, or none without a body. Made once, not per call. */
function postArgs(body: unknown, hasBody: boolean): unknown[] {
  return hasBody ? bodyArgs(body) : [];
}

function cancel(call: ExchangeCall): void {
  call.cancel();
}
