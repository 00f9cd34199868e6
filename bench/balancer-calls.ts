/**
 * Makes a given number of `add` calls through a client of three providers with one load balancer,
 * everything in this one process, 128 in flight; `balancer-instructions.ts` runs it under valgrind
 * to count instructions.
 *
 * usage: node balancer-calls.js <balancer name> <calls>
 */
import { createClient, createServer, type Server } from '../src/index.js';
import { BenchService } from './governance-setups.js';
import { runAddCalls } from './add-calls.js';

const IN_FLIGHT = 128;

async function run(balancer: string, calls: number): Promise<void> {
  const servers: Server[] = [];
  const urls: string[] = [];
  for (let i = 0; i < 3; i++) {
    const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false, warmupMs: 0 });
    server.provide(BenchService, { add: async (a, b) => a + b, echo: async (data) => data });
    urls.push(...(await server.listen()));
    servers.push(server);
  }
  const client = createClient({ url: urls, loadBalance: balancer, retryBudget: false });
  const bench = client.proxy(BenchService);
  await runAddCalls((a, b) => bench.add(a, b), calls, IN_FLIGHT);
  await client.close();
  await Promise.all(servers.map((server) => server.close()));
}

const [name = 'random', calls = '10000'] = process.argv.slice(2);
run(name, Number(calls)).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
