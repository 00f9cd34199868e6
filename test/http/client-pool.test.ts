import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { buildConnector, type Dispatcher } from 'undici';
import { ClientPool } from '../../src/transport/http/client-pool.js';
import { listenPlain } from '../support/http.js';
import { freePort } from '../support/ports.js';

/** A server that answers each request's path after `delayMs`, noting the connections and the order the requests came in. */
async function serve(t: TestContext, delayMs: number): Promise<{ origin: string; server: Server; sockets: Set<Socket>; seen: string[] }> {
  const sockets = new Set<Socket>();
  const seen: string[] = [];
  const server = createServer((request, response) => {
    seen.push(request.url!);
    request.resume();
    request.on('end', () => setTimeout(() => response.end(request.url), delayMs));
  });
  server.on('connection', (socket: Socket) => sockets.add(socket));
  return { origin: await listenPlain(t, server), server, sockets, seen };
}

function pool(t: TestContext, origin: string, connections: number): ClientPool {
  const made = new ClientPool(origin, { connections, pipelining: 1, connect: buildConnector({ timeout: 2000 }) });
  t.after(() => made.close());
  return made;
}

/**
 * GET `path` through the pool: its body as text, or the error undici reported. `blocking` (undici's
 * default for all but HEAD) holds the next request on the connection until this one's headers are in.
 */
function get(into: ClientPool, path: string, blocking = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart: () => undefined,
      onResponseStart: () => undefined,
      onResponseData: (_controller, chunk) => void chunks.push(chunk),
      onResponseEnd: () => resolve(Buffer.concat(chunks).toString('utf8')),
      onResponseError: (_controller, error) => reject(error),
    };
    into.dispatch({ path, method: 'GET', blocking }, handler);
  });
}

describe('HTTP client pool', () => {
  it('opens no more than its connections; the calls beyond wait for one', async (t) => {
    const { origin, sockets, seen } = await serve(t, 20);
    const connections = pool(t, origin, 3);
    const paths = Array.from({ length: 12 }, (_, i) => `/${i}`);
    assert.deepEqual(await Promise.all(paths.map((path) => get(connections, path))), paths);
    assert.equal(sockets.size, 3);
    assert.equal(seen.length, 12);
  });

  it('with pipelining, sends several requests on a connection before its first answer', async (t) => {
    // A raw server, since node:http reads a pipelined request only once it has answered the one before.
    const sockets = new Set<Socket>();
    let mostAhead = 0;
    const server = createTcpServer((socket) => {
      sockets.add(socket);
      let text = '';
      let unanswered = 0;
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        for (let end = text.indexOf('\r\n\r\n'); end >= 0; end = text.indexOf('\r\n\r\n')) {
          const path = text.slice(0, end).split(' ')[1]!;
          text = text.slice(end + 4);
          mostAhead = Math.max(mostAhead, ++unanswered);
          setTimeout(() => {
            unanswered--;
            socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${path.length}\r\n\r\n${path}`);
          }, 20);
        }
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      server.close();
    });
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const connections = new ClientPool(origin, { connections: 2, pipelining: 3, connect: buildConnector({}) });
    t.after(() => connections.close());
    const paths = Array.from({ length: 18 }, (_, i) => `/${i}`);
    assert.deepEqual(await Promise.all(paths.map((path) => get(connections, path, false))), paths);
    assert.equal(sockets.size, 2);
    assert.equal(mostAhead, 3);
  });

  it('calls that wait for the one connection go in the order they came', async (t) => {
    const { origin, seen } = await serve(t, 5);
    const connections = pool(t, origin, 1);
    const paths = Array.from({ length: 8 }, (_, i) => `/${i}`);
    assert.deepEqual(await Promise.all(paths.map((path) => get(connections, path))), paths);
    assert.deepEqual(seen, paths);
  });

  // undici frees a connection (`drain`) a microtask after the answer ends, so a call sent as soon
  // as the last was answered finds that one busy and opens a second; undici's Pool does the same.
  it('calls one at a time keep to two connections', async (t) => {
    const { origin, sockets } = await serve(t, 0);
    const connections = pool(t, origin, 8);
    for (let i = 0; i < 10; i++) assert.equal(await get(connections, `/${i}`), `/${i}`);
    assert.equal(sockets.size, 2);
  });

  it('a connection that could not open is used again once the server is up', async (t) => {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const connections = pool(t, origin, 2);
    const refused = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => get(connections, `/${i}`)));
    for (const outcome of refused) {
      assert.equal(outcome.status, 'rejected');
      assert.equal((outcome.reason as { code?: string }).code, 'ECONNREFUSED');
    }
    await listenPlain(t, createServer((request, response) => response.end(request.url)), port);
    const paths = Array.from({ length: 6 }, (_, i) => `/again/${i}`);
    assert.deepEqual(await Promise.all(paths.map((path) => get(connections, path))), paths);
  });

  it('a connection the server closes mid-answer fails its call, and the pool carries on', async (t) => {
    const { origin, server } = await serve(t, 0);
    server.removeAllListeners('request');
    server.on('request', (request, response) => {
      if (request.url === '/cut') request.socket.destroy();
      else response.end(request.url);
    });
    const connections = pool(t, origin, 1);
    await assert.rejects(get(connections, '/cut'), (error: { code?: string }) => error.code === 'UND_ERR_SOCKET');
    assert.deepEqual(await Promise.all(['/a', '/b', '/c'].map((path) => get(connections, path))), ['/a', '/b', '/c']);
  });

  it('close() lets the calls sent and waiting finish, then closes; a call after it is refused', async (t) => {
    const { origin, sockets } = await serve(t, 30);
    const connections = new ClientPool(origin, { connections: 1, pipelining: 1, connect: buildConnector({}) });
    const calls = ['/1', '/2', '/3'].map((path) => get(connections, path));
    const closed = connections.close();
    assert.deepEqual(await Promise.all(calls), ['/1', '/2', '/3']);
    await closed;
    await assert.rejects(get(connections, '/late'), (error: { code?: string }) => error.code === 'UND_ERR_CLOSED');
    const [socket] = sockets;
    if (!socket!.destroyed) await once(socket!, 'close');
    assert.equal(connections.close(), closed);
  });
});
