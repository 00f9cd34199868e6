/**
 * Makes a given number of `add(a, 7)` calls under one rule setup, client and server in this one
 * process over tcp://, on an embedded registry in a temp folder of its own (removed at the end),
 * 128 in flight; `rules-instructions.ts` runs it under valgrind to count instructions.
 *
 * usage: node rules-inproc-calls.js <setup> <calls> [ballast]
 *
 * The setups are those of `rules-calls.ts`:
 * - `none`: no rule (the registry keeps rules, none is written);
 * - `cached`: a configurator (consumer side: `retries`, and a `weight` aimed at the provider) and a
 *   condition router on the method: each method's providers are routed once and cached;
 * - `all`: the same and a tag router (a `gray` group of another address): routing reads each call's
 *   tag, so each call is routed on its own, but for calls without metadata (these), which are
 *   routed alike once per method.
 * The rules are written before the client starts, and checked to be in force before the counted
 * calls (both runs of a setup pay for the check alike, so it drops out of the difference).
 *
 * The registry polls and beats its heart far apart here, as do the connections: their timers run for
 * as long as a run lasts, not per call, and a run under valgrind lasts as long as the machine's load
 * makes it.
 * `ballast` small objects (default 0) are kept alive for the run, as in `governance-calls.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, createServer, type Client, type ServiceProxy } from '../src/index.js';
import { defaults } from '../src/options.js';
import { createEmbeddedRegistry } from '../src/registry/embedded.js';
import { serviceRuleKey } from '../src/rules/store-keys.js';
import { BenchService, type Bench } from './governance-setups.js';
import { runAddCalls } from './add-calls.js';

const IN_FLIGHT = 128;
const PROVIDER_APP = 'bench-provider';
const SETUPS = ['none', 'cached', 'all'];
// What runs on the wall clock runs as often as the machine's load makes a run last, not per call:
// heartbeats far apart, and lists held until their rules are read however slowly (under valgrind,
// 1 s is a few hundred calls' time), so that each run sets up the same way.
const QUIET = { heartbeatIntervalMs: 600_000, idleTimeoutMs: 1_800_000 };
defaults.rulesSettleMs = 600_000;

type EmbeddedRegistry = ReturnType<typeof createEmbeddedRegistry>;

/** The rules of `cached` and `all`, written as an operator would before the client starts. */
async function writeRules(registry: EmbeddedRegistry, setup: string, providerAddress: string): Promise<void> {
  if (setup === 'none') return;
  const key = serviceRuleKey(BenchService.key);
  await registry.rules.put({ key, kind: 'configurators' }, [
    'configVersion: v2.7', 'scope: service', `key: ${BenchService.id}`, 'configs:',
    '  - side: consumer', '    parameters:', '      retries: 3',
    '  - side: consumer', `    providerAddresses: ["${providerAddress}"]`, '    parameters:', '      weight: 100', '',
  ].join('\n'));
  await registry.rules.put({ key, kind: 'condition-router' }, ['configVersion: v3.0', `key: ${BenchService.id}`, 'force: true', 'conditions:', '  - method = add => host = 127.0.0.1', '  - method = echo => host = 10.255.255.1', ''].join('\n'));
  if (setup === 'all') {
    await registry.rules.put({ key: PROVIDER_APP, kind: 'tag-router' }, [`key: ${PROVIDER_APP}`, 'force: false', 'tags:', '  - name: gray', '    addresses: ["10.255.255.1:20880"]', ''].join('\n'));
  }
}

/**
 * Waits until the setup's rules are in force (`echo` routed away by the condition rule, a forced
 * `gray` tag finding no provider) and the proxy's providers are known; fails after `ms`. Under
 * valgrind everything runs tens of times slower, and rules and providers arrive on the wall clock.
 */
async function awaitRulesInForce(setup: string, bench: ServiceProxy<Bench>, ms: number): Promise<void> {
  const fails = (call: Promise<unknown>) => call.then(() => false, () => true);
  const until = Date.now() + ms;
  for (;;) {
    const added = await bench.add(1, 2).catch(() => undefined);
    const echoRouted = await fails(bench.echo(new Uint8Array(1)));
    const tagRouted = await fails(bench.add.with({ metadata: { 'dubbo.tag': 'gray', 'dubbo.force.tag': 'true' } })(1, 2));
    if (added === 3 && echoRouted === (setup !== 'none') && tagRouted === (setup === 'all')) return;
    if (Date.now() > until) throw new Error(`the rules of ${setup} are not in force as written (add answered: ${added === 3}, echo routed away: ${echoRouted}, forced tag refused: ${tagRouted})`);
    await sleep(100);
  }
}

async function run(setup: string, calls: number): Promise<void> {
  if (!SETUPS.includes(setup)) throw new Error(`unknown setup ${JSON.stringify(setup)}; setups: ${SETUPS.join(', ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-rules-inproc-'));
  // A run stopped from outside (a benchmark interrupted) leaves no folder behind either.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(1);
    });
  }
  const registry = createEmbeddedRegistry({ dir, pollMs: 600_000, heartbeatMs: 300_000, ttlMs: 900_000 });
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry, application: PROVIDER_APP, warmupMs: 0, ...QUIET });
  let client: Client | undefined;
  try {
    server.provide(BenchService, { add: async (a, b) => a + b, echo: async (data) => data });
    const [url] = await server.listen();
    await writeRules(registry, setup, url!.replace(/^tcp:\/\//, ''));
    client = createClient({ registry, application: 'bench-consumer', waitForProvidersMs: 60_000, ...QUIET });
    const bench = client.proxy(BenchService);
    await awaitRulesInForce(setup, bench, 600_000);
    await runAddCalls((a, b) => bench.add(a, b), calls, IN_FLIGHT);
  } finally {
    // On failure too: an open server would keep the process alive.
    await client?.close();
    await server.close();
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const [setup = 'none', calls = '10000', ballast = '0'] = process.argv.slice(2);
const kept: unknown[] = [];
for (let i = 0; i < Number(ballast); i++) kept.push({ values: new Array<number>(16).fill(i), label: `ballast ${i}` });
(globalThis as { benchBallast?: unknown[] }).benchBallast = kept;
run(setup, Number(calls)).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
