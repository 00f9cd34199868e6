import type { Logger } from '../core/logger.js';
import type { EtcdClient, EtcdWatcher } from './etcd-client.js';
import type { EtcdConnection } from './etcd-connection.js';

/** Which keys a watch covers: every key that starts with `prefix`, or the one `key`. */
export type WatchedKeys = { readonly prefix: string } | { readonly key: string };

/**
 * Keeps what one key or prefix of etcd holds current: reads it (with `read`, which also hands the
 * answer on) at once, on every change etcd reports, and on every (re)connection of the watch
 * stream, which covers whatever changed while it was down. A read that fails is tried again
 * (100 ms, doubling up to 2 s) until one succeeds: until then, what was read last stays in force.
 * One read at a time, so that an older answer never overwrites a newer one. An etcd whose revision
 * went back (its data wiped, or restored from a backup) is watched anew from its present: the old
 * watch would wait for a revision that has not come yet.
 */
export class EtcdRangeWatch {
  #watcher?: EtcdWatcher;
  #reading = false;
  #again = false;
  #failures = 0;
  #retryTimer?: NodeJS.Timeout;
  #stopped = false;
  /** The newest revision of etcd this watch has seen, in a read or a watch response. */
  #revision = 0;

  constructor(
    private readonly connection: EtcdConnection,
    private readonly keys: WatchedKeys,
    /** Reads the keys, hands the answer on, and returns the revision etcd answered at (its response header's). */
    private readonly read: (client: EtcdClient) => Promise<string>,
    private readonly logger: Logger,
  ) {}

  /** Starts watching and reading. */
  start(): void {
    if (this.#stopped || this.#watcher) return;
    const builder = this.connection.client.watch();
    // `watcher()` rather than `create()`: every listener is on before the first event can come.
    const watcher = ('prefix' in this.keys ? builder.prefix(this.keys.prefix) : builder.key(this.keys.key)).watcher();
    this.#watcher = watcher;
    const saw = (response: { header: { revision: string } }) => (this.#revision = Math.max(this.#revision, Number(response.header.revision)));
    watcher.on('connected', (response: { header: { revision: string } }) => {
      saw(response);
      void this.refresh();
    });
    watcher.on('data', (response: { header: { revision: string }; events: readonly unknown[] }) => {
      saw(response);
      // Progress notifications carry no events and change nothing.
      if (response.events.length > 0) void this.refresh();
    });
    watcher.on('disconnected', (error: Error) => this.logger.debug({ err: error, keys: this.keys }, 'etcd watch stream lost; it reconnects by itself'));
    // etcd cancelled this watch (its start revision was compacted, or it is not allowed): a new one.
    watcher.on('error', (error: Error) => {
      if (this.#watcher !== watcher || this.#stopped) return;
      this.logger.warn({ err: error, keys: this.keys }, 'etcd cancelled a watch; watching again');
      this.#watcher = undefined;
      this.#retry();
    });
    void this.refresh();
  }

  /** Reads the keys now (or right after the read under way), and hands the answer on. Never rejects. */
  async refresh(): Promise<void> {
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = true;
    try {
      do {
        this.#again = false;
        if (this.#stopped || this.connection.closed) return;
        // A read is linearizable: it answers at a revision no older than anything seen before it began.
        const seen = this.#revision;
        const revision = Number(await this.read(this.connection.client));
        if (revision < seen) this.#rewatch(revision, seen);
        else this.#revision = Math.max(this.#revision, revision);
      } while (this.#again);
      this.#failures = 0;
    } catch (error) {
      if (this.#stopped || this.connection.closed) return;
      this.logger.debug({ err: error, keys: this.keys }, 'etcd read failed; trying again');
      this.#retry();
    } finally {
      this.#reading = false;
    }
  }

  /** Replaces the watcher by one that starts at etcd's present revision. */
  #rewatch(revision: number, seen: number): void {
    this.logger.warn({ keys: this.keys, revision, seen }, 'etcd revision went back (data wiped or restored); watching anew');
    const old = this.#watcher;
    this.#watcher = undefined;
    this.#revision = 0;
    void old?.cancel().catch(() => undefined);
    this.start();
  }

  /** Ends the watch; waits at most 1 s for etcd to confirm. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    const watcher = this.#watcher;
    this.#watcher = undefined;
    if (!watcher) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      watcher.cancel().catch((error: unknown) => this.logger.debug({ err: error }, 'cancelling an etcd watch failed')),
      new Promise((resolve) => (timer = setTimeout(resolve, 1_000))),
    ]);
    clearTimeout(timer);
  }

  /** Watches again if etcd cancelled the watch, else reads again, after a delay that grows with each failure. */
  #retry(): void {
    if (this.#retryTimer || this.#stopped) return;
    const delay = Math.min(100 * 2 ** this.#failures++, 2_000);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#stopped || this.connection.closed) return;
      if (this.#watcher) void this.refresh();
      else this.start();
    }, delay);
  }
}
