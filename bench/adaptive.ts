/**
 * `npx tsx bench/adaptive.ts`: what retry budgets, adaptive limits and outlier ejection cost on the
 * small call, `add(a, b)` with 128 in flight over tcp, the client in one process and the server in
 * another, both bundled and run with plain node (bench/bundle.ts).
 *
 * Setups are in `adaptive-setups.ts`; `defaults` (the retry budget that is on by default) must
 * cost nothing measurable. On a busy machine the windows vary by tens of percent: the instruction
 * counts of `adaptive-instructions.ts` are the steadier figure.
 *
 * Each setup is measured in pairs of windows with `none`, back to back, the order swapped every
 * round; "vs none" is the median over its pairs of its calls/s ÷ the paired `none` window's.
 * `none-again`, a second client like `none`, shows the noise.
 *
 * Options: --seconds N (one window, default 0.5), --rounds N (default 10), --only a,b.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createClient, createServer } from '../src/index.js';
import { servers, setups } from './adaptive-setups.js';
import { bundle } from './bundle.js';
import { BenchService } from './governance-setups.js';
import { LoadDriver, type Workload } from './workloads.js';

const workload: Workload = {
  name: 'add-128',
  description: 'add(a, b), 128 in flight, tcp',
  concurrency: 128,
  payloadBytes: 0,
  async call(client, seq) {
    const a = seq & 0xffff;
    const result = await client.add(a, 7);
    if (result !== a + 7) throw new Error(`add(${a}, 7) returned ${String(result)}`);
  },
};

interface Window {
  setup: string;
  pair: number;
  callsPerSec: number;
}

type Message = { type: 'ready'; addresses: Record<string, string> } | { type: 'done'; windows: Window[] } | { type: 'error'; message: string };
const send = (message: Message, then?: () => void) => process.send!(message, undefined, undefined, then);

async function serve(): Promise<void> {
  const addresses: Record<string, string> = {};
  const running = await Promise.all(Object.entries(servers).map(async ([name, options]) => {
    const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: false, ...options });
    server.provide(BenchService, { add: async (a, b) => a + b, echo: async (data) => data });
    addresses[name] = (await server.listen())[0]!;
    return server;
  }));
  process.on('message', (message) => {
    if (message === 'exit') void Promise.all(running.map((server) => server.close({ timeoutMs: 1000 }))).finally(() => process.exit(0));
  });
  send({ type: 'ready', addresses });
}

async function drive(addresses: Record<string, string>, chosen: string[], windowMs: number, rounds: number): Promise<void> {
  const clients = chosen.map((name) => {
    const setup = setups[name]!;
    const client = createClient({ url: addresses[setup.server]!, ...setup.client });
    const bench = client.proxy(BenchService);
    return { name, client, target: { add: (a: number, b: number) => bench.add(a, b), echo: (data: Uint8Array) => bench.echo(data), close: () => client.close() } };
  });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const measure = async (name: string, target: (typeof clients)[number]['target'], pair: number): Promise<Window> => {
    const driver = new LoadDriver(target, workload);
    await sleep(100);
    const result = await driver.measure(windowMs);
    await driver.stop();
    return { setup: name, pair, callsPerSec: result.calls / result.seconds };
  };
  for (const { name, target } of clients) await measure(name, target, 0); // warm-up
  const [baseline, ...others] = clients;
  const windows: Window[] = [];
  let pair = 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < others.length; i++) {
      const { name, target } = others[(i + r) % others.length]!;
      pair++;
      if (r % 2 === 0) windows.push(await measure(baseline!.name, baseline!.target, pair), await measure(name, target, pair));
      else windows.push(await measure(name, target, pair), await measure(baseline!.name, baseline!.target, pair));
    }
  }
  await Promise.all(clients.map(({ client }) => client.close({ timeoutMs: 1000 })));
  send({ type: 'done', windows }, () => process.exit(0));
}

function awaitMessage<T extends Message['type']>(child: ChildProcess, type: T): Promise<Extract<Message, { type: T }>> {
  return new Promise((resolve, reject) => {
    child.on('message', (message: Message) => {
      if (message.type === 'error') reject(new Error(message.message));
      else if (message.type === type) resolve(message as Extract<Message, { type: T }>);
    });
    child.once('exit', (code) => reject(new Error(`a benchmark process exited with code ${code} while waiting for ${type}`)));
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '0.5' }, rounds: { type: 'string', default: '10' }, only: { type: 'string' } } });
  const windowMs = Number(values.seconds) * 1000;
  const rounds = Number(values.rounds);
  const chosen = values.only === undefined ? Object.keys(setups) : ['none', ...values.only.split(',').filter((name) => name !== 'none')];
  for (const name of chosen) if (!(name in setups)) throw new Error(`unknown setup ${name}; setups: ${Object.keys(setups).join(', ')}`);
  const script = await bundle(fileURLToPath(import.meta.url));
  const children: ChildProcess[] = [];
  process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));
  const server = fork(script, ['server'], { stdio: ['ignore', 2, 2, 'ipc'] });
  children.push(server);
  const { addresses } = await awaitMessage(server, 'ready');
  const client = fork(script, ['client', JSON.stringify(addresses), chosen.join(','), String(windowMs), String(rounds)], { stdio: ['ignore', 2, 2, 'ipc'] });
  children.push(client);
  const { windows } = await awaitMessage(client, 'done');
  server.send('exit');
  const ratios = (name: string) => windows.filter((w) => w.setup === name).map((w) => w.callsPerSec / windows.find((b) => b.setup === 'none' && b.pair === w.pair)!.callsPerSec);
  const share = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;
  console.log(`\n${workload.description}; ${rounds} rounds of ${values.seconds} s windows, each paired with a none window; node ${process.version}\n`);
  console.log(['setup', 'calls/s', 'vs none', 'middle half', 'what'].join('\t'));
  for (const name of chosen) {
    const own = windows.filter((w) => w.setup === name).map((w) => w.callsPerSec);
    const sorted = name === 'none' ? [1] : ratios(name).sort((a, b) => a - b);
    const middle = `${share(sorted[Math.floor((sorted.length - 1) / 4)]!)}–${share(sorted[Math.ceil(((sorted.length - 1) * 3) / 4)]!)}`;
    console.log([name, Math.round(median(own)), share(median(sorted)), middle, setups[name]!.describe].join('\t'));
  }
}

const [role, ...args] = process.argv.slice(2);
const report = (error: unknown) => send({ type: 'error', message: (error as Error).stack ?? String(error) }, () => process.exit(1));
if (process.send === undefined) {
  main().catch((error: unknown) => {
    console.error((error as Error).message);
    process.exitCode = 1;
  });
} else {
  process.on('disconnect', () => process.exit(1));
  if (role === 'server') serve().catch(report);
  else if (role === 'client') drive(JSON.parse(args[0]!) as Record<string, string>, args[1]!.split(','), Number(args[2]), Number(args[3])).catch(report);
  else report(new Error(`unknown role ${String(role)}`));
}
