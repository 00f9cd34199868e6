import { constants, watch, type FSWatcher } from 'node:fs';
import { lstat, open, readdir, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../core/logger.js';
import { untrusted } from './private-files.js';
import { parseProviderUrl, providerUrl, type Provider } from './provider.js';

// The reading side of the embedded registry: what a subscriber's process does with a service folder.

/** What one entry file holds. Its mtime is the heartbeat. */
export interface EntryRecord {
  url: string;
  pid: number;
  host: string;
}

export const thisHost = hostname();
const maxEntryBytes = 64 * 1024;
const watchDebounceMs = 20;
// Never follow a link planted in place of an entry; 0 where the platform has no such flag.
const readFlags = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

interface Listener {
  readonly onChange: (providers: Provider[]) => void;
  /** The provider URLs this listener was last told about, joined; undefined before the first call. */
  last?: string;
}

/**
 * Watches one service folder for its subscribers: file-system events where available, and polling.
 * Nothing is read before `prepare` has made sure that only this user can write the folder.
 */
export class FolderWatch {
  readonly listeners = new Set<Listener>();
  readonly #poll: NodeJS.Timeout;
  #watcher?: FSWatcher;
  #soon?: NodeJS.Timeout;
  #scanning = false;
  #again = false;
  #stopped = false;
  #prepared = false;
  /** The last refusal logged, so a folder that stays refused is not logged on every poll. */
  #refusal?: string;
  /** Entry files already reported as written by another user. */
  readonly #foreign = new Set<string>();

  constructor(
    readonly folder: string,
    readonly name: string,
    readonly ttlMs: number,
    readonly pollMs: number,
    readonly logger: Logger,
    readonly prepare: () => Promise<void>,
  ) {
    this.#poll = setInterval(() => this.scan(), pollMs).unref();
  }

  subscribe(onChange: (providers: Provider[]) => void): () => boolean {
    const listener: Listener = { onChange };
    this.listeners.add(listener);
    this.scan();
    return () => this.listeners.delete(listener);
  }

  /** Reads the folder and tells every listener whose view is out of date. */
  scan(): void {
    if (this.#stopped) return;
    if (this.#scanning) {
      this.#again = true;
      return;
    }
    this.#scanning = true;
    this.#ready()
      .then((ready) => (ready ? this.#read() : []))
      .then((providers) => this.#deliver(providers))
      .catch((error: unknown) => this.logger.warn({ err: error, folder: this.folder }, 'registry scan failed'))
      .finally(() => {
        this.#scanning = false;
        if (this.#again) {
          this.#again = false;
          this.scan();
        }
      });
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#poll);
    clearTimeout(this.#soon);
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  /**
   * Whether the folder may be read. A refused folder gives subscribers an empty list (they get an
   * answer, and no provider anyone else planted) and is tried again at every poll, so fixing its
   * mode takes effect without a restart.
   */
  async #ready(): Promise<boolean> {
    if (!this.#prepared) {
      try {
        await this.prepare();
      } catch (error) {
        const message = (error as Error).message;
        if (this.#refusal !== message) {
          this.#refusal = message;
          this.logger.error({ err: error, folder: this.folder }, `registry folder unusable; no provider of ${this.name} will be listed`);
        }
        return false;
      }
      this.#prepared = true;
      this.#refusal = undefined;
    }
    this.#watch();
    return true;
  }

  /** The live providers in the folder, sorted by URL; dead entries found on the way are removed. */
  async #read(): Promise<Provider[]> {
    let files: string[];
    try {
      files = await readdir(this.folder);
    } catch {
      return [];
    }
    const now = Date.now();
    const found = new Map<string, Provider>();
    await Promise.all(files.map(async (file) => {
      const path = join(this.folder, file);
      if (file.startsWith('.')) {
        // A temporary file left by a writer of this user that died between write and rename.
        if (file.endsWith('.tmp')) {
          const info = await lstat(path).catch(() => undefined);
          if (info?.isFile() && untrusted(info) === undefined && now - info.mtimeMs > this.ttlMs) await removeQuietly(path);
        }
        return;
      }
      if (!file.endsWith('.json')) return;
      const entry = await readEntry(path);
      if (!entry || entry.provider.service.name !== this.name) return;
      if (entry.untrusted !== undefined) {
        if (!this.#foreign.has(path)) {
          this.#foreign.add(path);
          this.logger.warn({ file: path, provider: entry.provider.address },
            `ignoring a registry entry that ${entry.untrusted}: only entries this user alone can write are used`);
        }
        return;
      }
      if (now - entry.mtimeMs > this.ttlMs || !processAlive(entry.pid, entry.host)) {
        this.logger.debug({ file: path, pid: entry.pid }, 'removing dead registry entry');
        await removeQuietly(path);
        return;
      }
      found.set(providerUrl(entry.provider), entry.provider);
    }));
    return [...found.keys()].sort().map((url) => found.get(url)!);
  }

  #deliver(providers: Provider[]): void {
    const key = providers.map(providerUrl).join('\n');
    for (const listener of [...this.listeners]) {
      if (this.#stopped) return;
      if (!this.listeners.has(listener) || listener.last === key) continue;
      listener.last = key;
      try {
        listener.onChange(providers.slice());
      } catch (error) {
        this.logger.warn({ err: error, service: this.name }, 'registry subscriber threw');
      }
    }
  }

  #watch(): void {
    if (this.#watcher || this.#stopped) return;
    try {
      const watcher = watch(this.folder, { persistent: false }, () => {
        this.#soon ??= setTimeout(() => {
          this.#soon = undefined;
          this.scan();
        }, watchDebounceMs).unref();
      });
      watcher.on('error', () => {
        watcher.close();
        if (this.#watcher === watcher) this.#watcher = undefined;
      });
      this.#watcher = watcher;
    } catch {
      // no folder yet, or no fs.watch here: polling covers it
    }
  }
}

interface ReadEntry {
  provider: Provider;
  pid: number;
  host: string;
  mtimeMs: number;
  /** Why another user could have written the file; undefined when only this user can. */
  untrusted: string | undefined;
}

/** Reads one entry file; undefined for anything that is not a well-formed entry. */
async function readEntry(path: string): Promise<ReadEntry | undefined> {
  let handle;
  try {
    handle = await open(path, readFlags);
    // The file checked is the one read: stat through the same handle.
    const info = await handle.stat();
    if (!info.isFile() || info.size > maxEntryBytes) return undefined;
    const data: unknown = JSON.parse(await handle.readFile('utf8'));
    if (typeof data !== 'object' || data === null) return undefined;
    const { url, pid, host } = data as Partial<Record<keyof EntryRecord, unknown>>;
    if (typeof url !== 'string' || typeof host !== 'string' || typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) {
      return undefined;
    }
    return { provider: parseProviderUrl(url), pid, host, mtimeMs: info.mtimeMs, untrusted: untrusted(info) };
  } catch {
    return undefined;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Whether the process that wrote an entry still runs; true when that cannot be told (another host). */
function processAlive(pid: number, host: string): boolean {
  if (host !== thisHost || pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) !== 'ESRCH';
  }
}

/** Removes a file unless it is already gone; another consumer may have removed it first. */
export async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
