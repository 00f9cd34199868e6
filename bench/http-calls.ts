/**
 * Makes a given number of `add` calls over HTTP/1.1 + JSON, client and server in this one process,
 * 128 in flight; `http-instructions.ts` runs it under valgrind to count instructions. Four setups
 * tell the client's cost from the server's:
 * - `plain`: an undici Pool posting to a bare `node:http` server (bench/systems/undici-http.ts);
 * - `switchyard`: Switchyard's client and server;
 * - `server`: the plain client posting what Switchyard's client posts, to Switchyard's server;
 * - `client`: Switchyard's client, to the bare server.
 *
 * usage: node http-calls.js <setup> <calls> [ballast]
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Pool } from 'undici';
import { createClient, createServer } from '../src/index.js';
import { BenchService } from './systems/switchyard.js';
import { runAddCalls } from './add-calls.js';

const IN_FLIGHT = 128;
type Add = (a: number, b: number) => Promise<number>;

/** The bare server: reads the body, parses it, answers its sum, whatever the path. */
async function bareServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const [a, b] = JSON.parse(Buffer.concat(chunks).toString('utf8')) as [number, number];
      const body = JSON.stringify(a + b);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  // Under valgrind a connection may wait longer than the default 5 s between requests.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function switchyardServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer({ listen: ['http://127.0.0.1:0?keepAliveTimeoutMs=120000'], registry: false });
  server.provide(BenchService, { add: async (a, b) => a + b, echo: async (data) => data });
  const [url] = await server.listen();
  return { url: url!, close: () => server.close({ timeoutMs: 1000 }) };
}

function plainClient(url: string, path: string): { add: Add; close(): Promise<void> } {
  const pool = new Pool(url, { connections: IN_FLIGHT, pipelining: 1, keepAliveTimeout: 120_000, keepAliveMaxTimeout: 120_000 });
  const headers = { 'content-type': 'application/json', 'x-switchyard-version': '1.0.0' };
  return {
    add: async (a, b) => {
      const { body } = await pool.request({ path, method: 'POST', headers, body: JSON.stringify([a, b]) });
      return (await body.json()) as number;
    },
    close: () => pool.close(),
  };
}

function switchyardClient(url: string): { add: Add; close(): Promise<void> } {
  const client = createClient({ url });
  const bench = client.proxy(BenchService);
  return { add: (a, b) => bench.add(a, b), close: () => client.close({ timeoutMs: 1000 }) };
}

async function run(setup: string, calls: number): Promise<void> {
  const server = setup === 'plain' || setup === 'client' ? await bareServer() : await switchyardServer();
  const client = setup === 'plain' || setup === 'server' ? plainClient(server.url, `/${BenchService.key.name}/add`) : switchyardClient(server.url);
  try {
    await runAddCalls(client.add, calls, IN_FLIGHT);
  } finally {
    // A failed call must not leave the process waiting on open sockets.
    await client.close();
    await server.close();
  }
}

const [setup = 'plain', calls = '10000', ballast = '0'] = process.argv.slice(2);
if (!['plain', 'switchyard', 'server', 'client'].includes(setup)) throw new Error(`unknown setup ${setup}: plain, switchyard, server or client`);
const kept: unknown[] = [];
for (let i = 0; i < Number(ballast); i++) kept.push({ values: new Array<number>(16).fill(i), label: `ballast ${i}` });
(globalThis as { benchBallast?: unknown[] }).benchBallast = kept;
run(setup, Number(calls)).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
