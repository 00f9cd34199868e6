import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { createClient } from '../../src/index.js';
import { FrameType, SETTINGS_PING_ID } from '../../src/transport/tcp/frame.js';
import { headerOnly } from '../support/raw-socket.js';
import { CalculatorService, onCleanup } from '../support/calculator.js';
import { LISTENER_SCHEMES, counted, dribble, isSecure, startOn, testTls, type ListenerScheme } from './support.js';

/**
 * Slowloris on every listener: a client that connects and then sends its first request a byte at
 * a time (or its TLS handshake so) is closed once `firstRequestTimeoutMs` (or the handshake
 * timeout) has passed, and counted. What is asserted is that it was closed and counted, never how
 * fast. A client that does send its request keeps its connection past that time.
 */

const FIRST_REQUEST_MS = 300;

/** The start of a first request in each protocol, never finished: dribbled a byte every 50 ms. */
function firstRequestBytes(scheme: ListenerScheme): Buffer {
  if (scheme === 'tcp' || scheme === 'tls') return Buffer.concat([headerOnly(FrameType.PING, 1000, 0, SETTINGS_PING_ID), Buffer.alloc(200)]);
  if (scheme === 'http' || scheme === 'https') return Buffer.from(`POST /demo.Calculator/add HTTP/1.1\r\nhost: test\r\n${'x-slow: 1\r\n'.repeat(20)}`);
  // The HTTP/2 preface, then a SETTINGS frame of 40 (empty) settings.
  return Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 240, 4, 0, 0, 0, 0, 0]), Buffer.alloc(240)]);
}

for (const scheme of LISTENER_SCHEMES) {
  test(`${scheme}: a connection dribbling its first request is closed and counted`, async (t) => {
    const { server, address } = await startOn(t, scheme, { firstRequestTimeoutMs: FIRST_REQUEST_MS });
    const { hostname: host, port } = new URL(address);
    const socket = isSecure(scheme)
      ? tlsConnect({ host, port: Number(port), ...testTls().client, ALPNProtocols: scheme === 'grpcs' ? ['h2'] : undefined })
      : netConnect({ host, port: Number(port) });
    socket.on('error', () => undefined);
    onCleanup(t, () => socket.destroy());
    await new Promise((resolve) => socket.once(isSecure(scheme) ? 'secureConnect' : 'connect', resolve));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const bytes = firstRequestBytes(scheme);
    await dribble(socket, bytes);
    assert.ok(await closesSoon(closed), 'the server closed the connection');
    await counted(server, 'firstRequestTimeoutMs');
  });
}

for (const scheme of ['tls', 'https', 'grpcs'] as const) {
  test(`${scheme}: a connection dribbling its TLS handshake is closed and counted`, async (t) => {
    const { server, address } = await startOn(t, scheme, { tls: testTls(FIRST_REQUEST_MS).server });
    const { hostname: host, port } = new URL(address);
    const socket = netConnect({ host, port: Number(port) });
    socket.on('error', () => undefined);
    onCleanup(t, () => socket.destroy());
    await new Promise((resolve) => socket.once('connect', resolve));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    // A TLS 1.2 ClientHello record header and the start of its body, never finished.
    const hello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, ...new Array<number>(32).fill(7)]);
    await dribble(socket, hello);
    assert.ok(await closesSoon(closed), 'the server closed the connection');
    await counted(server, 'handshakeTimeoutMs');
  });
}

for (const scheme of LISTENER_SCHEMES) {
  test(`${scheme}: a client that sent its request keeps its connection past the first-request time`, async (t) => {
    const { server, address } = await startOn(t, scheme, { firstRequestTimeoutMs: FIRST_REQUEST_MS });
    const client = createClient({ url: address, tls: testTls().client });
    onCleanup(t, () => client.close({ timeoutMs: 1000 }));
    const calc = client.proxy(CalculatorService);
    assert.equal(await calc.add(1, 2), 3);
    await new Promise((resolve) => setTimeout(resolve, 2 * FIRST_REQUEST_MS));
    assert.equal(await calc.add(3, 4), 7);
    assert.equal(server.refusals().firstRequestTimeoutMs, 0);
  });
}

/** Whether `closed` settles within 10 s (it has long settled when the server did its part). */
async function closesSoon(closed: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(resolve, 10_000, false)));
  const outcome = await Promise.race([closed.then(() => true), late]);
  clearTimeout(timer);
  return outcome;
}
