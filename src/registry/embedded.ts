import { createHash } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { readdir, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Code } from '../core/code.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { RpcError } from '../core/rpc-error.js';
import type { ServiceKey } from '../core/service.js';
import { EmbeddedRuleStore } from '../rules/store-embedded.js';
import { FolderWatch, errorCode, removeQuietly, thisHost, type EntryRecord } from './embedded-watch.js';
import { ensurePrivateDir, userBaseDir, writeAtomically } from './private-files.js';
import { providerId, providerUrl, type Provider } from './provider.js';
import type { Registry, Unsubscribe } from './registry.js';

export interface EmbeddedRegistryOptions {
  /**
   * The folder shared by the processes that should find each other. Default
   * `<os.tmpdir()>/switchyard-<uid>/registry`. It must belong to this process's user and be
   * writable by nobody else (see docs/registry.md); it is created with mode 0700 if missing.
   */
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
const folderName = 'registry folder';
/** The folder of traffic rules inside the registry folder (see `rules`). */
const rulesFolderName = 'rules';

interface OwnEntry {
  readonly file: string;
  readonly content: string;
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
 * A folder or entry that another user could write is never used: whoever writes an entry receives
 * the calls, metadata included. Traffic rules are files of `<dir>/rules/` (see `rules`).
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
  /** Settles once the folder is known to be this user's alone; forgotten on failure, to try again. */
  #prepared?: Promise<void>;
  /**
   * Traffic rules, one file per rule in `<dir>/rules/`: `<key>.<kind>` with the key percent-encoded
   * where a file name could not hold it, written atomically, private to this user as entries are.
   * See docs/registry.md (Rule store).
   */
  readonly rules: EmbeddedRuleStore;

  constructor(options: EmbeddedRegistryOptions = {}) {
    this.dir = options.dir ?? join(userBaseDir(), 'registry');
    this.#heartbeatMs = positive('heartbeatMs', options.heartbeatMs ?? defaults.heartbeatMs);
    this.#ttlMs = positive('ttlMs', options.ttlMs ?? defaults.ttlMs);
    this.#pollMs = positive('pollMs', options.pollMs ?? defaults.pollMs);
    this.#logger = options.logger ?? silentLogger;
    if (this.#ttlMs <= this.#heartbeatMs) {
      throw new RpcError(Code.INVALID_ARGUMENT, 'ttlMs must be longer than heartbeatMs');
    }
    const rulesFolder = join(this.dir, rulesFolderName);
    this.rules = new EmbeddedRuleStore({ folder: rulesFolder, pollMs: this.#pollMs, logger: this.#logger, prepare: () => this.#prepareService(rulesFolder) });
  }

  /**
   * Creates the folder if needed and checks that no other user can write it. Rejects with
   * FAILED_PRECONDITION (saying how to fix it) when another user could, UNAVAILABLE when the folder
   * cannot be made. `register` does the same; subscribers log the refusal and list no provider.
   */
  ready(): Promise<void> {
    this.#assertOpen();
    return this.#prepareDir();
  }

  async register(provider: Provider): Promise<void> {
    this.#assertOpen();
    const folder = this.#folder(provider.service.name);
    const record: EntryRecord = { url: providerUrl(provider), pid: process.pid, host: thisHost };
    const entry: OwnEntry = { file: join(folder, entryFileName(providerId(provider))), content: JSON.stringify(record) };
    await this.#serial(async () => {
      await this.#prepareService(folder);
      try {
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
      folderWatch = new FolderWatch(folder, name, this.#ttlMs, this.#pollMs, this.#logger, () => this.#prepareService(folder));
      this.#watches.set(name, folderWatch);
    }
    const current = folderWatch;
    const remove = current.subscribe(onChange);
    return () => {
      if (!remove() || current.listeners.size > 0) return;
      current.stop();
      if (this.#watches.get(name) === current) this.#watches.delete(name);
    };
  }

  /** The service folders, sorted; checks the registry folder as {@link ready} does (and so creates it if missing). */
  async services(): Promise<string[]> {
    this.#assertOpen();
    await this.#prepareDir();
    let found;
    try {
      found = await readdir(this.dir, { withFileTypes: true });
    } catch (error) {
      throw new RpcError(Code.UNAVAILABLE, `cannot read the registry folder ${this.dir}`, { cause: error });
    }
    const folders = found.filter((entry) => entry.isDirectory() && validFolderName(entry.name)).map((entry) => entry.name);
    // The rules folder is no service, unless a service of that name has entries in it too.
    if (folders.includes(rulesFolderName) && !(await holdsEntries(join(this.dir, rulesFolderName)))) folders.splice(folders.indexOf(rulesFolderName), 1);
    return folders.sort();
  }

  /** Stops every subscription and removes every entry this instance registered. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    this.rules.stop();
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
          await this.#prepareService(dirname(entry.file));
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

  /** The registry folder and a service folder in it, both created if needed and checked as {@link ready} does. */
  async #prepareService(folder: string): Promise<void> {
    await this.#prepareDir();
    await ensurePrivateDir(folder, folderName);
  }

  #prepareDir(): Promise<void> {
    this.#prepared ??= ensurePrivateDir(this.dir, folderName).catch((error: unknown) => {
      this.#prepared = undefined;
      throw error;
    });
    return this.#prepared;
  }

  #assertOpen(): void {
    if (this.#closed) throw new RpcError(Code.FAILED_PRECONDITION, 'the registry is closed');
  }

  #folder(name: string): string {
    if (!validFolderName(name)) {
      throw new RpcError(Code.INVALID_ARGUMENT, `invalid service name for the registry: ${JSON.stringify(name)}`);
    }
    return join(this.dir, name);
  }
}

/** Creates the embedded registry; see {@link EmbeddedRegistry}. */
export function createEmbeddedRegistry(options?: EmbeddedRegistryOptions): EmbeddedRegistry {
  return new EmbeddedRegistry(options);
}

/** Whether a service name can be a folder of the registry: no path separators, no climbing up. */
function validFolderName(name: string): boolean {
  return name !== '' && name !== '.' && !/[/\\\0]|\.\./.test(name);
}

/** Whether a folder holds provider entry files (`*.json`). */
async function holdsEntries(folder: string): Promise<boolean> {
  const names = await readdir(folder).catch(() => []);
  return names.some((name) => name.endsWith('.json') && !name.startsWith('.'));
}

function entryFileName(id: string): string {
  return `${createHash('sha256').update(id).digest('hex').slice(0, 32)}.json`;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RpcError(Code.INVALID_ARGUMENT, `${name} must be a positive number of milliseconds`);
  }
  return value;
}
