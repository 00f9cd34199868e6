/**
 * Baseline: HTTP/1.1 + JSON as a plain Node program would do it, the floor for `switchyard-http`.
 * The server is a bare `node:http` server: it reads the POST body, `JSON.parse`s it and answers
 * JSON. The client is an undici `Pool` like Switchyard's (keep-alive, 128 connections, no
 * pipelining), reading each answer with `body.json()`. Bytes travel as base64 inside JSON, as they
 * do over Switchyard's http transport.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Pool } from 'undici';
import type { BenchClient, Handlers, System } from './index.js';

/** The same pool as Switchyard's http client (src/transport/http/undici-sender.ts). */
const CONNECTIONS = 128;
const PIPELINING = 1;

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        reject(error as Error);
      }
    });
    req.on('error', reject);
  });
}

function answer(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function handle(handlers: Handlers, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJson(req);
  if (req.url === '/add') {
    const [a, b] = body as [number, number];
    answer(res, 200, handlers.add(a, b));
  } else if (req.url === '/echo') {
    const { data } = body as { data: string };
    const echoed = handlers.echo(Buffer.from(data, 'base64'));
    answer(res, 200, { data: Buffer.from(echoed.buffer, echoed.byteOffset, echoed.byteLength).toString('base64') });
  } else {
    answer(res, 404, { error: `no route for ${req.url}` });
  }
}

export const undiciHttp: System = {
  async serve(handlers) {
    const server = createServer((req, res) => {
      handle(handlers, req, res).catch((error: unknown) => answer(res, 400, { error: String(error) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const bound = server.address();
    const port = typeof bound === 'object' && bound !== null ? bound.port : 0;
    return {
      address: `http://127.0.0.1:${port}`,
      close: () => {
        server.closeAllConnections();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  },

  async connect(address) {
    const pool = new Pool(address, { connections: CONNECTIONS, pipelining: PIPELINING });
    const post = async (path: string, value: unknown): Promise<unknown> => {
      const { statusCode, body } = await pool.request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
      const answered = await body.json();
      if (statusCode !== 200) throw new Error(`${path} answered ${statusCode}: ${JSON.stringify(answered)}`);
      return answered;
    };
    const client: BenchClient = {
      add: async (a, b) => (await post('/add', [a, b])) as number,
      echo: async (data) => {
        const { data: echoed } = (await post('/echo', { data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') })) as { data: string };
        return Buffer.from(echoed, 'base64');
      },
      close: () => pool.close(),
    };
    // Open a connection now, as the other systems do, so that warm-up starts connected.
    await client.add(0, 0);
    return client;
  },
};
