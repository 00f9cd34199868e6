/**
 * Makes a given number of `add` calls through one adaptive setup, client and server in this one
 * process, 128 in flight; `adaptive-instructions.ts` runs it under valgrind to count instructions.
 *
 * usage: node adaptive-calls.js <setup> <calls>
 */
import { createClient, createServer } from '../src/index.js';
import { BenchService } from './governance-setups.js';
import { servers, setups } from './adaptive-setups.js';
import { runAddCalls } from './add-calls.js';

const IN_FLIGHT = 128;

async function run(name: string, calls: number): Promise<void> {
  const setup = setups[name];
  if (setup === undefined) throw new Error(`unknown setup ${JSON.stringify(name)}; setups: ${Object.keys(setups).join(', ')}`);
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false, ...servers[setup.server] });
  server.provide(BenchService, { add: async (a, b) => a + b, echo: async (data) => data });
  const [url] = await server.listen();
  const client = createClient({ url: url!, ...setup.client });
  const bench = client.proxy(BenchService);
  await runAddCalls((a, b) => bench.add(a, b), calls, IN_FLIGHT);
  await client.close();
  await server.close();
}

const [name = 'none', calls = '10000'] = process.argv.slice(2);
run(name, Number(calls)).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
