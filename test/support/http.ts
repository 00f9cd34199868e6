import type { TestContext } from 'node:test';
import { request, type Agent, type OutgoingHttpHeaders, type Server as NodeHttpServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import { CallTable } from '../../src/core/call-table.js';
import { silentLogger } from '../../src/core/logger.js';
import { createClient, createServer, type Client, type Server, type ServerOptions, type ServiceProxy } from '../../src/index.js';
import { SerializerSet } from '../../src/serialization/registry.js';
import { HttpServerTransport } from '../../src/transport/http/server.js';
import { CalculatorService, calculatorImpl, newLog, onCleanup, type Calculator, type CalculatorLog } from './calculator.js';

export interface HttpServerOptions extends Omit<ServerOptions, 'listen'> {
  /** Query options of the listen address, e.g. `cors=*&maxBodyBytes=1024`. */
  query?: string;
  /** Further listen addresses served at the same time (`tcp://127.0.0.1:0`). */
  alsoListen?: string[];
  setup?: (server: Server) => void;
}

export interface StartedHttpServer {
  server: Server;
  /** `http://127.0.0.1:<port>` */
  address: string;
  addresses: readonly string[];
  log: CalculatorLog;
}

/** A Calculator served over `http://` on a free loopback port; closed when the test ends. */
export async function startHttpServer(t: TestContext, options: HttpServerOptions = {}): Promise<StartedHttpServer> {
  const { query, alsoListen = [], setup, ...serverOptions } = options;
  const log = newLog();
  const server = createServer({ registry: false, ...serverOptions, listen: [`http://127.0.0.1:0${query ? `?${query}` : ''}`, ...alsoListen] });
  server.provide(CalculatorService, calculatorImpl(log));
  setup?.(server);
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const addresses = await server.listen();
  return { server, address: addresses[0]!, addresses, log };
}

/** Listens with a plain `node:http` server on loopback (`port` 0: a free one); closed, its connections cut, when the test ends. */
export async function listenPlain(t: TestContext, server: NodeHttpServer, port = 0): Promise<string> {
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A client of `address` with a Calculator proxy; closed when the test ends. */
export function startHttpClient(t: TestContext, address: string): { client: Client; calc: ServiceProxy<Calculator> } {
  const client = createClient({ url: address });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  return { client, calc: client.proxy(CalculatorService) };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON, or undefined if it is not JSON. */
  json: unknown;
}

/**
 * One request with `node:http` (no fetch, so nothing is added or checked on the way): any verb,
 * any headers, any body, sent in the chunks given.
 */
export function rawRequest(address: string, method: string, path: string, options: { headers?: OutgoingHttpHeaders; body?: string | Uint8Array | Array<string | Uint8Array>; agent?: Agent } = {}): Promise<RawResponse> {
  const url = new URL(address);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, method, path, headers: options.headers, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer to ${method} ${path} within 10 s`)));
    const parts = options.body === undefined ? [] : Array.isArray(options.body) ? options.body : [options.body];
    for (const part of parts) req.write(part);
    req.end();
  });
}

/** JSON POST of `body` (a value, sent as JSON) to `path`. */
export function postJson(address: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  return rawRequest(address, 'POST', path, { headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** An HTTP server transport alone, without a Server around it, so that a test can look at what it holds. */
export async function startHttpTransport(t: TestContext, provide: (table: CallTable) => void, query = ''): Promise<{ transport: HttpServerTransport; address: string }> {
  const table = new CallTable();
  provide(table);
  const transport = new HttpServerTransport(`http://127.0.0.1:0${query ? `?${query}` : ''}`, { table, serializers: new SerializerSet(['json']), logger: silentLogger });
  onCleanup(t, () => transport.forceClose());
  return { transport, address: await transport.listen() };
}

export interface ParsedResponse {
  status: number;
  /** Header names in lower case; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: string;
}

/** `parts` as a chunked request body, last chunk included. */
export function chunked(...parts: string[]): string {
  return parts.map((part) => `${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`).join('') + '0\r\n\r\n';
}

/**
 * One keep-alive connection spoken by hand: requests are written exactly as given (several in one
 * write are pipelined) and responses are parsed in order. Records whether the server reset the
 * connection or closed it cleanly.
 */
export class RawHttpConnection {
  /** Responses not yet taken by `next()`. */
  private readonly responses: ParsedResponse[] = [];
  /** Methods of the requests not yet answered, oldest first (a HEAD answer has no body). */
  private readonly methods: string[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  /** The server's FIN arrived. */
  ended = false;
  closed = false;
  error: (Error & { code?: string }) | undefined;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.parse();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake?.();
    });
    socket.on('error', (error) => {
      this.error = error;
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  static connect(address: string): Promise<RawHttpConnection> {
    const url = new URL(address);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: url.hostname, port: Number(url.port) }, () => {
        socket.off('error', reject);
        resolve(new RawHttpConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Writes one request; `body` goes as it is, so `headers` must frame it (content-length or chunked). */
  send(method: string, path: string, headers: Record<string, string | number> = {}, body: string | Buffer = ''): void {
    this.methods.push(method);
    const head = Object.entries({ host: 'test', ...headers }).map(([name, value]) => `${name}: ${value}\r\n`).join('');
    this.socket.write(`${method} ${path} HTTP/1.1\r\n${head}\r\n`);
    if (body.length > 0) this.socket.write(body);
  }

  /** The next response; rejects if the connection closes first or none comes within `timeoutMs`. */
  async next(timeoutMs = 10_000): Promise<ParsedResponse> {
    const until = Date.now() + timeoutMs;
    while (this.responses.length === 0) {
      if (this.closed) throw new Error(`connection closed without a response (${this.error?.code ?? 'no error'})`);
      const left = until - Date.now();
      if (left <= 0) throw new Error(`no response within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return this.responses.shift()!;
  }

  /** Resolves once the socket has closed, or after `timeoutMs`. */
  async whenClosed(timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private parse(): void {
    while (true) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) break;
      const [statusLine, ...lines] = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(statusLine!.split(' ')[1]);
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      let rest = this.buffer.subarray(end + 4);
      let body = '';
      if (status >= 200 && status !== 204 && status !== 304 && this.methods[0] !== 'HEAD') {
        if (headers['transfer-encoding'] === 'chunked') {
          const parsed = unchunk(rest);
          if (parsed === undefined) break;
          [body, rest] = parsed;
        } else {
          const length = Number(headers['content-length'] ?? 0);
          if (rest.length < length) break;
          body = rest.subarray(0, length).toString('utf8');
          rest = rest.subarray(length);
        }
      }
      this.buffer = rest;
      if (status < 200) continue; // 100 Continue
      this.methods.shift();
      this.responses.push({ status, headers, body });
      this.wake?.();
    }
  }
}

/** A whole chunked body and what follows it, or undefined if it has not all arrived. */
function unchunk(bytes: Buffer): [string, Buffer] | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  while (true) {
    const lineEnd = bytes.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16);
    if (bytes.length < lineEnd + 2 + size + 2) return undefined;
    if (size === 0) return [Buffer.concat(parts).toString('utf8'), bytes.subarray(lineEnd + 4)];
    parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}
