import type { Provider, Registry, ServiceKey, Unsubscribe } from '../../src/index.js';
import { providerId } from '../../src/registry/provider.js';

type Listener = (providers: Provider[]) => void;

/** Providers by service name, then by provider id, and who listens to each service: one "server". */
class Space {
  readonly providers = new Map<string, Map<string, Provider>>();
  readonly listeners = new Map<string, Set<Listener>>();

  notify(name: string): void {
    const list = [...(this.providers.get(name)?.values() ?? [])];
    for (const listener of this.listeners.get(name) ?? []) listener([...list]);
  }
}

const spaces = new Map<string, Space>();

/**
 * A registry kept in this process's memory, as a user might write one: instances opened on the
 * same space see each other's providers. Each instance removes what it registered when it closes.
 */
export class MemoryRegistry implements Registry {
  readonly #space: Space;
  readonly #own = new Map<string, Provider>();
  readonly #subscriptions = new Set<() => void>();
  closed = false;

  constructor(readonly spaceName: string) {
    let space = spaces.get(spaceName);
    if (space === undefined) spaces.set(spaceName, (space = new Space()));
    this.#space = space;
  }

  async register(provider: Provider): Promise<void> {
    const id = providerId(provider);
    this.#own.set(id, provider);
    this.#providersOf(provider.service.name).set(id, provider);
    this.#space.notify(provider.service.name);
  }

  async unregister(provider: Provider): Promise<void> {
    const id = providerId(provider);
    if (!this.#own.delete(id)) return;
    this.#providersOf(provider.service.name).delete(id);
    this.#space.notify(provider.service.name);
  }

  subscribe(service: ServiceKey, onChange: Listener): Unsubscribe {
    let listeners = this.#space.listeners.get(service.name);
    if (listeners === undefined) this.#space.listeners.set(service.name, (listeners = new Set()));
    const listener: Listener = (providers) => onChange(providers);
    listeners.add(listener);
    // The Registry contract: the current list soon after subscribe returns, never inside it.
    queueMicrotask(() => {
      if (listeners.has(listener)) listener([...this.#providersOf(service.name).values()]);
    });
    const unsubscribe = () => {
      listeners.delete(listener);
      this.#subscriptions.delete(unsubscribe);
    };
    this.#subscriptions.add(unsubscribe);
    return unsubscribe;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const unsubscribe of [...this.#subscriptions]) unsubscribe();
    for (const provider of [...this.#own.values()]) await this.unregister(provider);
  }

  /** Every provider of `name` registered in this space now. */
  listed(name: string): Provider[] {
    return [...this.#providersOf(name).values()];
  }

  #providersOf(name: string): Map<string, Provider> {
    let providers = this.#space.providers.get(name);
    if (providers === undefined) this.#space.providers.set(name, (providers = new Map()));
    return providers;
  }
}
