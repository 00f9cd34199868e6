import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Logger } from '../core/logger.js';
import { ensurePrivateDir, untrusted, userBaseDir } from './private-files.js';

// The ZooKeeper registry's file of last known providers, `{ "<service name>": ["<provider URL>", …] }`.
// It is read only to serve consumers while ZooKeeper cannot be reached, so a stale or planted file
// must never outrank ZooKeeper, and only a file this user alone can write is read at all.

const readFlags = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);
// One queue per file: registries of this process that share it must not overwrite each other.
const queues = new Map<string, Promise<void>>();

/**
 * What identifies the application this process runs: its main script, else its working folder.
 * Two programs on one machine thus never share a default cache file, while restarts of one do.
 */
export function applicationId(): string {
  const main = process.argv[1];
  return main ? resolve(main) : process.cwd();
}

/**
 * `<os.tmpdir()>/switchyard-<uid>/zookeeper-cache/<app>-<connect string + root>-<hash>.json`: private
 * to the user, and to the application (`app`, default {@link applicationId}) and registry it serves.
 */
export function defaultCacheFile(connectString: string, root: string, app = applicationId()): string {
  const slug = (text: string) => text.replace(/[^\w.-]+/g, '_').slice(0, 48);
  const label = basename(app).replace(/\.[cm]?[jt]s$/, '');
  const hash = createHash('sha256').update(`${app}\0${connectString}${root}`).digest('hex').slice(0, 12);
  return join(userBaseDir(), 'zookeeper-cache', `${slug(label)}-${slug(connectString + root)}-${hash}.json`);
}

export class ProviderCache {
  readonly #lists = new Map<string, string[]>();
  #file: string | false;
  #writes: Promise<void> = Promise.resolve();

  /**
   * `file`: where the lists are kept, `false` for memory only. `ownFolder`: the file's folder is
   * this library's default one, so it is created 0700 and must be private; a folder given by the
   * user is left as it is (the file itself is still checked).
   */
  constructor(file: string | false, private readonly ownFolder: boolean, private readonly logger: Logger) {
    this.#file = file;
  }

  get file(): string | false {
    return this.#file;
  }

  /** Reads the file once, before the first subscription; a missing, foreign or broken file is no cache. */
  async load(): Promise<void> {
    if (!(await this.#usable())) return;
    const parsed = await this.#read(this.#file as string);
    for (const [name, urls] of Object.entries(parsed)) if (Array.isArray(urls)) this.#lists.set(name, urls.map(String));
  }

  get(name: string): string[] | undefined {
    return this.#lists.get(name);
  }

  /** Replaces the list of one service (the whole list: what ZooKeeper said last) and writes the file. */
  save(name: string, urls: string[]): void {
    this.#lists.set(name, urls);
    if (this.#file === false) return;
    const file = this.#file;
    const queued = (queues.get(file) ?? Promise.resolve()).then(async () => {
      if (!(await this.#usable())) return;
      // Other instances of this application may share the file: keep their services, replace this one.
      const merged = await this.#read(file);
      // defineProperty: a service may be named `__proto__`.
      Object.defineProperty(merged, name, { value: this.#lists.get(name) ?? urls, enumerable: true, writable: true, configurable: true });
      const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(temporary, JSON.stringify(merged, null, 2), { mode: 0o600, flag: 'wx' });
      await rename(temporary, file).catch(async (error: unknown) => {
        await unlink(temporary).catch(() => undefined);
        throw error;
      });
    }).catch((error: unknown) => this.logger.warn({ err: error, file }, 'cannot write registry cache'));
    queues.set(file, queued);
    this.#writes = queued;
    void queued.then(() => {
      if (queues.get(file) === queued) queues.delete(file);
    });
  }

  /** Resolves once the writes asked so far are done. */
  flush(): Promise<void> {
    return this.#writes;
  }

  /** Whether the file may be used; the default folder is made private first, or the file is given up. */
  async #usable(): Promise<boolean> {
    const file = this.#file;
    if (file === false) return false;
    if (!this.ownFolder) return true;
    try {
      await ensurePrivateDir(dirname(file), 'registry cache folder');
      return true;
    } catch (error) {
      // Later calls skip the file instead of logging again; lists stay in memory.
      if (this.#file === file) {
        this.#file = false;
        this.logger.warn({ err: error, file }, 'not using the registry cache file');
      }
      return false;
    }
  }

  /** The file's content; an empty object for a file that is missing, malformed, or not this user's alone. */
  async #read(file: string): Promise<object> {
    let handle;
    try {
      handle = await open(file, readFlags);
      const reason = untrusted(await handle.stat());
      if (reason !== undefined) {
        this.logger.warn({ file }, `ignoring the registry cache: the file ${reason}; remove it or fix its owner and mode (600)`);
        return {};
      }
      const parsed: unknown = JSON.parse(await handle.readFile('utf8'));
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : {};
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.warn({ err: error, file }, 'ignoring unreadable registry cache');
      }
      return {};
    } finally {
      await handle?.close().catch(() => undefined);
    }
  }
}
