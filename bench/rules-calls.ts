/**
 * `npx tsx bench/rules-calls.ts` (suggested script: `npm run bench:rules:calls`): what obeying traffic
 * rules costs the small call, end to end.
 *
 * `add(a, b)` over tcp:// with 128 calls in flight, the servers in one process and the clients in
 * another, each pair on an embedded registry (a temp folder) of its own:
 * - `none`: no rule (the baseline: the registry keeps rules, none is written);
 * - `control`: no rule either, set up exactly as `none`: how far two identical setups differ in one
 *   run is the noise floor of the comparison;
 * - `cached`: a configurator (consumer side: `retries`, and a `weight` aimed at the provider) and a
 *   condition router on the method (`method = add => host = 127.0.0.1`, and `echo` sent to a host
 *   that has no provider): routing reads no call data, so each method's providers are routed once
 *   and cached;
 * - `all`: the same, plus a tag router (a `gray` group of another address): a tag is read from every
 *   call, so every call is routed on its own.
 * The rules are written before the clients start; a client holds its first provider list until its
 * rules are read, so every measured call runs under them.
 *
 * Each rule setup is measured in windows paired with a `none` window, back to back, the order
 * swapped every round; "vs none" is the median over the pairs of the ratio to the paired window.
 * CPU is the client process's (what the rules add is the consumer's: the servers run the same code
 * in every setup). Target: each setup within 3 % of `none`.
 *
 * Options: --seconds N (one window, default 0.5), --rounds N (default 10), --warmup N (default 1).
 * Figures measured with `--seconds 1 --rounds 20`, and what they say: docs/rules.md, "Cost".
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createClient, createServer } from '../src/index.js';
import { createEmbeddedRegistry } from '../src/registry/embedded.js';
import { serviceRuleKey } from '../src/rules/store-keys.js';
import { bundle } from './bundle.js';
import { BenchService } from './governance-setups.js';
import { LoadDriver, findWorkload } from './workloads.js';

const SETUPS = ['none', 'control', 'cached', 'all'] as const;
type SetupName = (typeof SETUPS)[number];
const PROVIDER_APP = 'bench-provider';

const workload = findWorkload('add-128');

interface Window {
  setup: SetupName;
  pair: number;
  callsPerSec: number;
  cpuUsPerCall: number;
  p50us: number;
}

type Message = { type: 'ready'; addresses: Record<string, string> } | { type: 'done'; windows: Window[] } | { type: 'error'; message: string };
const send = (message: Message, then?: () => void) => process.send!(message, undefined, undefined, then);
const registryOf = (root: string, setup: SetupName) => `embedded://${join(root, setup)}`;

async function serve(root: string): Promise<void> {
  const addresses: Record<string, string> = {};
  const servers = await Promise.all(SETUPS.map(async (setup) => {
    const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: registryOf(root, setup), application: PROVIDER_APP, warmupMs: 0 });
    server.provide(BenchService, { add: async (a, b) => a + b, echo: async (data) => data });
    addresses[setup] = (await server.listen())[0]!;
    return server;
  }));
  process.on('message', (message) => {
    if (message === 'exit') void Promise.all(servers.map((server) => server.close({ timeoutMs: 1000 }))).finally(() => process.exit(0));
  });
  send({ type: 'ready', addresses });
}

async function drive(root: string, windowMs: number, rounds: number, warmupMs: number): Promise<void> {
  const clients = SETUPS.map((setup) => {
    const client = createClient({ registry: registryOf(root, setup), application: 'bench-consumer' });
    const bench = client.proxy(BenchService);
    return { setup, client, target: { add: (a: number, b: number) => bench.add(a, b), echo: (data: Uint8Array) => bench.echo(data), close: () => client.close() } };
  });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  for (const { target } of clients) {
    const driver = new LoadDriver(target, workload);
    await sleep(warmupMs);
    await driver.stop();
    driver.check();
  }
  await checkRulesInForce(clients);
  const measure = async (setup: SetupName, target: (typeof clients)[number]['target'], pair: number): Promise<Window> => {
    const driver = new LoadDriver(target, workload);
    await sleep(100);
    const result = await driver.measure(windowMs);
    await driver.stop();
    return { setup, pair, callsPerSec: result.calls / result.seconds, cpuUsPerCall: result.cpuUs / result.calls, p50us: result.p50us };
  };
  const [baseline, ...others] = clients;
  const windows: Window[] = [];
  let pair = 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < others.length; i++) {
      const other = others[(i + r) % others.length]!;
      pair++;
      if (r % 2 === 0) windows.push(await measure('none', baseline!.target, pair), await measure(other.setup, other.target, pair));
      else windows.push(await measure(other.setup, other.target, pair), await measure('none', baseline!.target, pair));
    }
  }
  await Promise.all(clients.map(({ client }) => client.close({ timeoutMs: 1000 })));
  send({ type: 'done', windows }, () => process.exit(0));
}

/** Fails unless each setup's rules are in force: `echo` is routed away by the condition rule, and a forced `gray` tag finds no provider. */
async function checkRulesInForce(clients: Array<{ setup: SetupName; client: ReturnType<typeof createClient> }>): Promise<void> {
  const fails = (call: Promise<unknown>) => call.then(() => false, () => true);
  for (const { setup, client } of clients) {
    const bench = client.proxy(BenchService, { cluster: 'failfast' });
    const echoRouted = await fails(bench.echo(new Uint8Array(1)));
    const tagRouted = await fails(bench.add.with({ metadata: { 'dubbo.tag': 'gray', 'dubbo.force.tag': 'true' } })(1, 2));
    if (echoRouted !== (setup === 'cached' || setup === 'all') || tagRouted !== (setup === 'all')) throw new Error(`the rules of ${setup} are not in force as written (echo routed away: ${echoRouted}, forced tag refused: ${tagRouted})`);
  }
}

/** The rules of `cached` and `all`, written as an operator would before the clients start. */
async function writeRules(root: string, addresses: Record<string, string>): Promise<void> {
  const key = serviceRuleKey(BenchService.key);
  for (const setup of ['cached', 'all'] as const) {
    const registry = createEmbeddedRegistry({ dir: join(root, setup) });
    const provider = addresses[setup]!.replace(/^tcp:\/\//, '');
    await registry.rules.put({ key, kind: 'configurators' }, [
      'configVersion: v2.7', 'scope: service', `key: ${BenchService.id}`, 'configs:',
      '  - side: consumer', '    parameters:', '      retries: 3',
      '  - side: consumer', `    providerAddresses: ["${provider}"]`, '    parameters:', '      weight: 100', '',
    ].join('\n'));
    await registry.rules.put({ key, kind: 'condition-router' }, ['configVersion: v3.0', `key: ${BenchService.id}`, 'force: true', 'conditions:', '  - method = add => host = 127.0.0.1', '  - method = echo => host = 10.255.255.1', ''].join('\n'));
    if (setup === 'all') {
      await registry.rules.put({ key: PROVIDER_APP, kind: 'tag-router' }, [`key: ${PROVIDER_APP}`, 'force: false', 'tags:', '  - name: gray', '    addresses: ["10.255.255.1:20880"]', ''].join('\n'));
    }
    await registry.close();
  }
}

const live = new Set<ChildProcess>();

function spawn(script: string, args: string[]): ChildProcess {
  const child = fork(script, args, { stdio: ['ignore', 2, 2, 'ipc'] });
  live.add(child);
  child.on('exit', () => live.delete(child));
  return child;
}

function awaitMessage<T extends Message['type']>(child: ChildProcess, type: T, ms: number): Promise<Extract<Message, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} within ${ms} ms`)), ms);
    child.on('message', (message: Message) => {
      if (message.type === 'error') reject(new Error(message.message));
      if (message.type !== type) return;
      clearTimeout(timer);
      resolve(message as Extract<Message, { type: T }>);
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
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '0.5' }, rounds: { type: 'string', default: '10' }, warmup: { type: 'string', default: '1' } } });
  const [windowMs, rounds, warmupMs] = [Number(values.seconds) * 1000, Number(values.rounds), Number(values.warmup) * 1000];
  if (!(windowMs > 0) || !(rounds >= 1) || !(warmupMs >= 0)) throw new Error('--seconds, --rounds and --warmup take positive numbers');
  const root = mkdtempSync(join(tmpdir(), 'switchyard-bench-rules-'));
  process.on('exit', () => rmSync(root, { recursive: true, force: true }));
  const script = await bundle(fileURLToPath(import.meta.url));
  const server = spawn(script, ['server', root]);
  const { addresses } = await awaitMessage(server, 'ready', 30_000);
  await writeRules(root, addresses);
  const client = spawn(script, ['client', root, String(windowMs), String(rounds), String(warmupMs)]);
  const { windows } = await awaitMessage(client, 'done', 60_000 + (SETUPS.length * warmupMs + rounds * 4 * (windowMs + 300)) * 2);
  server.send('exit');

  const ratios = (setup: SetupName, field: 'callsPerSec' | 'cpuUsPerCall') =>
    windows.filter((w) => w.setup === setup).map((w) => w[field] / windows.find((b) => b.setup === 'none' && b.pair === w.pair)![field]);
  const of = (setup: SetupName, field: keyof Omit<Window, 'setup' | 'pair'>) => median(windows.filter((w) => w.setup === setup).map((w) => w[field]));
  const pct = (ratio: number) => `${((ratio - 1) * 100).toFixed(1)}%`;
  console.log(`\n${workload.description} over tcp; ${rounds} rounds of ${values.seconds} s windows, each paired with a none window; node ${process.version}\n`);
  console.log(['setup', 'calls/s', 'vs none', 'client CPU µs/call', 'vs none', 'p50 µs'].join('\t'));
  for (const setup of SETUPS) {
    const vs = (field: 'callsPerSec' | 'cpuUsPerCall') => (setup === 'none' ? '' : pct(median(ratios(setup, field))));
    console.log([setup, Math.round(of(setup, 'callsPerSec')), vs('callsPerSec'), of(setup, 'cpuUsPerCall').toFixed(2), vs('cpuUsPerCall'), Math.round(of(setup, 'p50us'))].join('\t'));
  }
}

const [role, ...args] = process.argv.slice(2);
if (process.send === undefined) {
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
  main().then(() => process.exit(0), (error: unknown) => {
    console.error((error as Error).message);
    process.exit(1);
  });
} else {
  const report = (error: unknown) => send({ type: 'error', message: (error as Error).stack ?? String(error) }, () => process.exit(1));
  process.on('disconnect', () => process.exit(1));
  if (role === 'server') serve(args[0]!).catch(report);
  else if (role === 'client') drive(args[0]!, Number(args[1]), Number(args[2]), Number(args[3])).catch(report);
  else report(new Error(`unknown role ${String(role)}`));
}
