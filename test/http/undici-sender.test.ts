import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { ClientCall } from '../../src/core/client-call.js';
import { Code } from '../../src/core/code.js';
import { RpcError } from '../../src/core/rpc-error.js';
import { HttpChannel } from '../../src/transport/http/client.js';
import { UndiciSender } from '../../src/transport/http/undici-sender.js';
import { createClient, createServer as createRpcServer } from '../../src/index.js';
import { CalculatorService, calculatorImpl, newLog } from '../support/calculator.js';
import { listenPlain } from '../support/http.js';

const SERVICE = 'demo.Calculator:1.0.0';
const add = (a: number, b: number) => new ClientCall(CalculatorService, 'add', [a, b], undefined, undefined, undefined, false, undefined);

/** A plain node:http server that answers with `answer`, counting the connections it was given. */
async function serve(t: TestContext, answer: (request: IncomingMessage, response: ServerResponse, body: unknown) => void): Promise<{ address: string; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => answer(request, response, JSON.parse(Buffer.concat(chunks).toString('utf8'))));
  });
  server.on('connection', (socket: Socket) => sockets.add(socket));
  return { address: await listenPlain(t, server), sockets };
}

/** Answers `add` with the sum after `delayMs`. */
function sum(delayMs = 0) {
  return (_request: IncomingMessage, response: ServerResponse, body: unknown) => {
    const [a, b] = body as [number, number];
    setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(a + b)), delayMs);
  };
}

function channelTo(t: TestContext, address: string, sender: UndiciSender, maxResponseBytes?: number): HttpChannel {
  const channel = new HttpChannel(address, { sender, maxResponseBytes });
  t.after(() => channel.close());
  return channel;
}

describe('HTTP channel over undici', () => {
  it('keeps at most `connections` connections, reused across calls, and counts their bytes', async (t) => {
    const { address, sockets } = await serve(t, sum(20));
    const channel = channelTo(t, address, new UndiciSender(address, { connections: 2 }));
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => channel.call(add(i, 1), SERVICE)));
    assert.deepEqual(results, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(await channel.call(add(2, 2), SERVICE), 4);
    assert.equal(sockets.size, 2);
    const info = channel.info();
    assert.equal(info.calls, 9);
    assert.ok(info.bytesOut > 9 * 'POST /demo.Calculator/add'.length, `bytes out ${info.bytesOut}`);
    assert.ok(info.bytesIn > 9 * 'HTTP/1.1 200 OK'.length, `bytes in ${info.bytesIn}`);
  });

  it('a response it refuses (malformed metadata, too large) leaves the channel working', async (t) => {
    let answered = 0;
    const { address } = await serve(t, (_request, response, body) => {
      answered++;
      const [a, b] = body as [number, number];
      if (a === -1) response.writeHead(200, { 'content-type': 'application/json', 'sy-meta-k-bin': '*not base64*' }).end('1');
      else if (a === -2) response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify('x'.repeat(4096)));
      else response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(a + b));
    });
    const channel = channelTo(t, address, new UndiciSender(address, { connections: 1 }), 1024);
    await assert.rejects(channel.call(add(-1, 0), SERVICE), (error: unknown) => error instanceof RpcError && error.code === Code.INVALID_ARGUMENT);
    assert.equal(await channel.call(add(1, 2), SERVICE), 3);
    await assert.rejects(channel.call(add(-2, 0), SERVICE), (error: unknown) => error instanceof RpcError && error.code === Code.RESOURCE_EXHAUSTED);
    assert.equal(await channel.call(add(3, 4), SERVICE), 7);
    assert.equal(answered, 4);
  });

  it('a refused connection fails the call as never sent; a closed channel refuses calls', async (t) => {
    const { address } = await serve(t, sum());
    const dead = 'http://127.0.0.1:1';
    const unreachable = channelTo(t, dead, new UndiciSender(dead));
    await assert.rejects(unreachable.call(add(1, 1), SERVICE), (error: unknown) => error instanceof RpcError && error.code === Code.UNAVAILABLE && error.unprocessed);
    const channel = new HttpChannel(address, { sender: new UndiciSender(address) });
    assert.equal(await channel.call(add(1, 1), SERVICE), 2);
    await channel.close();
    await assert.rejects(channel.call(add(1, 1), SERVICE), (error: unknown) => error instanceof RpcError && error.code === Code.UNAVAILABLE && error.unprocessed);
  });
});

describe('createClient({ http }) sets the pool of http:// channels', () => {
  it('keeps at most `connections` connections to a Switchyard http:// server', async (t) => {
    const server = createRpcServer({ listen: ['http://127.0.0.1:0'], registry: false, admin: 'http://127.0.0.1:0' });
    server.provide(CalculatorService, calculatorImpl(newLog()));
    const [address] = await server.listen();
    t.after(() => server.close({ timeoutMs: 2000 }));
    const client = createClient({ url: address!, http: { connections: 2 } });
    t.after(() => client.close());
    const calc = client.proxy(CalculatorService);
    // Calls that take a while, all at once: without the cap each would get a connection of its own.
    const results = await Promise.all(Array.from({ length: 8 }, () => calc.slow(30)));
    assert.deepEqual(results, Array.from({ length: 8 }, () => 30));
    const seen = (await (await fetch(`${server.adminAddress!}/connections`)).json()) as { connections: Array<{ protocol: string; calls: number }> };
    const http = seen.connections.filter((connection) => connection.protocol === 'http');
    assert.equal(http.length, 2, JSON.stringify(seen));
    assert.equal(http.reduce((total, connection) => total + connection.calls, 0), 8);
  });
});
