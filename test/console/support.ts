// What the console tests share: an embedded registry in a temp folder, real providers with admin
// listeners, a client calling in a loop, a console, and requests to it.
import { mkdtemp, rm } from 'node:fs/promises';
import type { OutgoingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { startConsole, type ConsoleOptions, type ConsoleServer } from '../../src/console/index.js';
import { MetricsRegistry, createClient, createServer, type Client, type ClientOptions, type Server, type ServiceProxy } from '../../src/index.js';
import { createEmbeddedRegistry, type EmbeddedRegistry } from '../../src/registry/embedded.js';
import { CalculatorService, calculatorImpl, newLog, onCleanup, type Calculator, type CalculatorLog } from '../support/calculator.js';
import { rawRequest, type RawResponse } from '../support/http.js';

export const TOKEN = 'console-test-token-0123456789';

/** An embedded registry folder of the test's own: `embedded://<dir>`; removed when the test ends. */
export async function tempRegistry(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-console-'));
  onCleanup(t, () => rm(dir, { recursive: true, force: true }));
  return `embedded://${dir}`;
}

/** Opens the embedded registry of `spec` (fast polling), closed when the test ends. */
export function openRegistry(t: TestContext, spec: string): EmbeddedRegistry {
  const registry = createEmbeddedRegistry({ dir: new URL(spec).pathname, pollMs: 100 });
  onCleanup(t, () => registry.close());
  return registry;
}

export interface Provider {
  server: Server;
  /** `tcp://127.0.0.1:<port>` */
  address: string;
  /** `127.0.0.1:<port>`, as rules name it. */
  hostPort: string;
  admin: string;
  log: CalculatorLog;
}

/** A Calculator on tcp:// announced in the registry, with an admin listener; closed when the test ends. */
export async function startProvider(t: TestContext, spec: string): Promise<Provider> {
  const log = newLog();
  // A metrics registry of its own: on the default one, every server of this process would report the calls of all.
  const server = createServer({ listen: ['tcp://127.0.0.1:0'], registry: spec, admin: 'http://127.0.0.1:0', warmupMs: 0, metrics: new MetricsRegistry() });
  server.provide(CalculatorService, calculatorImpl(log));
  onCleanup(t, () => server.close({ timeoutMs: 2000 }));
  const [address] = await server.listen();
  return { server, address: address!, hostPort: address!.slice('tcp://'.length), admin: server.adminAddress!, log };
}

/** A client of the registry with a Calculator proxy; closed when the test ends. */
export function startConsumer(t: TestContext, spec: string, options: Omit<ClientOptions, 'registry'> = {}): { client: Client; calc: ServiceProxy<Calculator> } {
  const client = createClient({ registry: spec, ...options });
  onCleanup(t, () => client.close({ timeoutMs: 2000 }));
  return { client, calc: client.proxy(CalculatorService) };
}

/** Calls `add` one after the other until the test ends (or `stop()`); failures are counted, not thrown. */
export function callInLoop(t: TestContext, calc: ServiceProxy<Calculator>): { calls: () => number; failures: () => number; stop: () => Promise<void> } {
  let running = true;
  let calls = 0;
  let failures = 0;
  const loop = (async () => {
    while (running) {
      try {
        await calc.add(1, 2);
        calls++;
      } catch {
        failures++;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  const stop = async () => {
    running = false;
    await loop;
  };
  onCleanup(t, stop);
  return { calls: () => calls, failures: () => failures, stop };
}

/** A console of `spec`'s registry (opened for it), closed when the test ends. */
export async function startTestConsole(t: TestContext, spec: string, options: Partial<ConsoleOptions> = {}): Promise<ConsoleServer> {
  const registry = options.registry ?? openRegistry(t, spec);
  const console = await startConsole({ registry, registryName: spec, intervalMs: 300, ...options });
  onCleanup(t, () => console.close());
  return console;
}

export interface Ask {
  method?: string;
  headers?: OutgoingHttpHeaders;
  /** Sent as JSON (with its content type) unless a string. */
  body?: unknown;
}

/** One request to the console with node:http: any headers, Host included. */
export function ask(console: ConsoleServer, path: string, options: Ask = {}): Promise<RawResponse> {
  const headers: OutgoingHttpHeaders = { ...options.headers };
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    if (typeof options.body !== 'string') headers['content-type'] ??= 'application/json';
  }
  return rawRequest(console.url, options.method ?? 'GET', path, { headers, body });
}

/** The headers of a script's request with the token. */
export const bearer = { authorization: `Bearer ${TOKEN}` };
/** The headers of the page's changing requests (with its cookie, added by the caller, or on an open loopback console). */
export const pageChange = { 'x-switchyard-console': '1' };

/** `GET /api/state` as JSON; throws unless 200. */
export async function state(console: ConsoleServer, headers: OutgoingHttpHeaders = bearer): Promise<ConsoleState> {
  const answer = await ask(console, '/api/state', { headers });
  if (answer.status !== 200) throw new Error(`GET /api/state answered ${answer.status}: ${answer.text}`);
  return answer.json as ConsoleState;
}

/** Asks `GET /api/state` until `predicate` holds of it; the state it held of. */
export async function stateWhen(console: ConsoleServer, predicate: (s: ConsoleState) => boolean, timeoutMs = 15_000, headers: OutgoingHttpHeaders = bearer): Promise<ConsoleState> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = await state(console, headers);
    if (predicate(s)) return s;
    if (Date.now() > until) throw new Error(`the console's state did not come to hold within ${timeoutMs} ms; last state: ${JSON.stringify(s)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function providerOf(s: ConsoleState, address: string): ProviderState {
  const found = s.services.flatMap((service) => service.providers).find((provider) => provider.address === address);
  if (found === undefined) throw new Error(`no provider ${address} in ${JSON.stringify(s)}`);
  return found;
}

export interface ProviderState {
  id: string;
  address: string;
  hostPort: string;
  service: { name: string; version: string | null; group: string | null };
  ruleKey: string;
  weight: number;
  ruleWeight: number | null;
  state: 'enabled' | 'disabled';
  ruleProblem: string | null;
  tags: string[];
  params: Record<string, string>;
  url: string;
  admin: string | null;
  stats: { calls: number; errors: number; callsPerSecond: number | null; errorsPerSecond: number | null; p99Ms: number | null } | null;
  statsProblem: string | null;
  seenBy: Array<{ client: string; available: boolean; breakers: Array<{ method: string; state: string }> }>;
}

export interface ConsoleState {
  registry: string;
  readOnly: boolean;
  rulesAvailable: boolean;
  consumersRecorded: boolean;
  services: Array<{ name: string; ruleKeys: string[]; providers: ProviderState[]; consumers: Array<{ url: string; from: string }>; timeouts: Array<{ ruleKey: string; method?: string; timeoutMs: number }> }>;
  admins: Array<{ url: string; kind: string; ok: boolean; error: string | null }>;
}
