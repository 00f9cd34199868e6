import type { Logger } from '../core/logger.js';
import { errorMessage } from '../core/rpc-error.js';
import { openRegistry, type RegistrySpec } from './index.js';
import { loggedProviderUrl, type Provider } from './provider.js';

/** Registers a server's providers in its registry and takes them out again on close. */
export class Announcer {
  private readonly registry: ReturnType<typeof openRegistry>;
  private readonly registered: Provider[] = [];

  constructor(spec: RegistrySpec, private readonly logger: Logger) {
    this.registry = openRegistry(spec, this.logger);
    this.registry.catch(() => {});
  }

  async register(providers: Provider[]): Promise<void> {
    const { registry } = await this.registry;
    for (const provider of providers) {
      await registry.register(provider);
      this.registered.push(provider);
      this.logger.info({ provider: loggedProviderUrl(provider) }, 'registered');
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
}
