// Result cache on the client; concurrency limit and rate limiter on the server. One process, loopback.
// Run: npx tsx examples/governance-cache-limits.ts
import { Code, RpcError, concurrencyLimit, createClient, createServer, rateLimit, resultCache } from '../src/index.js';
import { CalculatorImpl, CalculatorService } from './calculator.js';

const calculator = CalculatorService.id; // 'demo.Calculator:1.0.0'

const server = createServer({
  listen: ['tcp://127.0.0.1:0'],
  registry: false,
  interceptors: [
    // At most 64 calls of the service at once, of which at most 2 slowSquare; the rest are refused at once.
    concurrencyLimit({ services: { [calculator]: { max: 64, methods: { slowSquare: { max: 2 } } } } }),
    // 1000 calls/s over the whole server, bursts of 100.
    rateLimit({ ratePerSec: 1000, burst: 100 }),
  ],
});
server.provide(CalculatorService, new CalculatorImpl());
const [address] = await server.listen();

const cache = resultCache({ services: { [calculator]: { methods: { add: { ttlMs: 1000, max: 500 } } } } });
const client = createClient({ url: address!, interceptors: [cache] });
const calc = client.proxy(CalculatorService);

// Ten identical calls at once, then ten more: one remote call in all.
await Promise.all(Array.from({ length: 10 }, () => calc.add(1, 2)));
for (let i = 0; i < 10; i++) await calc.add(1, 2);
console.log('cache after 20 calls of add(1, 2):', cache.stats());
cache.invalidate(CalculatorService, 'add', [1, 2]);

// Four slow calls at once against a limit of two: two run, two are refused without waiting.
const outcomes = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => calc.slowSquare(i, 200)));
for (const outcome of outcomes) {
  if (outcome.status === 'fulfilled') console.log('slowSquare ran:', outcome.value);
  else console.log('slowSquare refused:', (outcome.reason as RpcError).code === Code.RESOURCE_EXHAUSTED, (outcome.reason as RpcError).message);
}

await client.close();
await server.close();
