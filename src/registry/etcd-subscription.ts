import type { Logger } from '../core/logger.js';
import type { EtcdConnection } from './etcd-connection.js';
import type { EtcdLayout } from './etcd-layout.js';
import { EtcdRangeWatch } from './etcd-watch.js';
import type { Provider } from './provider.js';
import type { ProviderCache } from './zookeeper-cache.js';
import { ProviderWatch } from './zookeeper-watch.js';

/**
 * The subscribers of one service name and the etcd watch of its `providers/` folder that keeps
 * their list current. Until etcd first answers, and only if it has not within `cacheAfterMs`,
 * they are told the cached list; from etcd's first answer on, etcd alone.
 */
export class EtcdSubscription {
  readonly #list: ProviderWatch;
  readonly #watch: EtcdRangeWatch;
  #stopped = false;

  constructor(
    readonly name: string,
    layout: EtcdLayout,
    connection: EtcdConnection,
    private readonly cache: ProviderCache,
    cacheAfterMs: number,
    logger: Logger,
  ) {
    const folder = layout.folder(name, 'providers');
    this.#list = new ProviderWatch(name, folder, () => void this.#watch.refresh(), logger);
    this.#watch = new EtcdRangeWatch(connection, { prefix: folder }, async (client) => {
      const { header, kvs } = await client.getAll().prefix(folder).exec();
      if (this.#stopped) return header.revision;
      this.#list.answered = true;
      clearTimeout(this.#list.cacheTimer);
      const known = this.#list.update(kvs.map((kv) => layout.entryUrl(kv.key.toString())));
      if (known) this.cache.save(name, known);
      return header.revision;
    }, logger);
    // The cache waits: a cached provider may have moved or died since, and serving it while etcd
    // is about to answer would send calls to dead addresses first.
    this.#list.cacheTimer = setTimeout(() => {
      const cached = this.cache.get(name);
      if (this.#list.answered || !cached || this.#stopped) return;
      logger.warn({ service: name, afterMs: cacheAfterMs }, 'no answer from etcd yet; using the cached providers until it answers');
      this.#list.update(cached);
    }, cacheAfterMs).unref();
    this.#watch.start();
  }

  /** Adds a subscriber (told the known providers soon after, never inside this call); its removal says whether it was the last. */
  add(onChange: (providers: Provider[]) => void): () => boolean {
    return this.#list.add(onChange);
  }

  /** Ends the watch; subscribers hear nothing more. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#list.stop();
    await this.#watch.stop();
  }
}
