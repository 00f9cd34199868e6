import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import type { ServiceKey } from '../core/service.js';
import type { RegistryOpener } from '../registry/index.js';
import { parseProviderUrl, providerId, providerUrl, type Provider } from '../registry/provider.js';
import type { Registry, Unsubscribe } from '../registry/registry.js';
import { MemoryRuleDocuments, MemoryRuleStore } from '../rules/store-memory.js';

type Listener = (providers: Provider[]) => void;

/** One namespace: provider URLs by service name and provider id, and who listens to each name. */
class Namespace {
  readonly entries = new Map<string, Map<string, string>>();
  readonly listeners = new Map<string, Set<Listener>>();
  readonly rules = new MemoryRuleDocuments();

  list(name: string): Provider[] {
    // Parsed from the URL each time, as a registry's reader would: what a URL cannot carry is lost here too.
    return [...(this.entries.get(name)?.values() ?? [])].map(parseProviderUrl);
  }

  /** Tells the listeners of `name` on a later microtask: never inside the register or unregister that changed it. */
  changed(name: string): void {
    queueMicrotask(() => {
      const listeners = this.listeners.get(name);
      if (listeners === undefined || listeners.size === 0) return;
      const providers = this.list(name);
      for (const listener of [...listeners]) if (listeners.has(listener)) listener([...providers]);
    });
  }
}

const namespaces = new Map<string, Namespace>();

/**
 * A registry held in this process's memory: every instance opened on the same namespace sees the
 * providers the others registered, as processes sharing one registry server would. Entries are kept
 * as provider URLs, as the real registries keep them. Each instance removes what it registered
 * when it closes; `MemoryRegistry.clear(namespace)` forgets a namespace's entries between tests.
 * Its `rules` keep traffic rule documents for the namespace (see docs/registry.md, Rule store).
 *
 * ```ts
 * createServer({ listen: ['inproc://orders:0'], registry: 'memory://shop' });
 * createClient({ registry: 'memory://shop' });
 * ```
 */
export class MemoryRegistry implements Registry {
  readonly #space: Namespace;
  readonly #own = new Map<string, Provider>();
  readonly #subscriptions = new Set<Unsubscribe>();
  #closed = false;
  /** The namespace's rule documents, shared by every instance opened on it. */
  readonly rules: MemoryRuleStore;

  constructor(readonly namespace = 'default') {
    let space = namespaces.get(namespace);
    if (space === undefined) namespaces.set(namespace, (space = new Namespace()));
    this.#space = space;
    this.rules = new MemoryRuleStore(space.rules);
  }

  /** Forgets every entry and rule of `namespace` (what a test left behind); its open subscriptions and watches hear they are gone. */
  static clear(namespace: string): void {
    const space = namespaces.get(namespace);
    if (space === undefined) return;
    const names = [...space.entries.keys()];
    space.entries.clear();
    for (const name of names) space.changed(name);
    space.rules.clear();
  }

  async register(provider: Provider): Promise<void> {
    this.#assertOpen();
    const id = providerId(provider);
    const name = provider.service.name;
    let entries = this.#space.entries.get(name);
    if (entries === undefined) this.#space.entries.set(name, (entries = new Map()));
    entries.set(id, providerUrl(provider));
    this.#own.set(id, provider);
    this.#space.changed(name);
  }

  async unregister(provider: Provider): Promise<void> {
    const id = providerId(provider);
    if (!this.#own.delete(id)) return;
    const name = provider.service.name;
    this.#space.entries.get(name)?.delete(id);
    this.#space.changed(name);
  }

  subscribe(service: ServiceKey, onChange: Listener): Unsubscribe {
    this.#assertOpen();
    const name = service.name;
    let listeners = this.#space.listeners.get(name);
    if (listeners === undefined) this.#space.listeners.set(name, (listeners = new Set()));
    // A listener of its own, so that one function subscribed twice is two subscriptions.
    const listener: Listener = (providers) => onChange(providers);
    listeners.add(listener);
    queueMicrotask(() => {
      if (listeners.has(listener)) listener(this.#space.list(name));
    });
    const unsubscribe = (): void => {
      listeners.delete(listener);
      this.#subscriptions.delete(unsubscribe);
    };
    this.#subscriptions.add(unsubscribe);
    return unsubscribe;
  }

  async services(): Promise<string[]> {
    return [...this.#space.entries.keys()].sort();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.rules.close();
    for (const unsubscribe of [...this.#subscriptions]) unsubscribe();
    for (const provider of [...this.#own.values()]) await this.unregister(provider);
  }

  #assertOpen(): void {
    if (this.#closed) throw new RpcError(Code.FAILED_PRECONDITION, `memory registry ${this.namespace} is closed`);
  }
}

/** Opens `memory://<namespace>` (`memory` alone: the namespace `default`). */
export const openMemoryRegistry: RegistryOpener = (address) => {
  const match = /^memory:(?:\/\/([^/?#]*))?/i.exec(address);
  const namespace = match?.[1] === undefined || match[1] === '' ? 'default' : decodeURIComponent(match[1]);
  return new MemoryRegistry(namespace);
};
