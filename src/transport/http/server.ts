import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { MethodEntry } from '../../core/call-table.js';
import { Code } from '../../core/code.js';
import { passGate } from '../../core/gate.js';
import type { Metadata } from '../../core/metadata.js';
import type { Principal } from '../../core/principal.js';
import { errorMessage, RpcError } from '../../core/rpc-error.js';
import { ServerCall } from '../../core/server-call.js';
import { jsonSerializer } from '../../serialization/json.js';
import { listenerTls, serverSecureOptions, type ServerTlsOptions } from '../tls/options.js';
import { certificatePrincipal } from '../tls/peer.js';
import { reloadOnChange } from '../tls/reload.js';
import { ConnectionRecord, peerAddress } from '../connection-record.js';
import type { ConnectionInfo, ServerContext, ServerTransport } from '../transport.js';
import { readBody } from './body.js';
import { Cors } from './cors.js';
import { HttpCall, type CallHost } from './dispatch.js';
import { Exchange, type ExchangeCall, type ExchangeHost } from './exchange.js';
import { Header, isJson, readRequestMetadata, readTimeout } from './headers.js';
import { isClosing } from './linger.js';
import { openApiDocument } from './openapi.js';
import { parseHttpListenAddress, type HttpListenAddress } from './options.js';
import { RequestLines } from './request-lines.js';
import { Router, RpcPaths, bodyArgs, pathSegments, queryArgs, resolveService, restArgs } from './routes.js';
import { wantsEvents } from './sse.js';

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
  private readonly calls = new Set<HttpCall>();
  private readonly callHost: CallHost;
  /** Open connections, with their requests: `active` counts those being answered. */
  private readonly records = new Map<Socket, ConnectionRecord>();
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
    this.router = new Router(context.table, (error) => context.logger.error({ message: error.message }, 'HTTP mapping ignored'));
    const secure = this.address.scheme === 'https';
    this.server = secure ? this.secureServer(listenerTls(tls, url)) : createServer((req, res) => this.handle(req, res));
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
      this.records.set(socket, new ConnectionRecord(peerAddress(socket), socket));
      socket.once('close', () => this.records.delete(socket));
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
    // Idle connections close now; busy ones after their answer (`connection: close`).
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const [socket, record] of this.records) if (record.active === 0) socket.destroy();
    return closed;
  }

  connections(): ConnectionInfo[] {
    return [...this.records.values()].map((record) => record.info(this.address.scheme, this.listener, this.closing));
  }

  forceClose(): void {
    this.closing = true;
    for (const call of this.calls) call.cut();
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
    // A request behind a `connection: close` answer (pipelined, or sent before the client read it) is not served.
    if (isClosing(socket)) return;
    const origin = this.cors?.allowedOrigin(req);
    const exchange = new Exchange(req, res, origin, this);
    let record = this.records.get(socket);
    if (record === undefined) this.records.set(socket, (record = new ConnectionRecord(peerAddress(socket), socket)));
    record.calls++;
    record.active++;
    exchanges.set(res, exchange);
    res.on('close', onResponseClose);
    try {
      if (Cors.isPreflight(req)) this.preflight(exchange, origin);
      else this.route(exchange);
    } catch (error) {
      exchange.fail(RpcError.from(error, Code.INTERNAL));
    }
  }

  /** The response is done with: the call still running for it has lost its client. */
  closed(exchange: Exchange): void {
    const { socket } = exchange.req;
    const record = this.records.get(socket);
    const busy = record === undefined ? 0 : --record.active;
    if (busy === 0 && this.closing) socket.end();
    // On the next tick, so that the abort reason's stack trace holds none of this request's closures.
    const running = exchange.running;
    if (running !== undefined && !exchange.res.writableFinished) process.nextTick(cancel, running);
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
    const version = header(req, Header.version);
    const group = header(req, Header.group);
    const known = verb === 'POST' ? this.postRoutes.get(pathname, version, group, this.context.table.generation) : undefined;
    if (known !== undefined) {
      this.serve(exchange, known, (body, hasBody) => (hasBody ? bodyArgs(body) : []));
      return;
    }
    const segments = pathSegments(pathname);
    const rest = this.router.match(verb, segments);
    if (rest !== undefined) {
      const query = new URLSearchParams(mark < 0 ? '' : url.slice(mark + 1));
      this.serve(exchange, rest.route.entry, (body, hasBody) => restArgs(rest, query, body, hasBody));
      return;
    }
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
        this.serve(exchange, entry, () => queryArgs(query, this.context.serializers.json));
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
    this.serve(exchange, entry!, (body, hasBody) => (hasBody ? bodyArgs(body) : []));
  }

  /** Reads the call's headers and body, then runs it. */
  private serve(exchange: Exchange, entry: MethodEntry, argsOf: (body: unknown, hasBody: boolean) => unknown[]): void {
    const { req } = exchange;
    const kind = entry.options.stream;
    if (kind !== undefined) {
      if (kind !== 'server') exchange.requestStream = true;
      if (kind === 'bidi') {
        exchange.fail(bidiRefused(entry));
        return;
      }
      if (kind === 'server') exchange.events = wantsEvents(req.headers.accept);
    }
    let metadata: Metadata | undefined;
    let timeoutMs: number | undefined;
    try {
      metadata = readRequestMetadata(req.rawHeaders, req.headers);
      timeoutMs = readTimeout(header(req, Header.timeout));
    } catch (error) {
      exchange.fail(RpcError.from(error, Code.INVALID_ARGUMENT));
      return;
    }
    const tooMuch = this.context.limits?.metadataRefusal(metadata);
    if (tooMuch !== undefined) return exchange.fail(tooMuch, 431);
    if (timeoutMs === 0) {
      exchange.fail(new RpcError(Code.DEADLINE_EXCEEDED, 'deadline exceeded before the call arrived'));
      return;
    }
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    const declared = req.headers['content-length'];
    const mayHaveBody = (declared !== undefined && declared !== '0') || req.headers['transfer-encoding'] !== undefined;
    if (kind === 'client') {
      if (mayHaveBody && !isNdjson(req.headers['content-type'])) {
        exchange.fail(new RpcError(Code.INVALID_ARGUMENT, `the request stream of ${entry.method} must be application/x-ndjson (one JSON value a line), not ${req.headers['content-type'] ?? 'untyped'}`), 415);
        return;
      }
    } else if (mayHaveBody && !isJson(req.headers['content-type'])) {
      exchange.fail(new RpcError(Code.INVALID_ARGUMENT, `a request body must be application/json, not ${req.headers['content-type'] ?? 'untyped'}`), 415);
      return;
    }
    const oneWay = header(req, Header.oneWay) === '1' || entry.options.oneWay === true;
    const peer = peerOf(req.socket);
    const gate = this.context.gate;
    if (gate === undefined) {
      this.run(exchange, entry, argsOf, new ServerCall(entry.service, entry.method, [], metadata, deadline, oneWay), peer);
      return;
    }
    // Decided on the headers alone: a refused caller's body is never decoded. The callbacks reach
    // the exchange only through a variable they clear first, for the reason given in `run`.
    let waiting: Exchange | undefined = exchange;
    const request = { service: entry.service, method: entry.method, metadata, peer, protocol: (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http' };
    passGate(gate, request, (principal) => {
      const admitted = waiting!;
      waiting = undefined;
      this.run(admitted, entry, argsOf, new ServerCall(entry.service, entry.method, [], metadata, deadline, oneWay), principal);
    }, (error) => {
      const refused = waiting;
      waiting = undefined;
      refused?.fail(error);
    });
  }

  /** Reads an admitted call's body into its arguments, then runs it. */
  private run(exchange: Exchange, entry: MethodEntry, argsOf: (body: unknown, hasBody: boolean) => unknown[], call: ServerCall, principal: Principal | undefined): void {
    call.principal = principal;
    if (exchange.requestStream) {
      this.runStreaming(exchange, entry, call);
      return;
    }
    // The handler starts inside the callback below, and an error made meanwhile keeps the callback
    // (through its stack trace) for as long as the error lives, maybe for ever as a call's abort
    // reason: so the callback reaches the exchange only through a variable it clears first.
    let pending: Exchange | undefined = exchange;
    readBody(exchange.req, this.maxBodyBytes).then(
      (bytes) => {
        const exchange = pending!;
        pending = undefined;
        try {
          const hasBody = bytes.byteLength > 0;
          call.requestBytes = bytes.byteLength;
          call.args = argsOf(hasBody ? this.context.serializers.json.decode(bytes) : undefined, hasBody);
        } catch (error) {
          exchange.fail(error instanceof RpcError ? error : new RpcError(Code.INVALID_ARGUMENT, `cannot decode arguments: ${errorMessage(error)}`));
          return;
        }
        try {
          new HttpCall(this.callHost, exchange, entry, call);
        } catch (error) {
          this.context.logger.error({ message: errorMessage(error) }, 'HTTP transport failed to start a call');
          exchange.fail(new RpcError(Code.INTERNAL, 'the server failed to start the call'));
        }
      },
      (error: RpcError) => pending?.fail(error),
    );
  }

  /** Runs a client-streaming call at once, its handler reading the request's lines as they come. */
  private runStreaming(exchange: Exchange, entry: MethodEntry, call: ServerCall): void {
    const { json } = this.context.serializers;
    let running: HttpCall | undefined;
    const lines = new RequestLines(exchange.req, this.maxBodyBytes, {
      decode: (line) => json.decode(line),
      fail: (error) => running?.refuse(error),
      received: (bytes) => {
        call.requestBytes += bytes;
      },
    });
    call.args = [lines.stream];
    call.requestBytes = 0;
    try {
      running = new HttpCall(this.callHost, exchange, entry, call, lines);
    } catch (error) {
      this.context.logger.error({ message: errorMessage(error) }, 'HTTP transport failed to start a call');
      exchange.fail(new RpcError(Code.INTERNAL, 'the server failed to start the call'));
    }
  }

  private openapiBody(): Uint8Array {
    const services = this.context.table.serviceIds.length;
    if (this.openapi?.services !== services) {
      this.openapi = { services, body: json.encode(openApiDocument(this.context.table, this.router.routes)) };
    }
    return this.openapi.body;
  }
}

/** The identity of an https client's certificate, worked out once per connection. */
const peers = new WeakMap<Socket, Principal | undefined>();
function peerOf(socket: Socket): Principal | undefined {
  if ((socket as { encrypted?: boolean }).encrypted !== true) return undefined;
  if (!peers.has(socket)) peers.set(socket, certificatePrincipal(socket as TLSSocket));
  return peers.get(socket);
}

/** Each response's exchange, for the one `close` listener that all responses share. */
const exchanges = new WeakMap<ServerResponse, Exchange>();

function onResponseClose(this: ServerResponse): void {
  const exchange = exchanges.get(this);
  if (exchange === undefined) return;
  exchanges.delete(this);
  exchange.host.closed(exchange);
}

function cancel(call: ExchangeCall): void {
  call.cancel();
}

/** HTTP/1.1 carries no stream both ways that every client and proxy supports (docs/http.md, "Bidi streams"). */
function bidiRefused(entry: MethodEntry): RpcError {
  return new RpcError(Code.UNIMPLEMENTED, `${entry.service.id}.${entry.method} streams both ways (stream: 'bidi'), which http:// and https:// do not carry; call it over grpc:// or tcp://`);
}

function isNdjson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/(x-)?ndjson\s*(;|$)/i.test(contentType.trim());
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
