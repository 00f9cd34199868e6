// What the rule wiring tests share: the registries they run on (embedded in a temp folder, and a real
// ZooKeeper written to as Dubbo Admin writes it), providers of a service of each test's own, a client
// calling in a loop, and waits bounded at 2 s.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineService, RpcError, type Client, type ServiceDefinition, type ServiceProxy } from '../../src/index.js';
import { createEmbeddedRegistry } from '../../src/registry/embedded.js';
import { openRegistry } from '../../src/registry/index.js';
import type { Provider } from '../../src/registry/provider.js';
import type { RuleKind } from '../../src/rules/types.js';
import { collectingLogger, freshRegistry, probeMethods, startClient, startProvider, type LogEntry, type Probe, type ProbeProvider } from '../support/cluster.js';
import { onCleanup } from '../support/calculator.js';
import { uniqueServiceName } from '../registry/contract.js';

/** A registry the tests run on, and how an operator's tool writes rules into it. */
export interface RuleBackend {
  readonly name: string;
  /** The registry address of one test's servers and clients. */
  registry(t: TestContext): string;
  /** Writes (creates or replaces) a rule document from outside the servers and clients. */
  put(t: TestContext, registry: string, key: string, kind: RuleKind, text: string): Promise<void>;
  /** Deletes a rule document. */
  remove(t: TestContext, registry: string, key: string, kind: RuleKind): Promise<void>;
}

/** The embedded registry in a fresh folder; rules written through another registry instance on it, as `switchyard rules put` does. */
export const embeddedBackend: RuleBackend = {
  name: 'embedded',
  registry: () => freshRegistry().registry,
  put: async (t, registry, key, kind, text) => writerOf(t, registry).rules.put({ key, kind }, text),
  remove: async (t, registry, key, kind) => writerOf(t, registry).rules.delete({ key, kind }),
};

const writers = new Map<string, ReturnType<typeof createEmbeddedRegistry>>();

function writerOf(t: TestContext, registry: string) {
  let writer = writers.get(registry);
  if (writer === undefined) {
    const made = createEmbeddedRegistry({ dir: decodeURIComponent(new URL(registry).pathname) });
    writers.set(registry, made);
    onCleanup(t, async () => {
      writers.delete(registry);
      await made.close();
    });
    writer = made;
  }
  return writer;
}

/** One test's view of a service: its own name and application, so that no other test's rules or providers reach it. */
export interface Fleet {
  readonly definition: ServiceDefinition<Probe>;
  /** The node key of the service's rules, `name:1.0.0:`. */
  readonly ruleKey: string;
  /** The key a service-scoped rule's YAML names, `name:1.0.0`. */
  readonly yamlKey: string;
  /** The providers' application (their tag router's key). */
  readonly app: string;
  readonly registry: string;
  readonly providers: ProbeProvider[];
  readonly client: Client;
  readonly proxy: ServiceProxy<Probe>;
  /** What the client logged. */
  readonly clientLog: LogEntry[];
  /** The `host:port` of a provider, as rules name it. */
  address(provider: ProbeProvider): string;
}

let fleets = 0;

/** Providers labelled `labels` of a service of this test's own, and a client of it, on `backend`. */
export async function startFleet(t: TestContext, backend: RuleBackend, labels: readonly string[], clientOptions: Parameters<typeof startClient>[1] = {}): Promise<Fleet> {
  const registry = backend.registry(t);
  const name = uniqueServiceName(`Wiring${++fleets}`);
  const definition = defineService<Probe>(name, { version: '1.0.0', methods: probeMethods });
  const app = `wiring-app-${process.pid}-${fleets}`;
  const providers: ProbeProvider[] = [];
  for (const label of labels) providers.push(await startProvider(t, label, { definition, registry, application: app }));
  const { logger, entries } = collectingLogger();
  const client = startClient(t, { registry, application: `wiring-consumer-${fleets}`, logger, ...clientOptions });
  const proxy = client.proxy(definition);
  const address = (provider: ProbeProvider) => provider.address.replace(/^tcp:\/\//, '');
  const fleet: Fleet = { definition, ruleKey: `${name}:1.0.0:`, yamlKey: `${name}:1.0.0`, app, registry, providers, client, proxy, clientLog: entries, address };
  // Every provider answers before the test begins: discovery is not what is tested.
  await within(5000, async () => new Set(await Promise.all(Array.from({ length: labels.length * 8 }, () => proxy.whoami()))).size === labels.length,
    `every provider of ${labels.join(', ')} answering`);
  return fleet;
}

/** Calls made in a loop by a client, with who answered each. */
export class CallLoop {
  readonly answers: Array<string | RpcError> = [];
  private running = true;
  private readonly lanes: Promise<void>[];

  constructor(t: TestContext, call: () => Promise<string>, concurrency = 4) {
    const lane = async () => {
      while (this.running) {
        try {
          this.answers.push(await call());
        } catch (error) {
          this.answers.push(RpcError.from(error));
        }
        await sleep(1);
      }
    };
    this.lanes = Array.from({ length: concurrency }, lane);
    onCleanup(t, () => this.stop());
  }

  /** How many answers came from `label` since answer number `from`. */
  countSince(from: number, label: string): number {
    return this.answers.slice(from).filter((answer) => answer === label).length;
  }

  /** Waits until `count` more answers have come, and returns those. */
  async next(count: number, timeoutMs = 10_000): Promise<Array<string | RpcError>> {
    const from = this.answers.length;
    await within(timeoutMs, () => this.answers.length >= from + count, `${count} more calls answered`);
    return this.answers.slice(from, from + count);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.lanes);
  }
}

/** Polls `check` until it holds; fails with `what` after `timeoutMs` (2 s: how soon a rule must be obeyed). */
export async function within(timeoutMs: number, check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) assert.fail(`not within ${timeoutMs} ms: ${what}`);
    await sleep(10);
  }
}

/** The entries of `service` in `registry`, as a newly started consumer would see them now. */
export function registryView(t: TestContext, registry: string, service: ServiceDefinition): { latest: () => Provider[] } {
  let latest: Provider[] = [];
  const opened = openRegistry(registry);
  onCleanup(t, async () => (await opened).registry.close());
  void opened.then(({ registry: open }) => onCleanup(t, open.subscribe(service.key, (providers) => (latest = providers))));
  return { latest: () => latest };
}

/** How long an async function took, with its outcome. */
export async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value?: T; error?: RpcError }> {
  const started = performance.now();
  try {
    const value = await run();
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error: RpcError.from(error) };
  }
}
