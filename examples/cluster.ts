// Two providers and a client that finds them through the embedded registry (no addresses given),
// spreads calls round-robin and fails over when a provider cannot serve. Run: `npx tsx examples/cluster.ts`
// docs/cluster.md explains each option used here.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, RpcError, codeName, createClient, createServer, type Interceptor, type Server } from '../src/index.js';
import { CalculatorImpl, CalculatorService } from './calculator.js';

// A registry folder of this run only; `registry: 'embedded'` (the default) would share the machine's.
const dir = await mkdtemp(join(tmpdir(), 'switchyard-cluster-'));
const registry = `embedded://${dir}`;

/** Providers by name; `overloaded` ones refuse calls with UNAVAILABLE, as a provider shedding load would. */
const overloaded = new Set<string>();

async function startProvider(name: string): Promise<Server> {
  const refuseOrLabel: Interceptor = (next) => (call) => {
    if (overloaded.has(name)) return Promise.reject(new RpcError(Code.UNAVAILABLE, `${name} is overloaded`));
    call.responseMetadata.set('x-served-by', name);
    return next(call);
  };
  // warmupMs: 0, since both start together and this example lasts a moment; the default (30 s)
  // would give a freshly started provider a small but growing share of calls.
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry, warmupMs: 0, interceptors: [refuseOrLabel] });
  server.provide(CalculatorService, new CalculatorImpl());
  await server.listen(); // resolves once the provider is registered
  return server;
}

const a = await startProvider('a');
const b = await startProvider('b');

const client = createClient({ registry });
const servedBy: string[] = [];
const calc = client.proxy(CalculatorService, {
  loadBalance: 'roundrobin', // a b a b ...
  cluster: 'failover', // the default: on UNAVAILABLE, try another provider when that is safe
  retries: 1, // at most one further provider per call (default 2)
  onResponseMetadata: (metadata) => servedBy.push(String(metadata.get('x-served-by') ?? '-')),
});

async function report(label: string, calls: () => Promise<unknown>): Promise<void> {
  servedBy.length = 0;
  try {
    await calls();
    console.log(`${label.padEnd(40)} ok, served by ${servedBy.join(' ')}`);
  } catch (error) {
    const e = RpcError.from(error);
    console.log(`${label.padEnd(40)} ${codeName(e.code)}: ${e.message}`);
  }
}
const sixAdds = async () => {
  for (let i = 0; i < 6; i++) await calc.add(i, i);
};

await report('6 calls of add', sixAdds);

overloaded.add('b');
// add is declared idempotent, so a call b refused is run again on a.
await report('6 calls of add, b overloaded', sixAdds);
// divide is not idempotent: b may have run it before failing, so failover does not run it twice.
await report('divide(1, 1), b overloaded', async () => {
  await calc.divide(1, 1);
  await calc.divide(1, 1);
});
overloaded.delete('b');

// A graceful close takes b out of the registry and drains it; the client keeps calling a.
await b.close();
await report('6 calls of add, b closed', sixAdds);

await client.close();
await a.close();
await rm(dir, { recursive: true, force: true });
