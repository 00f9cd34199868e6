import type { Logger } from '../core/logger.js';
import { parseProviderUrl, providerId, providerUrl, type Provider } from './provider.js';

interface Listener { readonly onChange: (providers: Provider[]) => void; seen: boolean }

/**
 * The subscribers of one service name, and what ZooKeeper (or, until it answers, the cache) last
 * said of its providers. Subscribers hear of a list only when its set of provider URLs changed.
 */
export class ProviderWatch {
  private readonly listeners = new Set<Listener>();
  private providers?: Provider[];
  private signature?: string;
  /** Whether ZooKeeper has answered for this subscription: from then on the cache is never served to it. */
  answered = false;
  /** Serves the cache if ZooKeeper has not answered in time. */
  cacheTimer?: NodeJS.Timeout;

  /**
   * @param path the service's `providers` node.
   * @param watcher set on each read of `path`, so that ZooKeeper calls it on the next change.
   */
  constructor(
    readonly name: string,
    readonly path: string,
    readonly watcher: () => void,
    private readonly logger: Logger,
  ) {}

  /**
   * Adds a subscriber, told the known providers soon after (never inside) this call. Returns its
   * removal, which says whether it was the last subscriber.
   */
  add(onChange: (providers: Provider[]) => void): () => boolean {
    const listener: Listener = { onChange, seen: false };
    this.listeners.add(listener);
    queueMicrotask(() => {
      if (!listener.seen && this.providers && this.listeners.has(listener)) this.deliver(listener, this.providers);
    });
    return () => {
      this.listeners.delete(listener);
      return this.listeners.size === 0;
    };
  }

  /**
   * Takes the provider URLs now listed for the service and tells the subscribers if the set changed.
   * Returns the URLs (normalised, sorted) when it changed, undefined when it did not.
   */
  update(urls: string[]): string[] | undefined {
    const byId = new Map<string, Provider>();
    for (const url of urls) {
      let provider: Provider;
      try {
        provider = parseProviderUrl(url);
      } catch {
        this.logger.debug({ url, service: this.name }, 'skipping an entry that is not a provider URL');
        continue;
      }
      const id = providerId(provider);
      const other = byId.get(id);
      if (provider.service.name === this.name && (!other || other.timestamp < provider.timestamp)) byId.set(id, provider);
    }
    const providers = [...byId.values()];
    const known = providers.map(providerUrl).sort();
    const signature = known.join('\n');
    if (this.signature === signature) return undefined;
    this.signature = signature;
    this.providers = providers;
    for (const listener of [...this.listeners]) this.deliver(listener, providers);
    return known;
  }

  stop(): void {
    clearTimeout(this.cacheTimer);
  }

  private deliver(listener: Listener, providers: Provider[]): void {
    listener.seen = true;
    try {
      listener.onChange([...providers]);
    } catch (error) {
      this.logger.error({ err: error }, 'registry subscriber threw');
    }
  }
}
