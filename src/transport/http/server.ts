import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { MethodEntry } from '../../core/call-table.js';
import { Code } from '../../core/code.js';
import type { Metadata } from '../../core/metadata.js';
import { RpcError } from '../../core/rpc-error.js';
import { ServerCall } from '../../core/server-call.js';
import { jsonSerializer } from '../../serialization/json.js';
import type { ServerContext, ServerTransport } from '../transport.js';
import { BodyTooLarge, readBody } from './body.js';
import { Cors } from './cors.js';
import { Exchange } from './exchange.js';
import { Header, isJson, metadataHeaders, readMetadata, readTimeout } from './headers.js';
import { openApiDocument } from './openapi.js';
import { parseHttpListenAddress, type HttpListenAddress } from './options.js';
import { Router, bodyArgs, pathSegments, resolveService, restArgs } from './routes.js';

const json = jsonSerializer();

/**
 * Serves the call table over HTTP/1.1 with JSON bodies on one `http://host:port` address: every
 * method at `POST /<service>/<method>`, resource-style mappings, `GET /openapi.json` and CORS.
 * The rules are in docs/http.md.
 */
export class HttpServerTransport implements ServerTransport {
  private readonly server: Server;
  private readonly address: HttpListenAddress;
  private readonly cors: Cors | undefined;
  private readonly router: Router;
  private readonly calls = new Set<ServerCall>();
  /** Open connections and how many requests each is answering. */
  private readonly connections = new Map<Socket, number>();
  private draining = false;
  private openapi: { services: number; body: Uint8Array } | undefined;

  constructor(url: string, private readonly context: ServerContext) {
    this.address = parseHttpListenAddress(url);
    this.cors = this.address.cors === undefined ? undefined : new Cors(this.address.cors);
    this.router = new Router(context.table, (error) => context.logger.error({ message: error.message }, 'HTTP mapping ignored'));
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (socket: Socket) => {
      this.connections.set(socket, 0);
      socket.once('close', () => this.connections.delete(socket));
    });
    // Expect: 100-continue: refuse an oversized body before the client sends it.
    this.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      if (Number(req.headers['content-length'] ?? 0) <= this.address.maxBodyBytes) res.writeContinue();
      this.handle(req, res);
    });
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
        resolve(`http://${host}:${port}`);
      });
    });
  }

  drain(): Promise<void> {
    this.draining = true;
    // Idle connections close now; busy ones after their answer (`connection: close`).
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const [socket, busy] of this.connections) if (busy === 0) socket.destroy();
    return closed;
  }

  forceClose(): void {
    this.draining = true;
    for (const call of this.calls) call.abort(new RpcError(Code.UNAVAILABLE, 'server shut down'));
    this.server.close();
    this.server.closeAllConnections();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const origin = this.cors?.allowedOrigin(req);
    if (Cors.isPreflight(req)) {
      if (origin !== undefined) this.cors!.preflight(req, res, origin);
      else new Exchange(req, res, undefined, undefined, () => this.draining).fail(new RpcError(Code.PERMISSION_DENIED, `cross-origin calls from ${req.headers.origin ?? 'this origin'} are not allowed`));
      return;
    }
    const exchange = new Exchange(req, res, this.cors, origin, () => this.draining);
    const socket = req.socket;
    this.connections.set(socket, (this.connections.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const busy = (this.connections.get(socket) ?? 1) - 1;
      if (this.connections.has(socket)) this.connections.set(socket, busy);
      if (busy === 0 && this.draining) socket.end();
    });
    try {
      this.route(exchange);
    } catch (error) {
      exchange.fail(RpcError.from(error, Code.INTERNAL));
    }
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
    if (verb !== 'POST') {
      exchange.fail(new RpcError(Code.UNIMPLEMENTED, `${verb} ${pathname}: methods are called with POST`), 405, undefined, { allow: 'POST' });
      return;
    }
    const entry = resolveService(this.context.table, segments[0]!, segments[1]!, header(req, Header.version), header(req, Header.group));
    if (entry instanceof RpcError) {
      exchange.fail(entry);
      return;
    }
    this.serve(exchange, entry, (body, hasBody) => (hasBody ? bodyArgs(body) : []));
  }

  /** Reads the call's headers and body, then runs it. */
  private serve(exchange: Exchange, entry: MethodEntry, argsOf: (body: unknown, hasBody: boolean) => unknown[]): void {
    const { req } = exchange;
    let metadata: Metadata | undefined;
    let timeoutMs: number | undefined;
    try {
      metadata = readMetadata(Object.entries(req.headers));
      timeoutMs = readTimeout(header(req, Header.timeout));
    } catch (error) {
      exchange.fail(RpcError.from(error, Code.INVALID_ARGUMENT));
      return;
    }
    if (timeoutMs === 0) {
      exchange.fail(new RpcError(Code.DEADLINE_EXCEEDED, 'deadline exceeded before the call arrived'));
      return;
    }
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    const declared = req.headers['content-length'];
    const mayHaveBody = (declared !== undefined && declared !== '0') || req.headers['transfer-encoding'] !== undefined;
    if (mayHaveBody && !isJson(req.headers['content-type'])) {
      exchange.fail(new RpcError(Code.INVALID_ARGUMENT, `a request body must be application/json, not ${req.headers['content-type'] ?? 'untyped'}`), 415);
      return;
    }
    const oneWay = header(req, Header.oneWay) === '1' || entry.options.oneWay === true;
    readBody(req, this.address.maxBodyBytes).then(
      (bytes) => {
        let args: unknown[];
        try {
          const hasBody = bytes.byteLength > 0;
          args = argsOf(hasBody ? json.decode(bytes) : undefined, hasBody);
        } catch (error) {
          exchange.fail(error instanceof RpcError ? error : new RpcError(Code.INVALID_ARGUMENT, `cannot decode arguments: ${(error as Error).message}`));
          return;
        }
        this.run(exchange, entry, new ServerCall(entry.service, entry.method, args, metadata, deadline, oneWay));
      },
      (error: RpcError) => {
        if (error instanceof BodyTooLarge) exchange.fail(error, 413, undefined, { connection: 'close' });
        else exchange.fail(error);
      },
    ).catch((error: unknown) => this.internalError(exchange, error));
  }

  private run(exchange: Exchange, entry: MethodEntry, call: ServerCall): void {
    if (call.oneWay) exchange.send(202, undefined, '');
    this.calls.add(call);
    const { res } = exchange;
    const onClose = () => {
      if (!res.writableFinished) call.abort(new RpcError(Code.CANCELLED, 'the client went away'));
    };
    if (!call.oneWay) res.once('close', onClose);
    let timer: NodeJS.Timeout | undefined;
    if (call.deadline !== undefined) {
      timer = setTimeout(() => {
        const error = new RpcError(Code.DEADLINE_EXCEEDED, 'deadline exceeded');
        call.abort(error);
        if (!call.oneWay) exchange.fail(error, undefined, this.responseMetadata(call));
      }, call.deadline - Date.now());
    }
    const done = () => {
      clearTimeout(timer);
      call.finish();
      this.calls.delete(call);
    };
    entry.handler(call).then(
      (result) => {
        if (call.oneWay) return done();
        if (entry.options.stream === 'server') return this.stream(exchange, call, result).finally(done);
        done();
        if (call.aborted) return this.answerAborted(exchange, call);
        const metadata = this.responseMetadata(call);
        if (result === undefined) return exchange.send(204, undefined, '', metadata);
        let body: Uint8Array;
        try {
          body = json.encode(result);
        } catch (error) {
          return exchange.fail(new RpcError(Code.INTERNAL, `cannot encode the result: ${(error as Error).message}`));
        }
        exchange.send(200, body, 'application/json', metadata);
      },
      (error: unknown) => {
        done();
        const rpcError = RpcError.from(error);
        if (call.oneWay) {
          this.context.logger.warn({ service: entry.service.id, method: entry.method, code: rpcError.code, message: rpcError.message }, 'one-way call failed');
          return;
        }
        if (call.aborted) this.answerAborted(exchange, call);
        else exchange.fail(rpcError, undefined, this.responseMetadata(call));
      },
    ).catch((error: unknown) => this.internalError(exchange, error));
  }

  /**
   * Answers a call that was aborted before its handler settled: with DEADLINE_EXCEEDED if its
   * deadline passed. A client that went away, or a server cut off, gets nothing (no one listens).
   */
  private answerAborted(exchange: Exchange, call: ServerCall): void {
    const reason: unknown = call.signal?.reason;
    exchange.fail(reason instanceof RpcError ? reason : new RpcError(Code.CANCELLED, 'call aborted'), undefined, this.responseMetadata(call));
  }

  /** A failure of the transport itself: logged, and answered if nothing was yet. */
  private internalError(exchange: Exchange, error: unknown): void {
    this.context.logger.error({ message: (error as Error)?.message }, 'HTTP transport failed to answer');
    try {
      exchange.fail(new RpcError(Code.INTERNAL, 'the server failed to answer'));
    } catch {
      exchange.res.destroy();
    }
  }

  /** Writes a server stream as JSON lines, pulling the next item only when the client takes more. */
  private async stream(exchange: Exchange, call: ServerCall, result: unknown): Promise<void> {
    const iterable = result as AsyncIterable<unknown> | null | undefined;
    if (iterable == null || typeof iterable[Symbol.asyncIterator] !== 'function') {
      exchange.fail(new RpcError(Code.INTERNAL, `streaming method ${call.method} did not return an AsyncIterable`));
      return;
    }
    exchange.startStream(this.responseMetadata(call));
    const iterator = iterable[Symbol.asyncIterator]();
    try {
      while (!call.aborted) {
        const next = await iterator.next();
        if (next.done === true || call.aborted) break;
        await exchange.item(json, next.value);
      }
      if (call.aborted) this.answerAborted(exchange, call);
      else exchange.endStream();
    } catch (error) {
      if (call.aborted) this.answerAborted(exchange, call);
      else exchange.endStream(RpcError.from(error));
    } finally {
      if (call.aborted) void Promise.resolve(iterator.return?.()).catch(() => {});
    }
  }

  private responseMetadata(call: ServerCall): Array<[string, string]> | undefined {
    if (!call.hasResponseMetadata) return undefined;
    try {
      return metadataHeaders(call.responseMetadata);
    } catch (error) {
      this.context.logger.warn({ service: call.service.id, method: call.method, message: (error as Error).message }, 'response metadata not sent');
      return undefined;
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

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
