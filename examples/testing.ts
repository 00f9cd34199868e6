// The test kit (switchyard/testing) in one run: in-memory servers, a memory registry, faults in
// memory and through a real TCP proxy. Run it with `npx tsx examples/testing.ts`.
import { Code, RpcError, codeName } from '../src/index.js';
import { faultProxy, service, startClient, startServer, withServer } from '../src/testing/index.js';
import { CalculatorImpl, CalculatorService } from './calculator.js';

const calculator = service(CalculatorService, new CalculatorImpl());

/** What a call came to: its value, or the name of its error code. */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    return String(await call);
  } catch (error) {
    return codeName(RpcError.from(error).code);
  }
}

// 1. A call through a real proxy, in memory: no socket, no port, everything closed afterwards.
const sum = await withServer({ services: [calculator] }, ({ client }) => client.proxy(CalculatorService).add(1, 2));
console.log(`inproc: 1 + 2 = ${sum}`);

// 2. Two providers found through memory://shop; one dies, calls fail over to the other.
{
  await using first = await startServer({ services: [calculator], registry: 'memory://shop' });
  await using second = await startServer({ services: [calculator], registry: 'memory://shop' });
  await using client = startClient({ registry: 'memory://shop' });
  const calc = client.proxy(CalculatorService);
  await calc.add(0, 0);
  first.faults.update({ dead: true });
  const results = await Promise.all(Array.from({ length: 5 }, (_, i) => outcome(calc.add(i, i))));
  console.log(`failover: with ${first.address} dead, ${second.address} answered ${results.join(', ')}`);
}

// 3. A frozen provider: it takes the call and never answers, so the deadline fires.
{
  await using server = await startServer({ services: [calculator], faults: { frozen: true } });
  await using client = startClient(server);
  const started = Date.now();
  const result = await outcome(client.proxy(CalculatorService).add.with({ timeoutMs: 200 })(2, 2));
  console.log(`frozen: ${result} after ${Date.now() - started} ms`);
}

// 4. Errors on a share of calls, from a seeded generator: the same seed fails the same calls.
{
  const errors = [{ code: Code.UNAVAILABLE, share: 0.3 }];
  await using server = await startServer({ services: [calculator], faults: { errors }, seed: 7 });
  await using client = startClient(server, { cluster: 'failfast' });
  const calc = client.proxy(CalculatorService);
  const pattern = [];
  for (let i = 0; i < 20; i++) pattern.push((await outcome(calc.add(i, 1))) === 'UNAVAILABLE' ? 'x' : '.');
  console.log(`errors (seed ${server.faults.seed}): ${pattern.join('')}`);
}

// 5. A real tcp:// server behind a fault proxy: latency, then a blackhole, then back to normal.
{
  await using server = await startServer({ listen: ['tcp'], services: [calculator] });
  await using proxy = await faultProxy({ target: server.address, faults: { latencyMs: 25 } });
  await using client = startClient(proxy.address);
  const calc = client.proxy(CalculatorService);
  await calc.add(0, 0);
  let started = Date.now();
  await calc.add(1, 1);
  console.log(`proxy: a call over a 25 ms link took ${Date.now() - started} ms`);
  proxy.faults.update({ latencyMs: undefined, blackhole: true });
  started = Date.now();
  console.log(`proxy: blackholed, the call ended ${await outcome(calc.add.with({ timeoutMs: 150 })(1, 1))} after ${Date.now() - started} ms`);
  proxy.faults.clear();
  console.log(`proxy: lifted, 2 + 2 = ${await calc.add(2, 2)}`);
}
