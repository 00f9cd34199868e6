// Closing one of several grpc:// providers under load loses no call.
import assert from 'node:assert/strict';
import test from 'node:test';
import { createServer } from '../../src/index.js';
import { CalculatorService, calculatorImpl, newLog, onCleanup } from '../support/calculator.js';
import { startGrpcClient } from './fixtures/greeter.js';

test('a provider that closes under load sends GOAWAY; calls it refused are retried on the other, none fails', async (t) => {
  const addresses: string[] = [];
  const servers = [];
  for (let i = 0; i < 2; i++) {
    const server = createServer({ registry: false, listen: ['grpc://127.0.0.1:0'] });
    server.provide(CalculatorService, calculatorImpl(newLog()));
    onCleanup(t, () => server.close({ timeoutMs: 2000 }));
    addresses.push((await server.listen())[0]!);
    servers.push(server);
  }
  const calc = startGrpcClient(t, addresses, { loadBalance: 'roundrobin' }).proxy(CalculatorService);
  let running = true;
  let done = 0;
  const failures: unknown[] = [];
  const lanes = Array.from({ length: 16 }, async (_, lane) => {
    while (running) {
      const b = done;
      try {
        assert.equal(await calc.add(lane, b), lane + b);
        done++;
      } catch (error) {
        failures.push(error);
      }
    }
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  const before = done;
  await servers[0]!.close({ timeoutMs: 2000 });
  await new Promise((resolve) => setTimeout(resolve, 200));
  running = false;
  await Promise.all(lanes);
  assert.deepEqual(failures.map(String), []);
  assert.ok(done > before, 'calls went on after the close');
});
