import assert from 'node:assert/strict';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { createClient, createServer } from '../../src/index.js';
import { CalculatorService, calculatorImpl, newLog, onCleanup, waitUntil } from '../support/calculator.js';
import { brokerScope } from '../support/rabbitmq.js';

/**
 * A TCP relay to the broker that numbers the connections through it and can stop forwarding what
 * one of them sends (as a network that drops packets) or cut it.
 */
async function relay(t: TestContext) {
  const connections: Array<{ client: Socket; upstream: Socket; frozen: boolean }> = [];
  const server = createTcpServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: 5672 });
    const connection = { client, upstream, frozen: false };
    connections.push(connection);
    for (const socket of [client, upstream]) {
      socket.on('error', () => undefined);
      socket.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      if (!connection.frozen) upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const { client, upstream } of connections) {
      client.destroy();
      upstream.destroy();
    }
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    port: (server.address() as AddressInfo).port,
    connections,
  };
}

test('replies lost with the reply connection are published again on the next one', async (t) => {
  const scope = await brokerScope(t);
  const through = await relay(t);
  const log = newLog();
  const server = createServer({ listen: [scope.url({ server: 's1' }).replace('127.0.0.1:5672', `127.0.0.1:${through.port}`)], registry: false });
  server.provide(CalculatorService, calculatorImpl(log));
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  await server.listen();
  // The server opens its reply connection first, then the one that consumes requests.
  assert.equal(through.connections.length, 2);
  const replies = through.connections[0]!;

  // A client's first reply goes out on the reply connection, which now loses what it sends.
  replies.frozen = true;
  const clients = Array.from({ length: 3 }, () => createClient({ url: scope.url() }));
  for (const client of clients) onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  const answers = clients.map((client, i) => client.proxy(CalculatorService).add.with({ timeoutMs: 15_000 })(i, 1));
  await waitUntil(() => log.calls.length === 3, 10_000);
  await new Promise((resolve) => setTimeout(resolve, 200));
  replies.client.destroy();

  assert.deepEqual(await Promise.all(answers), [1, 2, 3]);
  assert.equal(log.calls.length, 3, 'each ran once');
  assert.equal(through.connections.length, 3, 'the reply connection was replaced; the other one stayed');
});
