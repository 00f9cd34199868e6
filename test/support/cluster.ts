import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Code,
  RpcError,
  createClient,
  createServer,
  defineService,
  type Client,
  type ClientOptions,
  type Logger,
  type Server,
  type ServerOptions,
  type ServiceDefinition,
} from '../../src/index.js';
import { createEmbeddedRegistry } from '../../src/registry/embedded.js';
import { parseProviderUrl, type Provider } from '../../src/registry/provider.js';
import { onCleanup } from './calculator.js';

/** The service the cluster tests call: every method answers with the label of the provider that ran it. */
export interface Probe {
  /** Not idempotent. */
  whoami(): Promise<string>;
  /** Idempotent: failover may run it again on another provider. */
  read(key?: unknown): Promise<string>;
  /** Not idempotent: failover must not run it twice. */
  write(value: unknown): Promise<string>;
  /** Idempotent; answers after `ms`. */
  sleep(ms: number): Promise<string>;
  /** For hashing tests: `key` and `extra` are only recorded. */
  get(key: unknown, extra?: unknown): Promise<string>;
}

export const probeMethods = {
  whoami: {},
  read: { idempotent: true },
  write: {},
  sleep: { idempotent: true },
  get: {},
} as const;

/** The probe service at a version and group. */
export function probeService(version = '1.0.0', group?: string): ServiceDefinition<Probe> {
  return defineService<Probe>('test.ClusterProbe', { version, group, methods: probeMethods });
}

export const ProbeService = probeService();

/** How a provider behaves now; tests change it while calls run. */
export interface Behaviour {
  /** Every method throws UNAVAILABLE after running (and after its delay). */
  failing: boolean;
  /** Extra time every call takes before answering. */
  delayMs: number;
}

/** One call as the provider's handler saw it. */
export interface Received {
  method: string;
  args: unknown[];
  /** Whether the handler answered with an error. */
  failed: boolean;
}

export function probeImpl(label: string, behaviour: Behaviour, received: Received[]): Probe {
  const run = async (method: string, args: unknown[], ms = 0): Promise<string> => {
    const entry: Received = { method, args, failed: false };
    received.push(entry);
    const wait = ms + behaviour.delayMs;
    if (wait > 0) await sleep(wait);
    entry.failed = behaviour.failing;
    if (entry.failed) throw new RpcError(Code.UNAVAILABLE, `provider ${label} is failing`);
    return label;
  };
  return {
    whoami: () => run('whoami', []),
    read: (key) => run('read', [key]),
    write: (value) => run('write', [value]),
    sleep: (ms) => run('sleep', [ms], ms),
    get: (key, extra) => run('get', [key, extra]),
  };
}

let registries = 0;
let root: string | undefined;

/**
 * A fresh embedded registry folder for one test, and its `registry` option (`embedded:///tmp/...`).
 * The folders are removed when the process exits.
 */
export function freshRegistry(): { registry: string; dir: string } {
  if (root === undefined) {
    const made = mkdtempSync(join(tmpdir(), 'switchyard-cluster-test-'));
    process.on('exit', () => rmSync(made, { recursive: true, force: true }));
    root = made;
  }
  const dir = join(root, `r${++registries}`);
  return { registry: `embedded://${dir}`, dir };
}

export interface ProbeProvider {
  label: string;
  server: Server;
  address: string;
  behaviour: Behaviour;
  received: Received[];
  /** How many calls of `method` (all methods if absent) this provider's handler has received. */
  count(method?: string): number;
}

export interface ProbeProviderOptions extends Omit<ServerOptions, 'listen'> {
  definition?: ServiceDefinition<Probe>;
  behaviour?: Partial<Behaviour>;
}

/** A server announcing the probe service as `label` in `registry`; closed when the test ends. */
export async function startProvider(t: TestContext, label: string, options: ProbeProviderOptions = {}): Promise<ProbeProvider> {
  const { definition = ProbeService, behaviour: initial, ...serverOptions } = options;
  const behaviour: Behaviour = { failing: false, delayMs: 0, ...initial };
  const received: Received[] = [];
  const server = createServer({ warmupMs: 0, ...serverOptions, listen: ['tcp://127.0.0.1:0'] });
  server.provide(definition, probeImpl(label, behaviour, received));
  onCleanup(t, () => server.close({ timeoutMs: 1000 }));
  const [address] = await server.listen();
  const count = (method?: string) => (method === undefined ? received.length : received.filter((r) => r.method === method).length);
  return { label, server, address: address!, behaviour, received, count };
}

/** A client closed when the test ends. */
export function startClient(t: TestContext, options: ClientOptions): Client {
  const client = createClient({ backoff: { initialMs: 50, maxMs: 500 }, ...options });
  onCleanup(t, () => client.close({ timeoutMs: 1000 }));
  return client;
}

/**
 * Calls `call` until every label in `labels` has answered (the client has discovered them all);
 * rejects after `timeoutMs`. Resolves with the labels seen.
 */
export async function waitForLabels(call: () => Promise<unknown>, labels: readonly string[], timeoutMs = 5000): Promise<Set<unknown>> {
  const seen = new Set<unknown>();
  const until = Date.now() + timeoutMs;
  while (!labels.every((label) => seen.has(label))) {
    if (Date.now() > until) throw new Error(`only ${[...seen].join(', ')} of ${labels.join(', ')} answered within ${timeoutMs} ms`);
    seen.add(await call().catch(() => undefined));
    await sleep(2);
  }
  return seen;
}

/** One line a logger was given. */
export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** A logger that keeps what it is given. */
export function collectingLogger(): { logger: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: LogEntry['level']) => (obj: object, msg?: string) => {
    entries.push({ level, obj: obj as Record<string, unknown>, msg });
  };
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, entries };
}

/** A `tcp://` address on which nothing listens (a port just freed). */
export async function deadAddress(): Promise<string> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `tcp://127.0.0.1:${port}`;
}

/**
 * Writes a registry entry for the probe service at `address` from this test, as a provider process
 * would (one that died, or one whose server no longer listens, keeps its entry until it is noticed).
 * The entry is removed when the test ends.
 */
export async function registerByHand(t: TestContext, dir: string, address: string, definition: ServiceDefinition = ProbeService): Promise<Provider> {
  const query = new URLSearchParams({ methods: [...definition.methods.keys()].join(','), weight: '100', timestamp: String(Date.now()) });
  if (definition.key.version) query.set('version', definition.key.version);
  if (definition.key.group) query.set('group', definition.key.group);
  const provider = parseProviderUrl(`${address}/${definition.key.name}?${query.toString()}`);
  const registry = createEmbeddedRegistry({ dir });
  onCleanup(t, () => registry.close());
  await registry.register(provider);
  return provider;
}

/** Runs `count` calls, `concurrency` at a time; resolves with their outcomes in order. */
export async function callMany<R>(count: number, concurrency: number, call: (i: number) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(count);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      try {
        results[i] = { status: 'fulfilled', value: await call(i) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/** Counts of each value in `values`. */
export function tally(values: Iterable<unknown>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[String(value)] = (counts[String(value)] ?? 0) + 1;
  return counts;
}
