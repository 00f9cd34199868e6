import type { Logger } from '../core/logger.js';
import { errorMessage } from '../core/rpc-error.js';
import type { RuleStore } from '../rules/types.js';
import { openRegistry, type RegistrySpec } from './index.js';
import { loggedProviderUrl, providerId, providerUrl, type Provider } from './provider.js';

/** Registers a server's providers in its registry and takes them out again on close. */
export class Announcer {
  private readonly registry: ReturnType<typeof openRegistry>;
  private readonly registered: Provider[] = [];
  private closed = false;

  constructor(spec: RegistrySpec, private readonly logger: Logger) {
    this.registry = openRegistry(spec, this.logger);
    this.registry.catch(() => {});
  }

  /** The registry's traffic rule store, once it is open; undefined for a registry without one (or none at all). */
  async ruleStore(): Promise<RuleStore | undefined> {
    try {
      return (await this.registry).registry.rules;
    } catch {
      return undefined;
    }
  }

  async register(providers: Provider[]): Promise<void> {
    const { registry } = await this.registry;
    for (const provider of providers) {
      await registry.register(provider);
      this.remember(provider);
      this.logger.info({ provider: loggedProviderUrl(provider) }, 'registered');
    }
  }

  /**
   * Registers entries again in a new form (a traffic rule changed their weight, say): each replaces
   * the registered entry of the same service at the same address. Entries registered in that very
   * form already are left alone, and so are entries not registered now (the server went offline, or
   * is closing), to be registered in their new form if it comes back.
   */
  async reannounce(providers: Provider[]): Promise<void> {
    const { registry } = await this.registry;
    for (const provider of providers) {
      const registered = this.registeredAs(provider);
      if (this.closed || registered === undefined || providerUrl(registered) === providerUrl(provider)) continue;
      await registry.register(provider);
      // Taken out while it was being registered again: it must not stay in.
      if (this.registeredAs(provider) === undefined) {
        await registry.unregister(provider);
        continue;
      }
      this.remember(provider);
      this.logger.info({ provider: loggedProviderUrl(provider) }, 'registered again');
    }
  }

  /** Takes every provider out of the registry, keeping the registry open to come back (QoS `offline`). */
  async leave(): Promise<void> {
    const { registry } = await this.registry;
    for (const provider of this.registered.splice(0)) {
      await registry.unregister(provider);
      this.logger.info({ provider: loggedProviderUrl(provider) }, 'unregistered (offline)');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    let opened;
    try {
      opened = await this.registry;
    } catch {
      return;
    }
    for (const provider of this.registered.splice(0)) {
      await opened.registry.unregister(provider).catch((error: unknown) => this.logger.warn({ message: errorMessage(error) }, 'unregister failed'));
    }
    if (opened.owned) await opened.registry.close();
  }

  /** The registered entry of the provider's service at its address, if any. */
  private registeredAs(provider: Provider): Provider | undefined {
    const id = providerId(provider);
    return this.registered.find((registered) => providerId(registered) === id);
  }

  /** Keeps one entry per provider id: registering an entry again replaces it. */
  private remember(provider: Provider): void {
    const id = providerId(provider);
    const index = this.registered.findIndex((registered) => providerId(registered) === id);
    if (index >= 0) this.registered[index] = provider;
    else this.registered.push(provider);
  }
}
