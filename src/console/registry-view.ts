import type { Logger } from '../core/logger.js';
import { errorMessage } from '../core/rpc-error.js';
import type { Provider } from '../registry/provider.js';
import type { Registry, Unsubscribe } from '../registry/registry.js';

/** What the console knows of one service name. */
export interface ServiceView {
  readonly name: string;
  /** Every provider entry, each version and group. */
  readonly providers: readonly Provider[];
  /** Consumer URLs, when the registry records consumers. */
  readonly consumers: readonly string[] | undefined;
}

/**
 * The registry as the console shows it: every service it lists, followed by a subscription each,
 * and the consumers the registry records (looked up again on each refresh). New services are looked
 * for every `refreshMs`. `onProviders` hears of every provider change.
 */
export class RegistryView {
  readonly #providers = new Map<string, readonly Provider[]>();
  readonly #consumers = new Map<string, readonly string[]>();
  readonly #subscriptions = new Map<string, Unsubscribe>();
  #timer?: NodeJS.Timeout;
  #refreshing?: Promise<void>;
  #problem?: string;
  #closed = false;

  constructor(
    private readonly registry: Registry,
    private readonly refreshMs: number,
    private readonly logger: Logger,
    private readonly onProviders: () => void,
  ) {}

  /** Lists the services once (and subscribes to each), then keeps looking every `refreshMs`. */
  async start(): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.refreshMs).unref();
  }

  /** Whether the registry records consumers at all (ZooKeeper does, the embedded registry does not). */
  get recordsConsumers(): boolean {
    return typeof this.registry.consumersOf === 'function';
  }

  /** Why the last listing failed, if it did. */
  get problem(): string | undefined {
    return this.#problem;
  }

  services(): ServiceView[] {
    return [...this.#subscriptions.keys()].sort().map((name) => ({
      name,
      providers: this.#providers.get(name) ?? [],
      consumers: this.recordsConsumers ? this.#consumers.get(name) ?? [] : undefined,
    }));
  }

  /** Every provider of every service. */
  providers(): Provider[] {
    return [...this.#providers.values()].flat();
  }

  refresh(): Promise<void> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#refreshing;
    for (const stop of this.#subscriptions.values()) stop();
    this.#subscriptions.clear();
  }

  async #refresh(): Promise<void> {
    if (this.#closed) return;
    let names: string[];
    try {
      names = this.registry.services === undefined ? [] : await this.registry.services();
      this.#problem = this.registry.services === undefined ? 'this registry cannot list its services' : undefined;
    } catch (error) {
      this.#problem = `cannot list the services: ${errorMessage(error)}`;
      this.logger.warn({ err: error }, 'console: cannot list the services');
      return;
    }
    if (this.#closed) return;
    for (const name of names) {
      if (this.#subscriptions.has(name)) continue;
      this.#subscriptions.set(name, this.registry.subscribe({ name }, (providers) => {
        this.#providers.set(name, providers);
        this.onProviders();
      }));
    }
    if (this.registry.consumersOf !== undefined) await this.#readConsumers(names);
  }

  async #readConsumers(names: string[]): Promise<void> {
    await Promise.all(names.map(async (name) => {
      try {
        this.#consumers.set(name, await this.registry.consumersOf!(name));
      } catch (error) {
        this.logger.warn({ err: error, service: name }, 'console: cannot read the consumers');
      }
    }));
  }
}
