// A load balancer of your own, registered by name and chosen in options like the built-in ones.
// Run: `npx tsx examples/custom-balancer.ts`. docs/extending.md describes every extension point.
import { createClient, createServer, registerBalancer, type Interceptor, type LoadBalancer, type Server } from '../src/index.js';
import { CalculatorImpl, CalculatorService } from './calculator.js';

/**
 * Sends each call to the provider that has answered this client fastest on average. A provider
 * not yet measured has an average of 0, so each one is tried once before the fastest takes over.
 * (A production policy would also try the others again now and then; the built-in `p2c` does.)
 */
function fastestBalancer(): LoadBalancer {
  return {
    select(candidates) {
      let best = candidates[0]!;
      for (const candidate of candidates) if (candidate.latencyEwmaMs < best.latencyEwmaMs) best = candidate;
      return best;
    },
  };
}

// The factory runs once per method of each proxy, so state a balancer keeps is never shared by accident.
registerBalancer('fastest', () => fastestBalancer());

/** A provider that labels its answers, and takes `delayMs` longer than it needs to. */
async function startProvider(name: string, delayMs: number): Promise<{ server: Server; address: string }> {
  const slowAndLabelled: Interceptor = (next) => async (call) => {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    call.responseMetadata.set('x-served-by', name);
    return next(call);
  };
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false, interceptors: [slowAndLabelled] });
  server.provide(CalculatorService, new CalculatorImpl());
  const [address] = await server.listen();
  return { server, address: address! };
}

const quick = await startProvider('quick', 0);
const sluggish = await startProvider('sluggish', 30);

const client = createClient({ url: [sluggish.address, quick.address] });
const servedBy: string[] = [];
const calc = client.proxy(CalculatorService, {
  loadBalance: 'fastest', // or an object: `loadBalance: fastestBalancer()`
  onResponseMetadata: (metadata) => servedBy.push(String(metadata.get('x-served-by'))),
});

for (let i = 0; i < 8; i++) await calc.add(i, i);
console.log(`8 calls of add, served by: ${servedBy.join(' ')}`);

await client.close();
await quick.server.close();
await sluggish.server.close();
