import { createHash, randomBytes } from 'node:crypto';
import { unlinkSync, watch, type FSWatcher } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Code } from '../core/code.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { RpcError } from '../core/rpc-error.js';
import type { ServiceKey } from '../core/service.js';
import { parseProviderUrl, providerId, providerUrl, type Provider } from './provider.js';
import type { Registry, Unsubscribe } from './registry.js';

export interface EmbeddedRegistryOptions {
  /** The folder shared by the processes that should find each other. Default `<os.tmpdir()>/switchyard-registry`. */
  dir?: string;
  /** How often this process refreshes the heartbeat (file mtime) of its entries. Default 1000. */
  heartbeatMs?: number;
  /** An entry whose heartbeat is older than this is dead. Must exceed `heartbeatMs`. Default 3000. */
  ttlMs?: number;
  /** How often subscribers re-read their folder, besides file-system events. Default 500. */
  pollMs?: number;
  logger?: Logger;
}

const defaults = { heartbeatMs: 1000, ttlMs: 3000, pollMs: 500 };
const maxEntryBytes = 64 * 1024;
const watchDebounceMs = 20;
const thisHost = hostname();

/** What one entry file holds. Its mtime is the heartbeat. */
interface EntryRecord {
  url: string;
  pid: number;
  host: string;
}

interface OwnEntry {
  readonly file: string;
  readonly content: string;
}

interface Listener {
  readonly onChange: (providers: Provider[]) => void;
  /** The provider URLs this listener was last told about, joined; undefined before the first call. */
  last?: string;
}

// Entries of every open registry of this process, removed synchronously when the process exits normally.
const openEntries = new Set<Map<string, OwnEntry>>();
let exitHookInstalled = false;

function removeEntriesOnExit(): void {
  for (const entries of openEntries) {
    for (const entry of entries.values()) {
      try {
        unlinkSync(entry.file);
      } catch {
        // already gone, or not ours to remove any more
      }
    }
  }
}

/**
 * The default registry: providers and consumers in different processes of one machine find each
 * other through a shared folder, with no server. Layout: `<dir>/<service name>/<hash of provider id>.json`,
 * each file `{ url, pid, host }`, its mtime refreshed every `heartbeatMs` by the registering process.
 * Consumers drop entries whose process is gone (checked by pid) or whose heartbeat is older than `ttlMs`.
 *
 * ```ts
 * const registry = createEmbeddedRegistry();
 * await registry.register(parseProviderUrl('tcp://127.0.0.1:20880/demo.Calculator?methods=add'));
 * const stop = registry.subscribe({ name: 'demo.Calculator' }, (providers) => console.log(providers));
 * ```
 */
export class EmbeddedRegistry implements Registry {
  readonly dir: string;
  readonly #heartbeatMs: number;
  readonly #ttlMs: number;
  readonly #pollMs: number;
  readonly #logger: Logger;
  readonly #own = new Map<string, OwnEntry>();
  readonly #watches = new Map<string, FolderWatch>();
  #heartbeat?: NodeJS.Timeout;
  #beating = false;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;
  #closing?: Promise<void>;

  constructor(options: EmbeddedRegistryOptions = {}) {
    this.dir = options.dir ?? join(tmpdir(), 'switchyard-registry');
    this.#heartbeatMs = positive('heartbeatMs', options.heartbeatMs ?? defaults.heartbeatMs);
    this.#ttlMs = positive('ttlMs', options.ttlMs ?? defaults.ttlMs);
    this.#pollMs = positive('pollMs', options.pollMs ?? defaults.pollMs);
    this.#logger = options.logger ?? silentLogger;
    if (this.#ttlMs <= this.#heartbeatMs) {
      throw new RpcError(Code.INVALID_ARGUMENT, 'ttlMs must be longer than heartbeatMs');
    }
  }

  async register(provider: Provider): Promise<void> {
    this.#assertOpen();
    const folder = this.#folder(provider.service.name);
    const record: EntryRecord = { url: providerUrl(provider), pid: process.pid, host: thisHost };
    const entry: OwnEntry = { file: join(folder, entryFileName(providerId(provider))), content: JSON.stringify(record) };
    await this.#serial(async () => {
      try {
        await mkdir(folder, { recursive: true, mode: 0o700 });
        await writeAtomically(entry.file, entry.content);
      } catch (error) {
        throw new RpcError(Code.UNAVAILABLE, `cannot write the registry entry in ${folder}`, { cause: error });
      }
      this.#own.set(providerId(provider), entry);
      if (!exitHookInstalled) {
        exitHookInstalled = true;
        process.on('exit', removeEntriesOnExit);
      }
      openEntries.add(this.#own);
      this.#heartbeat ??= setInterval(() => this.#beat(), this.#heartbeatMs).unref();
    });
  }

  /** Removes an entry this instance registered; entries of other processes are left alone. */
  async unregister(provider: Provider): Promise<void> {
    const id = providerId(provider);
    await this.#serial(async () => {
      const entry = this.#own.get(id);
      if (!entry) return;
      this.#own.delete(id);
      if (this.#own.size === 0) this.#stopHeartbeat();
      await removeQuietly(entry.file);
    });
  }

  subscribe(service: ServiceKey, onChange: (providers: Provider[]) => void): Unsubscribe {
    this.#assertOpen();
    const name = service.name;
    const folder = this.#folder(name);
    let folderWatch = this.#watches.get(name);
    if (!folderWatch) {
      folderWatch = new FolderWatch(folder, name, this.#ttlMs, this.#pollMs, this.#logger);
      this.#watches.set(name, folderWatch);
    }
    const current = folderWatch;
    const listener: Listener = { onChange };
    current.listeners.add(listener);
    current.scan();
    return () => {
      if (!current.listeners.delete(listener) || current.listeners.size > 0) return;
      current.stop();
      if (this.#watches.get(name) === current) this.#watches.delete(name);
    };
  }

  /** Stops every subscription and removes every entry this instance registered. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    for (const folderWatch of this.#watches.values()) folderWatch.stop();
    this.#watches.clear();
    await this.#serial(async () => {
      this.#stopHeartbeat();
      const entries = [...this.#own.values()];
      this.#own.clear();
      openEntries.delete(this.#own);
      await Promise.all(entries.map((entry) => removeQuietly(entry.file)));
    });
  }

  /** Refreshes the heartbeat of every own entry, and writes again any entry someone removed. */
  #beat(): void {
    if (this.#beating) return;
    this.#beating = true;
    void this.#serial(async () => {
      const now = new Date();
      await Promise.all([...this.#own.values()].map(async (entry) => {
        try {
          await utimes(entry.file, now, now);
        } catch (error) {
          if (errorCode(error) !== 'ENOENT') throw error;
          await mkdir(dirname(entry.file), { recursive: true, mode: 0o700 });
          await writeAtomically(entry.file, entry.content);
        }
      }));
    }).catch((error: unknown) => {
      this.#logger.warn({ err: error, dir: this.dir }, 'registry heartbeat failed');
    }).finally(() => {
      this.#beating = false;
    });
  }

  #stopHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  /** Runs writes and removals of own entries one at a time, so none can undo a later one. */
  #serial(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #assertOpen(): void {
    if (this.#closed) throw new RpcError(Code.FAILED_PRECONDITION, 'the registry is closed');
  }

  #folder(name: string): string {
    if (name === '' || name === '.' || /[/\\\0]|\.\./.test(name)) {
      throw new RpcError(Code.INVALID_ARGUMENT, `invalid service name for the registry: ${JSON.stringify(name)}`);
    }
    return join(this.dir, name);
  }
}

/** Creates the embedded registry; see {@link EmbeddedRegistry}. */
export function createEmbeddedRegistry(options?: EmbeddedRegistryOptions): EmbeddedRegistry {
  return new EmbeddedRegistry(options);
}

/** Watches one service folder for its subscribers: file-system events where available, and polling. */
class FolderWatch {
  readonly listeners = new Set<Listener>();
  readonly #poll: NodeJS.Timeout;
  #watcher?: FSWatcher;
  #soon?: NodeJS.Timeout;
  #scanning = false;
  #again = false;
  #stopped = false;

  constructor(
    readonly folder: string,
    readonly name: string,
    readonly ttlMs: number,
    readonly pollMs: number,
    readonly logger: Logger,
  ) {
    this.#poll = setInterval(() => {
      this.#watch();
      this.scan();
    }, pollMs).unref();
    mkdir(folder, { recursive: true, mode: 0o700 }).then(
      () => {
        this.#watch();
        this.scan();
      },
      (error: unknown) => logger.warn({ err: error, folder }, 'registry folder cannot be created; polling only'),
    );
  }

  /** Reads the folder and tells every listener whose view is out of date. */
  scan(): void {
    if (this.#stopped) return;
    if (this.#scanning) {
      this.#again = true;
      return;
    }
    this.#scanning = true;
    readLiveProviders(this.folder, this.name, this.ttlMs, this.logger)
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

/** The live providers in one service folder, sorted by URL; dead entries found on the way are removed. */
async function readLiveProviders(folder: string, name: string, ttlMs: number, logger: Logger): Promise<Provider[]> {
  let files: string[];
  try {
    files = await readdir(folder);
  } catch {
    return [];
  }
  const now = Date.now();
  const found = new Map<string, Provider>();
  await Promise.all(files.map(async (file) => {
    const path = join(folder, file);
    if (file.startsWith('.')) {
      // a temporary file left by a writer that died between write and rename
      if (file.endsWith('.tmp')) {
        const info = await stat(path).catch(() => undefined);
        if (info && now - info.mtimeMs > ttlMs) await removeQuietly(path);
      }
      return;
    }
    if (!file.endsWith('.json')) return;
    const entry = await readEntry(path);
    if (!entry || entry.provider.service.name !== name) return;
    if (now - entry.mtimeMs > ttlMs || !processAlive(entry.pid, entry.host)) {
      logger.debug({ file: path, pid: entry.pid }, 'removing dead registry entry');
      await removeQuietly(path);
      return;
    }
    found.set(providerUrl(entry.provider), entry.provider);
  }));
  return [...found.keys()].sort().map((url) => found.get(url)!);
}

/** Reads one entry file; undefined for anything that is not a well-formed entry. */
async function readEntry(path: string): Promise<{ provider: Provider; pid: number; host: string; mtimeMs: number } | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
    const info = await handle.stat();
    if (!info.isFile() || info.size > maxEntryBytes) return undefined;
    const data: unknown = JSON.parse(await handle.readFile('utf8'));
    if (typeof data !== 'object' || data === null) return undefined;
    const { url, pid, host } = data as Partial<Record<keyof EntryRecord, unknown>>;
    if (typeof url !== 'string' || typeof host !== 'string' || typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) {
      return undefined;
    }
    return { provider: parseProviderUrl(url), pid, host, mtimeMs: info.mtimeMs };
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

function entryFileName(id: string): string {
  return `${createHash('sha256').update(id).digest('hex').slice(0, 32)}.json`;
}

async function writeAtomically(file: string, content: string): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, content);
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** Removes a file unless it is already gone; another consumer may have removed it first. */
async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RpcError(Code.INVALID_ARGUMENT, `${name} must be a positive number of milliseconds`);
  }
  return value;
}
