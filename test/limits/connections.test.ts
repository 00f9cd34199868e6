import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClient, createServer } from '../../src/index.js';
import { CalculatorService, calculatorImpl, newLog, onCleanup } from '../support/calculator.js';
import { LISTENER_SCHEMES, counted, openConnection, startOn, testTls, type RawConnection } from './support.js';

/**
 * `maxConnections` and `maxConnectionsPerAddress` on every kind of listener: a connection past a
 * limit is closed as soon as it is accepted, before TLS or the protocol sees it, and counted under
 * the limit's name; a place comes free when a connection closes. Connections from 127.0.0.2 count
 * as another remote address (Linux routes all of 127/8 to loopback).
 */

for (const scheme of LISTENER_SCHEMES) {
  test(`${scheme}: a third connection from one address is closed and counted, one from another address is served`, async (t) => {
    const { server, address } = await startOn(t, scheme, { maxConnectionsPerAddress: 2 });
    const first = openConnection(t, scheme, address);
    const second = openConnection(t, scheme, address);
    await Promise.all([first.accepted, second.accepted]);
    const third = openConnection(t, scheme, address);
    await third.closed;
    await counted(server, 'maxConnectionsPerAddress');
    await openConnection(t, scheme, address, '127.0.0.2').accepted;
    assert.equal(server.refusals().maxConnections, 0);

    // Closing one frees its place for a later connection from that address (once the server has
    // seen it close, which a connection made at once may beat: that one is refused, and retried).
    first.destroy();
    await first.closed;
    await acceptedEventually(() => openConnection(t, scheme, address));
  });

  test(`${scheme}: a connection past maxConnections is closed and counted, whatever its address`, async (t) => {
    const { server, address } = await startOn(t, scheme, { maxConnections: 2 });
    await Promise.all([openConnection(t, scheme, address).accepted, openConnection(t, scheme, address, '127.0.0.2').accepted]);
    await openConnection(t, scheme, address, '127.0.0.3').closed;
    await counted(server, 'maxConnections');
    assert.equal(server.refusals().maxConnectionsPerAddress, 0);
  });
}

test('maxConnections counts the connections of all the server\'s listeners together', async (t) => {
  const server = createServer({ registry: false, maxConnections: 1, listen: ['tcp://127.0.0.1:0', 'http://127.0.0.1:0'] });
  server.provide(CalculatorService, calculatorImpl(newLog()));
  onCleanup(t, () => server.close({ timeoutMs: 1000 }));
  const [tcp, http] = (await server.listen()) as [string, string];
  await openConnection(t, 'tcp', tcp).accepted;
  await openConnection(t, 'http', http).closed;
  await counted(server, 'maxConnections');
});

test('a refused HTTP/1.1 connection reads 503 before it closes', async (t) => {
  const { server, address } = await startOn(t, 'http', { maxConnections: 1 });
  const first = openConnection(t, 'http', address);
  await first.accepted;
  const refused = openConnection(t, 'http', address);
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    refused.socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    refused.socket.once('close', () => resolve(text));
  });
  assert.match(answer, /^HTTP\/1\.1 503 /);
  await counted(server, 'maxConnections');
});

test('clients within the limits are served as usual', async (t) => {
  const { server, address } = await startOn(t, 'grpcs', { maxConnections: 4, maxConnectionsPerAddress: 2 });
  const client = createClient({ url: address, tls: testTls().client });
  onCleanup(t, () => client.close({ timeoutMs: 1000 }));
  const calc = client.proxy(CalculatorService);
  assert.deepEqual(await Promise.all([calc.add(1, 2), calc.add(3, 4)]), [3, 7]);
  assert.deepEqual(Object.values(server.refusals()).filter((count) => count > 0), []);
});

/** Opens connections until one is accepted (up to 50 tries). */
async function acceptedEventually(open: () => RawConnection): Promise<void> {
  for (let tries = 0; tries < 50; tries++) {
    const connection = open();
    const outcome = await Promise.race([connection.accepted.then(() => 'accepted'), connection.closed.then(() => 'closed')]);
    if (outcome === 'accepted') return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail('no connection was accepted');
}
