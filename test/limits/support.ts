import { connect as connectHttp2 } from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { createServer, type LimitName, type Serializer, type Server, type ServerOptions } from '../../src/index.js';
import { msgpackSerializer } from '../../src/serialization/msgpack.js';
import { certificates } from '../support/certs.js';
import { CalculatorService, calculatorImpl, newLog, onCleanup, waitUntil } from '../support/calculator.js';

/** The listener schemes every connection-level limit is checked on. */
export const LISTENER_SCHEMES = ['tcp', 'tls', 'http', 'https', 'grpc', 'grpcs'] as const;
export type ListenerScheme = (typeof LISTENER_SCHEMES)[number];

export function isSecure(scheme: ListenerScheme): boolean {
  return scheme === 'tls' || scheme === 'https' || scheme === 'grpcs';
}

/** TLS options of a test server, and what its clients trust. */
export function testTls(handshakeTimeoutMs?: number) {
  const certs = certificates();
  return {
    server: { key: certs.serverKey, cert: certs.serverCert, reload: false, handshakeTimeoutMs },
    client: { ca: certs.read(certs.caCert) },
  };
}

/** A Calculator server listening on `scheme` (loopback, a free port), closed when the test ends. */
export async function startOn(t: TestContext, scheme: ListenerScheme | string, options: Omit<ServerOptions, 'listen'> = {}): Promise<{ server: Server; address: string }> {
  const server = createServer({ registry: false, tls: testTls().server, ...options, listen: [scheme.includes('://') ? scheme : `${scheme}://127.0.0.1:0`] });
  server.provide(CalculatorService, calculatorImpl(newLog()));
  onCleanup(t, () => server.close({ timeoutMs: 1000 }));
  const [address] = await server.listen();
  return { server, address: address! };
}

/** Waits until the server has counted `count` refusals by `limit` (at least). */
export async function counted(server: Server, limit: LimitName, count = 1): Promise<void> {
  await waitUntil(() => server.refusals()[limit] >= count, 5000).catch(() => {
    throw new Error(`expected ${count} refusals by ${limit}, counted ${JSON.stringify(server.refusals())}`);
  });
}

/** A MessagePack array nested `depth` levels deep around the number 1. */
export function deepMessagePack(depth: number): Buffer {
  const bytes = Buffer.alloc(depth + 1, 0x91);
  bytes[depth] = 0x01;
  return bytes;
}

/** JSON arrays nested `depth` levels deep. */
export function deepJson(depth: number): string {
  return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

/** MessagePack that sends `bytes` as every request's arguments, as a hostile client would; answers decode as usual. */
export function sendingBytes(bytes: Uint8Array): Serializer {
  const real = msgpackSerializer();
  return { id: real.id, name: real.name, encode: () => bytes, decode: (received) => real.decode(received) };
}

/** One raw connection to a listener, opened below any client library. */
export interface RawConnection {
  readonly socket: Socket;
  /** Resolves when the server has closed the connection. */
  readonly closed: Promise<void>;
  /** Resolves once the server has shown that it accepted the connection (an answer, its settings). */
  readonly accepted: Promise<void>;
  destroy(): void;
}

/**
 * Opens a connection to `address` and proves it was accepted the cheapest way its protocol allows:
 * TCP's settings PING, an HTTP answer, HTTP/2 SETTINGS; over TLS after the handshake. `from` is a
 * local address to connect from (any 127.x.y.z works on Linux loopback).
 */
export function openConnection(t: TestContext, scheme: ListenerScheme, address: string, from?: string): RawConnection {
  const { hostname: host, port } = new URL(address);
  const options = { host, port: Number(port), localAddress: from };
  let socket: Socket;
  let accepted: Promise<void>;
  if (scheme === 'grpc' || scheme === 'grpcs') {
    const session = connectHttp2(`${scheme === 'grpcs' ? 'https' : 'http'}://${host}:${port}`, {
      createConnection: () => (scheme === 'grpcs' ? tlsConnect({ ...options, ...testTls().client, ALPNProtocols: ['h2'] }) : netConnect(options)),
    });
    session.on('error', () => undefined);
    socket = session.socket as Socket;
    accepted = new Promise((resolve) => session.once('remoteSettings', () => resolve()));
    onCleanup(t, () => session.destroy());
    const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    return { socket, closed, accepted, destroy: () => session.destroy() };
  }
  socket = isSecure(scheme) ? tlsConnect({ ...options, ...testTls().client }) : netConnect(options);
  socket.on('error', () => undefined);
  onCleanup(t, () => socket.destroy());
  const ready = isSecure(scheme) ? 'secureConnect' : 'connect';
  accepted = new Promise((resolve) => {
    socket.once(ready, () => {
      if (scheme === 'http' || scheme === 'https') socket.write('GET /openapi.json HTTP/1.1\r\nhost: test\r\n\r\n');
      socket.once('data', () => resolve());
    });
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, closed, accepted, destroy: () => socket.destroy() };
}

/**
 * Writes `bytes` one at a time, `everyMs` apart, until the socket closes, as a slowloris client
 * does; resolves with how many it wrote. Writing stops after `bytes` run out. What the server
 * sends is read and dropped, so that its closing the connection is seen.
 */
export async function dribble(socket: Socket, bytes: Uint8Array, everyMs = 50): Promise<number> {
  socket.resume();
  let written = 0;
  while (written < bytes.length && !socket.destroyed && !socket.closed) {
    socket.write(bytes.subarray(written, written + 1));
    written++;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return written;
}
