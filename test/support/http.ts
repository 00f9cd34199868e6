import type { TestContext } from 'node:test';
import { request } from 'node:http';
import { createClient, createServer, type Client, type Server, type ServerOptions, type ServiceProxy } from '../../src/index.js';
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
export function rawRequest(address: string, method: string, path: string, options: { headers?: Record<string, string>; body?: string | Uint8Array | Array<string | Uint8Array> } = {}): Promise<RawResponse> {
  const url = new URL(address);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers: options.headers, agent: false }, (res) => {
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
