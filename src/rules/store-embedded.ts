// The embedded registry's rule store: one file per rule in the `rules/` folder of the registry's
// folder, written atomically, watched with fs.watch and polling as provider folders are.
import { watch as watchFolder, type FSWatcher } from 'node:fs';
import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Code } from '../core/code.js';
import type { Logger } from '../core/logger.js';
import { RpcError } from '../core/rpc-error.js';
import { untrusted, writeAtomically } from '../registry/private-files.js';
import type { Unsubscribe } from '../registry/registry.js';
import { fileSignature, readRuleFile } from './store-embedded-file.js';
import { checkRuleId, compareRuleIds, parseRuleFileName, ruleBytes, ruleFileName, ruleIdKey } from './store-keys.js';
import { RuleListeners } from './store-listeners.js';
import type { RuleId, RuleStore } from './types.js';

export interface EmbeddedRuleStoreOptions {
  /** The folder of rule files (`<registry dir>/rules`). */
  readonly folder: string;
  /** How often watched rules are read again, besides fs.watch events. */
  readonly pollMs: number;
  readonly logger: Logger;
  /** Creates the folder if needed and checks that only this user can write it (and the registry folder). */
  readonly prepare: () => Promise<void>;
}

const watchDebounceMs = 20;
const errorCode = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code;

/**
 * Rule documents as files `<folder>/<encoded key>.<kind>` (see `ruleFileName`), each holding the
 * text as written. A file another user could write, a link or an oversized file is never used.
 */
export class EmbeddedRuleStore implements RuleStore {
  readonly folder: string;
  readonly #options: EmbeddedRuleStoreOptions;
  readonly #listeners: RuleListeners;
  /** The file signature last read per watched rule. */
  readonly #signatures = new Map<string, string>();
  /** Refused files already reported, so a poll does not report them again. */
  readonly #reported = new Set<string>();
  #prepared?: Promise<void>;
  #poll?: NodeJS.Timeout;
  #watcher?: FSWatcher;
  #soon?: NodeJS.Timeout;
  #scanning = false;
  #again = false;
  #refusal?: string;
  #closed = false;

  constructor(options: EmbeddedRuleStoreOptions) {
    this.folder = options.folder;
    this.#options = options;
    this.#listeners = new RuleListeners(options.logger, (id) => {
      this.#signatures.delete(ruleIdKey(id));
      if (this.#listeners.ids().length === 0) this.#stopWatching();
    });
  }

  async get(id: RuleId): Promise<string | undefined> {
    this.#check(id);
    await this.#ready();
    const file = await readRuleFile(this.#path(id)).catch((error: unknown) => {
      throw new RpcError(Code.UNAVAILABLE, `cannot read the rule file ${this.#path(id)}`, { cause: error });
    });
    if ('refused' in file) {
      throw new RpcError(Code.FAILED_PRECONDITION, `the rule file ${this.#path(id)} ${file.refused}: it is not used; remove it or write it again`,
        { details: { path: this.#path(id), reason: file.refused } });
    }
    return 'text' in file ? file.text : undefined;
  }

  async put(id: RuleId, text: string): Promise<void> {
    this.#check(id);
    const bytes = ruleBytes(text);
    await this.#ready();
    try {
      await writeAtomically(this.#path(id), bytes).catch(async (error: unknown) => {
        // The folder was removed since it was prepared: make it again, once.
        if (errorCode(error) !== 'ENOENT') throw error;
        this.#prepared = undefined;
        await this.#ready();
        await writeAtomically(this.#path(id), bytes);
      });
    } catch (error) {
      if (error instanceof RpcError) throw error;
      throw new RpcError(Code.UNAVAILABLE, `cannot write the rule file ${this.#path(id)}`, { cause: error });
    }
    this.#scanSoon();
  }

  async delete(id: RuleId): Promise<void> {
    this.#check(id);
    await this.#ready();
    try {
      await unlink(this.#path(id));
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw new RpcError(Code.UNAVAILABLE, `cannot remove the rule file ${this.#path(id)}`, { cause: error });
    }
    this.#scanSoon();
  }

  async list(): Promise<RuleId[]> {
    this.#assertOpen();
    await this.#ready();
    let names: string[];
    try {
      names = await readdir(this.folder);
    } catch (error) {
      throw new RpcError(Code.UNAVAILABLE, `cannot read the rules folder ${this.folder}`, { cause: error });
    }
    const found = await Promise.all(names.map(async (name) => {
      const id = parseRuleFileName(name);
      if (id === undefined) return undefined;
      // What get would refuse is not listed either.
      const info = await lstat(join(this.folder, name)).catch(() => undefined);
      return info?.isFile() && untrusted(info) === undefined ? id : undefined;
    }));
    return found.filter((id): id is RuleId => id !== undefined).sort(compareRuleIds);
  }

  watch(id: RuleId, onChange: (text: string | undefined) => void): Unsubscribe {
    this.#check(id);
    const { remove } = this.#listeners.add(id, onChange);
    this.#poll ??= setInterval(() => this.#scan(), this.#options.pollMs).unref();
    this.#scan();
    return remove;
  }

  /** Ends every watch; later calls fail with FAILED_PRECONDITION. The registry calls it when it closes. */
  stop(): void {
    this.#closed = true;
    this.#listeners.clear();
    this.#stopWatching();
  }

  /** Reads the watched rules whose files changed and tells their listeners. */
  #scan(): void {
    if (this.#closed || this.#poll === undefined) return;
    if (this.#scanning) {
      this.#again = true;
      return;
    }
    this.#scanning = true;
    this.#readWatched()
      .catch((error: unknown) => this.#options.logger.warn({ err: error, folder: this.folder }, 'rule scan failed'))
      .finally(() => {
        this.#scanning = false;
        if (this.#again) {
          this.#again = false;
          this.#scan();
        }
      });
  }

  async #readWatched(): Promise<void> {
    if (!(await this.#readyToWatch())) {
      // A refused folder holds no rule anyone may follow.
      for (const id of this.#listeners.ids()) this.#listeners.update(id, undefined);
      return;
    }
    this.#watchFolder();
    await Promise.all(this.#listeners.ids().map(async (id) => {
      const path = this.#path(id);
      const signature = await fileSignature(path);
      if (this.#signatures.get(ruleIdKey(id)) === signature) return;
      const file = await readRuleFile(path);
      if (this.#closed || !this.#listeners.has(id)) return;
      this.#signatures.set(ruleIdKey(id), signature);
      if ('refused' in file) this.#report(path, file.refused);
      this.#listeners.update(id, 'text' in file ? file.text : undefined);
    }));
  }

  /** Whether the folder may be read; a refusal is logged once, and tried again at every poll. */
  async #readyToWatch(): Promise<boolean> {
    try {
      await this.#ready();
    } catch (error) {
      const message = (error as Error).message;
      if (this.#refusal !== message) {
        this.#refusal = message;
        this.#options.logger.error({ err: error, folder: this.folder }, 'rules folder unusable; no rule will be followed');
      }
      return false;
    }
    this.#refusal = undefined;
    return true;
  }

  #report(path: string, reason: string): void {
    if (this.#reported.has(`${path}\0${reason}`)) return;
    this.#reported.add(`${path}\0${reason}`);
    this.#options.logger.warn({ file: path }, `ignoring a rule file that ${reason}: only files this user alone can write, of at most 1 MB, are used`);
  }

  #watchFolder(): void {
    if (this.#watcher || this.#closed || this.#poll === undefined) return;
    try {
      const watcher = watchFolder(this.folder, { persistent: false }, () => this.#scanSoon());
      watcher.on('error', () => {
        watcher.close();
        if (this.#watcher === watcher) this.#watcher = undefined;
      });
      this.#watcher = watcher;
    } catch {
      // no fs.watch here: polling covers it
    }
  }

  #scanSoon(): void {
    if (this.#poll === undefined || this.#closed) return;
    this.#soon ??= setTimeout(() => {
      this.#soon = undefined;
      this.#scan();
    }, watchDebounceMs).unref();
  }

  #stopWatching(): void {
    clearInterval(this.#poll);
    clearTimeout(this.#soon);
    this.#poll = undefined;
    this.#soon = undefined;
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  #ready(): Promise<void> {
    this.#prepared ??= this.#options.prepare().catch((error: unknown) => {
      this.#prepared = undefined;
      throw error;
    });
    return this.#prepared;
  }

  #path(id: RuleId): string {
    return join(this.folder, ruleFileName(id));
  }

  #check(id: RuleId): void {
    this.#assertOpen();
    checkRuleId(id);
    if (Buffer.byteLength(ruleFileName(id)) > 255) {
      throw new RpcError(Code.INVALID_ARGUMENT, `rule key ${JSON.stringify(id.key)} is too long for a file name once encoded (255 bytes at most)`);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new RpcError(Code.FAILED_PRECONDITION, 'the registry is closed');
  }
}
